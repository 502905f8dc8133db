"""Small-group rounds: the rotation settings, rounds, rooms and who is in which room."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Rotation(models.Model):
    """How a workshop's small-group rounds rotate: the mode, the group sizes and who stays where."""

    class Mode(models.TextChoices):
        GROUPS = "A", _("Plenary, then rotating groups")
        STATIONS = "B", _("Rotating stations")

    class LeadersStay(models.TextChoices):
        WITH_CASE = "case", _("Group leaders stay with their case")
        WITH_GROUP = "group", _("Group leaders stay with their group")

    workshop = models.OneToOneField(
        "workshops.Workshop", primary_key=True, on_delete=models.CASCADE, related_name="rotation"
    )
    mode = models.CharField(_("how groups rotate"), max_length=1, choices=Mode.choices, default=Mode.GROUPS)
    leaders_stay = models.CharField(
        _("group leaders"), max_length=8, choices=LeadersStay.choices, default=LeadersStay.WITH_CASE
    )
    min_size = models.PositiveSmallIntegerField(
        _("smallest group"), default=4, validators=[MinValueValidator(2), MaxValueValidator(50)]
    )
    max_size = models.PositiveSmallIntegerField(
        _("largest group"), default=7, validators=[MinValueValidator(2), MaxValueValidator(50)]
    )
    rooms = models.PositiveSmallIntegerField(
        _("number of rooms"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    remix = models.BooleanField(
        _("re-mix the groups every round"),
        default=True,
        help_text=_("People meet as many new people as possible. Off: the groups stay together all rounds."),
    )
    round_minutes = models.PositiveSmallIntegerField(
        _("round length (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    room_links = models.JSONField(_("video meeting links of the rooms"), default=list, blank=True)
    seed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")
        constraints = [
            models.CheckConstraint(condition=Q(min_size__lte=models.F("max_size")), name="rotation_sizes_in_order")
        ]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.mode}"


class Round(models.Model):
    """One round of small-group discussion; its rooms and members come from the rotation plan."""

    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", "number"]
        constraints = [models.UniqueConstraint(fields=["workshop", "number"], name="round_number_unique")]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.number}"


class Room(models.Model):
    """A small group's room in one round: its case or station, leader, link and the group's summary."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="rooms")
    index = models.PositiveSmallIntegerField()
    case = models.ForeignKey("workshops.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="rooms")
    leader = models.ForeignKey(
        "workshops.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="led_rooms"
    )
    meeting_url = models.URLField(_("room's video meeting link"), blank=True)
    summary = models.TextField(_("the group's summary"), blank=True)
    summary_updated_at = models.DateTimeField(null=True, blank=True)
    help_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        # By the column: by the relation, every query would join round (and on) to sort by its own ordering.
        ordering = ["round_id", "index"]
        constraints = [models.UniqueConstraint(fields=["round", "index"], name="room_index_unique_per_round")]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.label}"

    @property
    def label(self) -> str:
        """Rooms are called A, B, C … Z, AA, AB …"""
        index, label = self.index, ""
        while True:
            index, rest = divmod(index, 26)
            label = chr(ord("A") + rest) + label
            if index == 0:
                return label
            index -= 1


class RoomMember(models.Model):
    """A participant in a room for one round; ``left_at`` marks someone who has gone."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="members")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    participant = models.ForeignKey("workshops.Participant", on_delete=models.CASCADE, related_name="room_memberships")
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "participant"], name="one_room_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}: {self.participant_id}"
