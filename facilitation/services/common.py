"""What every part of the live services shares: the error people can fix and the locked live state."""

from __future__ import annotations

from django.utils.translation import gettext as _

from facilitation.models import PRESENCE_WINDOW, LiveState
from workshops.models import Workshop

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
JOIN_CODE_LENGTH = 6
__all__ = ["JOIN_CODE_ALPHABET", "JOIN_CODE_LENGTH", "OPEN_STATUSES", "PRESENCE_WINDOW", "LiveError", "live_state"]

OPEN_STATUSES = {Workshop.Status.PLANNED, Workshop.Status.INVITATIONS_SENT}


class LiveError(ValueError):
    """Something the person can correct; ``str()`` is the message to show them."""


def live_state(workshop: Workshop) -> LiveState:
    live, _created = LiveState.objects.get_or_create(workshop=workshop)
    return live


def _locked_live(workshop: Workshop) -> LiveState:
    live_state(workshop)
    return LiveState.objects.select_for_update(of=("self",)).select_related("current_phase").get(pk=workshop.pk)


def _require_live(workshop: Workshop, status: str | None = None) -> None:
    """A LiveError unless the workshop runs; ``status`` is its status when read afresh."""
    if (status or workshop.status) != Workshop.Status.LIVE:
        raise LiveError(_("The workshop is not running right now."))
