"""What a live page writes, whichever way it arrives: a form's POST (the views) or a frame on the page's
socket (``consumers.LiveConsumer``). Each returns what the author's page is told; the caller wraps it in an
HTTP response or a socket frame."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _

from config import throttle
from facilitation import realtime, selectors, services
from facilitation.permissions import LiveViewer
from facilitation.services import LiveError
from facilitation.services.voting import DuelTurn

CHECKED = {"on", "1", "true"}  # what a ticked checkbox posts, with or without the page's script


def int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# --- comments ----------------------------------------------------------------------------------------
def comment_body(viewer: LiveViewer, comment) -> dict:
    """The comment for its author's page, as a push carries it (``realtime.comment_payload``): its data and its
    text and meta as HTML in the viewer's language. The page's script builds the item from its template,
    marks it as the author's own and shows the tools the viewer may use, as it does for pushed ones. A new
    comment carries what was pushed; one stored before, or just edited, deleted or hidden, is rendered."""
    pushed = getattr(comment, "pushed", None)
    if pushed:
        return realtime.in_language(pushed, viewer.language)
    return {**realtime.comment_fields(comment), "html": realtime.comment_main_html(comment, viewer.language)}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def write_comment(viewer: LiveViewer, fields, *, address: str) -> tuple[int, dict]:
    """Store a comment or a reply from the composer's ``fields`` (a form post's, or a socket frame's JSON);
    the status and JSON body for its author's page: 201 stored, 200 stored before under the same
    ``client_id`` (a retry makes no copy), 400 refused, 429 over a rate limit (with ``retry_after``).
    Every refusal says why in the active language. ``address`` is the client's, for the rate limits."""
    retry_after = throttle.over_limit(
        "post", address=address, workshop_id=viewer.workshop.pk, person=viewer.identity_key
    )
    if retry_after is not None:
        return 429, {"error": throttle.message(), "retry_after": retry_after}
    try:
        client_id = uuid.UUID(_text(fields.get("client_id")) or str(uuid.uuid4()))
    except ValueError:
        return 400, {"error": _("This comment could not be saved. Please reload the page.")}
    try:
        comment, created = services.comment_create(
            viewer=viewer,
            phase_id=int_or_none(fields.get("phase")) or 0,
            prompt_id=int_or_none(fields.get("prompt")),
            parent_id=int_or_none(fields.get("parent")),
            text=_text(fields.get("text")),
            anonymous=_text(fields.get("anonymous")) in CHECKED,
            client_id=client_id,
            language=viewer.language,
            room_id=int_or_none(fields.get("room")),
        )
    except LiveError as error:
        return 400, {"error": str(error)}
    return (201 if created else 200), comment_body(viewer, comment)


# --- pairwise votes ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What asking for or answering a pair came to, over HTTP or the live socket alike."""

    status: int  # 200 (``turn``), 400 (refused: ``error``), 404 (not this workshop's phase), 429 (``retry_after``)
    turn: DuelTurn | None = None
    error: str = ""
    retry_after: int | None = None


def take_turn(viewer: LiveViewer, phase_id: int, service, *, request=None, counts=True, **arguments) -> Outcome:
    """Run a pair's ``service`` for the viewer, counted against the vote's rate limits when it ``counts``;
    refusals told apart (``_refusal``)."""
    if counts and (refused := _over_limit(viewer, request=request)):
        return refused
    try:
        return Outcome(200, turn=service(viewer=viewer, phase_id=phase_id, **arguments))
    except LiveError as error:
        return _refusal(error, foreign=selectors.phase_of_workshop(viewer, phase_id) is None)


def answer_duels(phase_id: int, answers: list[services.DuelAnswer], addresses: list[str]) -> list[Outcome]:
    """Several voters' answers in one phase at once (``services.duel_answers``): the outcome ``take_turn``
    gives each, in the active language. Each is counted against the rate limits (``addresses``: the
    voters' client addresses); the voters are different people of one workshop."""
    outcomes: list[Outcome | None] = [
        _over_limit(answer.viewer, address=address) for answer, address in zip(answers, addresses, strict=True)
    ]
    allowed = [index for index, outcome in enumerate(outcomes) if outcome is None]
    results = services.duel_answers(phase_id=phase_id, answers=[answers[i] for i in allowed]) if allowed else []
    foreign = None  # whether the phase is not the workshop's: read once, for the first refusal
    for index, result in zip(allowed, results, strict=True):
        if isinstance(result, LiveError):
            if foreign is None:
                foreign = selectors.phase_of_workshop(answers[index].viewer, phase_id) is None
            outcomes[index] = _refusal(result, foreign=foreign)
        else:
            outcomes[index] = Outcome(200, turn=result)
    return outcomes


def _over_limit(viewer: LiveViewer, *, request=None, address=None) -> Outcome | None:
    """A 429 when the vote goes over a rate limit (the client address is the request's, or ``address``)."""
    retry_after = throttle.over_limit(
        "vote", request=request, address=address, workshop_id=viewer.workshop.pk, person=viewer.identity_key
    )
    return None if retry_after is None else Outcome(429, error=throttle.message(), retry_after=retry_after)


def _refusal(error: LiveError, *, foreign: bool) -> Outcome:
    """The service checks that the phase is the workshop's current one, so the callers read the phase only
    when refusing: another workshop's phase (or none, ``foreign``) is a 404, as everywhere; otherwise a
    400 says why."""
    if foreign:
        return Outcome(404, error=_("There is no voting in this part of the workshop."))
    return Outcome(400, error=str(error))
