"""Ideas and how they are prioritised: pairwise duels, dots and 1–5 ratings.

An idea belongs to an idea-collection phase. A prioritisation phase ranks the
ideas of its ``idea_source``. Counters on ``Idea`` are kept by the vote
services with ``F()`` updates, so choosing the next pair never counts rows;
the ``Duel`` and ``Ballot`` rows are the truth the ranking is computed from.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilitation.models.live import Authored

IDEA_MAX_LENGTH = 1000  # the hard limit; each phase sets its own, shorter one


class Idea(Authored, models.Model):
    """A short idea submitted in an idea-collection phase; ``client_id`` makes a retried POST harmless."""

    client_id = models.UUIDField(unique=True)
    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="ideas"
    )
    phase = models.ForeignKey("Phase", verbose_name=_("phase"), on_delete=models.PROTECT, related_name="ideas")
    text = models.TextField(_("idea"), max_length=IDEA_MAX_LENGTH)
    author_participant = models.ForeignKey(
        "workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    can_run = models.BooleanField(_("I can run this"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    moderated_at = models.DateTimeField(_("edited by moderator"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    # Kept by the vote services; a merged idea's counts are added to its survivor.
    shown = models.PositiveIntegerField(default=0)  # pairs handed out, answered or not
    wins = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["phase", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_participant__isnull=True) | Q(author_user__isnull=True), name="idea_has_one_author"
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("pk")), name="idea_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.text[:40]}"

    @property
    def appearances(self) -> int:
        """Duels this idea was decided in (a "can't decide" is not a comparison)."""
        return self.wins + self.losses

    @property
    def is_active(self) -> bool:
        """Still in the running: not hidden and not merged into another idea."""
        return self.hidden_at is None and self.merged_into_id is None


class Duel(models.Model):
    """A pair of ideas shown to one voter; answering it is the vote, once (a double click changes nothing)."""

    class Choice(models.TextChoices):
        LEFT = "left", _("The first one")
        RIGHT = "right", _("The second one")
        SKIP = "skip", _("Can't decide")

    phase = models.ForeignKey("Phase", on_delete=models.CASCADE, related_name="duels")
    left = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    # The voter is forgotten when the workshop closes (votes stay).
    voter_participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL)
    voter_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    shown_at = models.DateTimeField(default=timezone.now)
    choice = models.CharField(max_length=5, choices=Choice.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["phase", "voter_participant"]),
            models.Index(fields=["phase", "voter_user"]),
            models.Index(fields=["phase", "answered_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(left=models.F("right")), name="duel_two_different_ideas"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} vs {self.right_id}: {self.choice or '-'}"

    @property
    def winner_id(self) -> int | None:
        return {self.Choice.LEFT: self.left_id, self.Choice.RIGHT: self.right_id}.get(self.choice)

    @property
    def loser_id(self) -> int | None:
        return {self.Choice.LEFT: self.right_id, self.Choice.RIGHT: self.left_id}.get(self.choice)


class Ballot(models.Model):
    """One voter's dots on an idea (dot voting) or their 1–5 rating of it."""

    phase = models.ForeignKey("Phase", on_delete=models.CASCADE, related_name="ballots")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="ballots")
    voter_participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL)
    voter_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    value = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(500)])
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "idea", "voter_participant"],
                condition=Q(voter_participant__isnull=False),
                name="ballot_once_guest",
            ),
            models.UniqueConstraint(
                fields=["phase", "idea", "voter_user"], condition=Q(voter_user__isnull=False), name="ballot_once_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.value}"
