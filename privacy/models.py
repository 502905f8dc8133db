"""Data protection records: when a workshop's personal data was erased, and who asked for their own to go.

Neither holds personal data itself: an erasure names the workshop, the
facilitator (or none: the retention rule) and counts; a deletion request
points at a participant row that an erasure turns into a pseudonym.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """Personal data of a workshop (or of one participant in it) erased: who, when, how much."""

    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="erasures"
    )
    # False when only one person's data was erased (``participant``; the row itself is a pseudonym by then).
    whole_workshop = models.BooleanField(_("the whole workshop"), default=True)
    participant = models.ForeignKey(
        "workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erased by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    automatic = models.BooleanField(_("by the retention rule"), default=False)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    participants = models.PositiveIntegerField(_("participants"), default=0)
    exports = models.PositiveIntegerField(_("export files deleted"), default=0)

    class Meta:
        verbose_name = _("erasure of personal data")
        verbose_name_plural = _("erasures of personal data")
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.erased_at:%Y-%m-%d}"


class DeletionRequest(models.Model):
    """A participant asked, through their own link, for their personal data to be deleted."""

    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="deletion_requests"
    )
    participant = models.ForeignKey(
        "workshops.Participant", verbose_name=_("participant"), on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("deletion request")
        verbose_name_plural = _("deletion requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=Q(handled_at__isnull=True), name="one_open_deletion_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.participant_id}"

    @property
    def is_open(self) -> bool:
        return self.handled_at is None
