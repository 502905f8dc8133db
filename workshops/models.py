"""Workshops, their cases and the people taking part.

A participant is a first-class identity inside one workshop and needs no
account: they arrive with a personal invitation link whose token is stored
only as a hash.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Workshop(models.Model):
    class Format(models.TextChoices):
        PARASTAMINEN_A = "parastaminen_a", _("Parastaminen A: plenary, then rotating groups")
        PARASTAMINEN_B = "parastaminen_b", _("Parastaminen B: rotating stations")
        LARGE_EVENT = "large_event", _("Large event: idea collection and prioritisation")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PLANNED = "planned", _("Planned")
        INVITATIONS_SENT = "invitations_sent", _("Invitations sent")
        LIVE = "live", _("Live")
        CLOSED = "closed", _("Closed")
        ARCHIVED = "archived", _("Archived")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="workshops"
    )
    title = models.CharField(_("title"), max_length=200)
    goal = models.TextField(_("theme and goal"), blank=True)
    format = models.CharField(_("format"), max_length=32, choices=Format.choices, default=Format.PARASTAMINEN_A)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.REQUESTED)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="fi")
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=120)
    meeting_url = models.URLField(_("video meeting link"), blank=True)
    expected_participants = models.PositiveIntegerField(_("expected number of participants"), null=True, blank=True)
    preferred_dates = models.TextField(_("preferred dates and times"), blank=True)
    invited_groups = models.JSONField(_("groups to invite"), default=list, blank=True)
    case_proposals = models.TextField(_("proposals for the case presentations"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    duplicated_from = models.ForeignKey(
        "self", verbose_name=_("copied from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_accepted(self) -> bool:
        return self.status not in {self.Status.REQUESTED, self.Status.DECLINED, self.Status.CANCELLED}

    @property
    def ends_at(self):
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.duration_minutes) if self.starts_at else None


class WorkshopStatusChange(models.Model):
    """One step of a workshop's status workflow: who moved it, when, and why."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=32, choices=Workshop.Status.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=Workshop.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.from_status} -> {self.to_status}"


class Case(models.Model):
    """A case example (tapausesimerkki): one good practice presented in the workshop."""

    workshop = models.ForeignKey(Workshop, verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    title = models.CharField(_("title"), max_length=200)
    presenter_name = models.CharField(_("presenter's name"), max_length=150, blank=True)
    presenter_email = models.EmailField(_("presenter's e-mail"), blank=True)
    description = models.TextField(_("short description"), blank=True)
    material_url = models.URLField(_("link to material"), blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    """Someone taking part in one workshop; no account or password needed."""

    class Role(models.TextChoices):
        PARTICIPANT = "participant", _("Participant")
        PRESENTER = "presenter", _("Presenter")
        GROUP_LEADER = "group_leader", _("Group leader")

    class RoleGroup(models.TextChoices):
        STAFF = "staff", _("Staff")
        ELECTED_OFFICIAL = "elected_official", _("Elected official")
        RESIDENT = "resident", _("Resident")
        ASSOCIATION = "association", _("Association")
        ENTREPRENEUR = "entrepreneur", _("Entrepreneur")
        OTHER = "other", _("Other")

    workshop = models.ForeignKey(
        Workshop, verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="participants"
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail address"), blank=True)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    role_group = models.CharField(_("role group"), max_length=32, choices=RoleGroup.choices, blank=True)
    role = models.CharField(_("role in the workshop"), max_length=32, choices=Role.choices, default=Role.PARTICIPANT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="participations",
    )

    class InvitationStatus(models.TextChoices):
        NOT_INVITED = "not_invited", _("Not invited")
        QUEUED = "queued", _("Queued")
        # On its way: the mail is being handed to the mail server (a worker that dies here leaves it so).
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Invited")
        FAILED = "failed", _("Sending failed")

    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    invitation_status = models.CharField(
        _("invitation"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.NOT_INVITED
    )
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    invitation_error = models.CharField(_("sending error"), max_length=300, blank=True)
    token_revoked_at = models.DateTimeField(_("link revoked"), null=True, blank=True)
    # Raised when the browsers this person joined with must be shut out (link revoked, data erased); each
    # guest session stores the value it came in with (workshops/guests.py). Re-sent invitations leave it.
    access_version = models.PositiveIntegerField(default=0, editable=False)
    first_joined_at = models.DateTimeField(_("first joined"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # A school's team may follow a live stream on one shared screen: "we are a team of N".
    team_size = models.PositiveSmallIntegerField(
        _("people on this screen"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "workshop", condition=~Q(email=""), name="participant_email_unique_per_workshop"
            )
        ]

    def __str__(self) -> str:
        return self.name


class InvitationBatch(models.Model):
    """One "send invitations" request; its counters show the progress on the page."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Sending")
        DONE = "done", _("Done")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="invitation_batches")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    participants = models.ManyToManyField(Participant, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation batch")
        verbose_name_plural = _("invitation batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.sent + self.failed}/{self.total}"


class WorkshopTemplate(models.Model):
    """A reusable workshop plan saved by a facilitator: agenda, prompts, timings, room and survey settings.

    ``data`` is the same document a template file holds (see ``workshops.methods``),
    so saving, sharing, exporting and importing all go through one format.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="workshop_templates",
    )
    shared = models.BooleanField(
        _("share with my organisation"),
        default=False,
        help_text=_("Everyone who runs workshops in your organisation can use it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="workshop_templates"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("workshop template")
        verbose_name_plural = _("workshop templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
