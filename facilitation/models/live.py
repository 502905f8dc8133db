"""The live workshop: its agenda of phases, the live state, comments, reactions and the event log.

PostgreSQL is the source of truth. Every change everyone should see is also
written to ``Event`` (an increasing id per change), so a client that lost its
connection asks for what it missed; the channel layer may lose messages.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

COMMENT_MAX_LENGTH = 4000
PRESENCE_WINDOW = timedelta(seconds=75)  # a page that has not been heard of for longer is not "here"


class Phase(models.Model):
    """One step of a workshop's agenda, with its planned duration and instructions."""

    class Kind(models.TextChoices):
        INTRO = "intro", _("Welcome and introduction")
        PRESENTATION = "presentation", _("Case presentation")
        REFLECTION = "reflection", _("Individual reflection")
        DISCUSSION = "discussion", _("Discussion")
        ROUNDS = "rounds", _("Small-group rounds")
        BREAK = "break", _("Break")
        WRAP_UP = "wrap_up", _("Wrap-up")
        FEEDBACK = "feedback", _("Feedback")
        IDEAS = "ideas", _("Idea collection")
        PRIORITISATION = "prioritisation", _("Prioritisation")

    class Voting(models.TextChoices):
        PAIRWISE = "pairwise", _("Pairwise duels: which of these two matters more?")
        DOTS = "dots", _("Dot voting")
        RATING = "rating", _("Rating from 1 to 5")

    # Phases where people write: a case presentation collects observations and
    # questions on the case; the others collect answers to their prompts.
    WRITING_KINDS = frozenset({Kind.PRESENTATION, Kind.REFLECTION, Kind.DISCUSSION, Kind.WRAP_UP})
    CASE_KINDS = frozenset({Kind.PRESENTATION, Kind.REFLECTION})

    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="phases"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DISCUSSION)
    title = models.CharField(_("title"), max_length=200)
    duration_minutes = models.PositiveSmallIntegerField(
        _("planned duration (minutes)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    instructions = models.TextField(_("instructions"), blank=True)
    case = models.ForeignKey(
        "workshops.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="phases",
    )
    private_first = models.BooleanField(
        _("write first, reveal later"),
        default=False,
        help_text=_("Each participant sees only their own answers until the facilitator reveals them."),
    )
    revealed_at = models.DateTimeField(_("revealed"), null=True, blank=True)
    # Idea collection
    idea_max_length = models.PositiveSmallIntegerField(
        _("longest idea (characters)"), default=280, validators=[MinValueValidator(20), MaxValueValidator(1000)]
    )
    ideas_public = models.BooleanField(
        _("everyone sees the ideas as they arrive"),
        default=True,
        help_text=_("Off: each participant sees only their own ideas; the facilitators see all."),
    )
    offers_to_run = models.BooleanField(
        _("people can offer to run their idea"),
        default=False,
        help_text=_("For pop-up sessions: an idea can say “I can run this”."),
    )
    # Prioritisation
    idea_source = models.ForeignKey(
        "self",
        verbose_name=_("ideas from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The idea collection whose ideas are prioritised; empty: the nearest one before this phase."),
    )
    voting = models.CharField(_("how people vote"), max_length=16, choices=Voting.choices, default=Voting.PAIRWISE)
    min_appearances = models.PositiveSmallIntegerField(
        _("comparisons before an idea is ranked"),
        default=6,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
    )
    dots_per_person = models.PositiveSmallIntegerField(
        _("dots per person"), default=5, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    results_open_at = models.DateTimeField(_("results shown to participants"), null=True, blank=True)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def has_threads(self) -> bool:
        return self.kind in self.WRITING_KINDS

    @property
    def collects_ideas(self) -> bool:
        return self.kind == self.Kind.IDEAS

    @property
    def prioritises(self) -> bool:
        return self.kind == self.Kind.PRIORITISATION

    @property
    def is_private(self) -> bool:
        """Answers are visible only to their authors until the facilitator reveals them."""
        return self.private_first and self.revealed_at is None


class Prompt(models.Model):
    """A question people answer in a phase, e.g. "What did I learn?"."""

    phase = models.ForeignKey(Phase, verbose_name=_("phase"), on_delete=models.CASCADE, related_name="prompts")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    text = models.CharField(_("prompt"), max_length=300)

    class Meta:
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        # By the column: by the relation, every query would join phase (and on) to sort by its own ordering.
        ordering = ["phase_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class LiveState(models.Model):
    """Where a workshop is right now: current phase, timer, broadcast, join code."""

    workshop = models.OneToOneField(
        "workshops.Workshop", primary_key=True, on_delete=models.CASCADE, related_name="live"
    )
    current_phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    # A running timer is a deadline; a paused one is the seconds left.
    timer_deadline = models.DateTimeField(null=True, blank=True)
    timer_remaining = models.PositiveIntegerField(null=True, blank=True)
    broadcast_text = models.CharField(max_length=500, blank=True)
    broadcast_at = models.DateTimeField(null=True, blank=True)
    join_code = models.CharField(max_length=12, unique=True, null=True, blank=True)
    join_code_enabled = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("live state")
        verbose_name_plural = _("live states")

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.current_phase_id}"

    @property
    def timer_running(self) -> bool:
        return self.timer_deadline is not None

    def seconds_left(self, now=None) -> int | None:
        if self.timer_deadline is not None:
            now = now or timezone.now()
            return max(0, round((self.timer_deadline - now).total_seconds()))
        return self.timer_remaining


class Authored:
    """What comments and ideas share about who wrote them (``author_participant`` / ``author_user``, ``anonymous``)."""

    @property
    def author_name(self) -> str:
        """The name shown with it; empty for an anonymous one, whoever asks."""
        if self.anonymous:
            return ""
        if self.author_participant is not None:
            return self.author_participant.name
        if self.author_user is not None:
            return self.author_user.name or str(_("Organiser"))
        return ""

    def is_by(self, *, participant=None, user=None) -> bool:
        if participant is not None and self.author_participant_id == participant.pk:
            return True
        return user is not None and user.is_authenticated and self.author_user_id == user.pk


class Comment(Authored, models.Model):
    """An observation, question, reflection answer or reply, written live.

    ``client_id`` is made by the browser before sending, so a retried POST
    finds the comment it already created instead of making a second one.
    """

    client_id = models.UUIDField(unique=True)
    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="comments"
    )
    phase = models.ForeignKey(Phase, verbose_name=_("phase"), on_delete=models.PROTECT, related_name="comments")
    case = models.ForeignKey(
        "workshops.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
    )
    prompt = models.ForeignKey(
        Prompt, verbose_name=_("prompt"), null=True, blank=True, on_delete=models.PROTECT, related_name="comments"
    )
    round = models.ForeignKey(
        "Round", verbose_name=_("round"), null=True, blank=True, on_delete=models.PROTECT, related_name="comments"
    )
    room = models.ForeignKey(
        "Room", verbose_name=_("room"), null=True, blank=True, on_delete=models.PROTECT, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("reply to"), null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author_participant = models.ForeignKey(
        "workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    text = models.TextField(_("text"), max_length=COMMENT_MAX_LENGTH)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["phase", "prompt", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_participant__isnull=True) | Q(author_user__isnull=True),
                name="comment_has_one_author",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.text[:40]}"

    @property
    def thread_key(self) -> str:
        return room_thread_key(self.room_id) if self.room_id else thread_key(self.phase_id, self.prompt_id)

    @property
    def is_removed(self) -> bool:
        return self.deleted_at is not None


def thread_key(phase_id: int, prompt_id: int | None) -> str:
    """The name a thread has on the page and in events: one per phase, or one per prompt."""
    return f"p{phase_id}-q{prompt_id or 0}"


def room_thread_key(room_id: int) -> str:
    """A room's discussion notes are one thread per room (and so per round)."""
    return f"r{room_id}"


class Reaction(models.Model):
    """One person's reaction to a comment; at most one per person and comment."""

    class Kind(models.TextChoices):
        AGREE = "agree", _("Agree")
        GOOD_POINT = "good_point", _("Good point")

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "participant"], condition=Q(participant__isnull=False), name="reaction_once_guest"
            ),
            models.UniqueConstraint(
                fields=["comment", "user"], condition=Q(user__isnull=False), name="reaction_once_user"
            ),
            models.CheckConstraint(
                condition=Q(participant__isnull=False, user__isnull=True)
                | Q(participant__isnull=True, user__isnull=False),
                name="reaction_has_one_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.comment_id}: {self.kind}"


class Event(models.Model):
    """One change pushed to the browsers, kept so a reconnecting client can catch up.

    ``audience`` is everyone in the workshop, its facilitators, or one person
    (an answer in a "write first, reveal later" phase).
    """

    class Audience(models.TextChoices):
        ALL = "all"
        STAFF = "staff"
        PERSON = "person"
        ROOM = "room"  # the room's members and leader, and the facilitators

    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.ALL)
    participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    room = models.ForeignKey("Room", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["workshop", "id"])]

    def __str__(self) -> str:
        return f"{self.pk}: {self.kind}"


class Presence(models.Model):
    """One open connection (WebSocket) or polling page; counts who is here right now."""

    key = models.CharField(max_length=200, unique=True)
    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey("workshops.Participant", null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workshop", "seen_at"])]

    def __str__(self) -> str:
        return self.key
