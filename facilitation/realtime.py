"""The only place that names live groups and sends to them.

Pushes go through ``facilitation.fanout``: one Redis publish per event, one subscription per workshop
per server process, each language's frame built once per process (not through the channel layer,
whose one message per recipient is the textbook cost). Every push is sent inside
``transaction.on_commit``: nobody sees a change that could still roll back. Durable events are
written to ``Event`` first, so a client that missed the push fetches it by id; ephemeral ones
(presence counts) are only pushed.

Text shown to people is rendered once per interface language and stored under
``payload["i18n"][language]``; ``event_for_client`` picks the viewer's one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models import Expression, Value
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from facilitation import fanout
from facilitation.models import Event, Phase

if TYPE_CHECKING:
    from facilitation.models import Comment, LiveState
    from facilitation.permissions import LiveViewer


def _group_all(workshop_id: int) -> str:
    return f"w{workshop_id}"


def _group_staff(workshop_id: int) -> str:
    return f"w{workshop_id}.staff"


def _group_person(workshop_id: int, *, participant_id: int | None = None, user_id: int | None = None) -> str:
    return f"w{workshop_id}.p{participant_id}" if participant_id else f"w{workshop_id}.u{user_id}"


def _group_room(workshop_id: int, room_id: int) -> str:
    return f"w{workshop_id}.r{room_id}"


def room_groups(workshop_id: int, room_ids) -> list[str]:
    """The groups of the rooms a viewer is in or leads (the consumer reads the ids from the database)."""
    return [_group_room(workshop_id, room_id) for room_id in sorted(room_ids)]


def groups_for(viewer: LiveViewer) -> list[str]:
    """The groups a viewer's connection joins: everyone, their own, and staff for facilitators."""
    workshop_id = viewer.workshop.pk
    groups = [_group_all(workshop_id)]
    if viewer.participant is not None:
        groups.append(_group_person(workshop_id, participant_id=viewer.participant.pk))
    elif viewer.user is not None:
        groups.append(_group_person(workshop_id, user_id=viewer.user.pk))
    if viewer.is_staff:
        groups.append(_group_staff(workshop_id))
    return groups


def _send_after_commit(workshop_id: int, groups: list[str], message: dict) -> None:
    transaction.on_commit(lambda: fanout.publish(workshop_id, groups, message))


def _audience_groups(event: Event) -> list[str]:
    if event.audience == Event.Audience.ALL:
        return [_group_all(event.workshop_id)]
    if event.audience == Event.Audience.STAFF:
        return [_group_staff(event.workshop_id)]
    if event.audience == Event.Audience.ROOM:
        return [_group_room(event.workshop_id, event.room_id), _group_staff(event.workshop_id)]
    return [_group_person(event.workshop_id, participant_id=event.participant_id, user_id=event.user_id)]


def publish(*, workshop_id: int, kind: str, payload: dict, **audience) -> Event:
    """Record an event and push it to its audience after commit (``audience``: as ``_new_event``)."""
    event = _new_event(workshop_id, kind, payload, **audience)
    event.save(force_insert=True)
    _push(event)
    return event


def _new_event(
    workshop_id: int,
    kind: str,
    payload: dict,
    *,
    audience: str = Event.Audience.ALL,
    participant_id: int | None = None,
    user_id: int | None = None,
    room_id: int | None = None,
) -> Event:
    return Event(
        workshop_id=workshop_id,
        kind=kind,
        payload=payload,
        audience=audience,
        participant_id=participant_id if audience == Event.Audience.PERSON else None,
        user_id=user_id if audience == Event.Audience.PERSON and not participant_id else None,
        room_id=room_id if audience == Event.Audience.ROOM else None,
    )


def _push(event: Event) -> None:
    message = {"id": event.pk, "kind": event.kind, "data": event.payload}
    _send_after_commit(event.workshop_id, _audience_groups(event), message)


_NEXTVAL = "nextval(pg_get_serial_sequence(%s, %s))"


def next_id(model: type[models.Model]) -> Expression:
    """The next id of ``model``'s table taken from its sequence, as a column of a read the write makes anyway
    (``create_with_event`` then inserts the row under it); NULL where there is no sequence (SQLite)."""
    if connection.vendor != "postgresql":
        return Value(None, output_field=models.BigIntegerField())
    meta = model._meta
    # A constant text; the table's and column's names go as parameters.
    return RawSQL(_NEXTVAL, [meta.db_table, meta.pk.column], output_field=models.BigIntegerField())  # noqa: S611


def create_with_event(
    row: models.Model, *, workshop_id: int, kind: str, payload: Callable[[], dict], **audience
) -> Event:
    """Insert the new ``row`` and the event that tells of it, and push the event after commit (as ``publish``).

    On PostgreSQL both go in one statement (``WITH … INSERT … INSERT``), atomic by itself: outside a
    transaction that is one round trip instead of four (BEGIN, two INSERTs, COMMIT), each a wait before the
    push while a live event keeps the cores busy (bench S1). ``payload`` is called once the row has its id
    (its HTML names it): the one reserved with ``next_id``, else one taken from the sequence here. Elsewhere
    (SQLite) the two are saved in a transaction. A refused row (``IntegrityError``) leaves neither.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            row.save(force_insert=True)
            return publish(workshop_id=workshop_id, kind=kind, payload=payload(), **audience)
    meta = row._meta
    if row.pk is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_NEXTVAL}", [meta.db_table, meta.pk.column])
            row.pk = cursor.fetchone()[0]
    event = _new_event(workshop_id, kind, payload(), **audience)
    (row_sql, row_params), (event_sql, event_params) = (_insert(row), _insert(event))
    returning = connection.ops.quote_name(Event._meta.pk.column)
    # In a caller's transaction a refused statement would spoil it: a savepoint keeps it usable.
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(f"WITH created AS ({row_sql}) {event_sql} RETURNING {returning}", (*row_params, *event_params))
        event.pk = cursor.fetchone()[0]
    for saved in (row, event):
        saved._state.adding, saved._state.db = False, connection.alias
    _push(event)
    return event


def _insert(row: models.Model) -> tuple[str, tuple]:
    """Django's own ``INSERT`` of one new row (its fields prepared as ``save`` prepares them), without running it;
    the id is left to the sequence unless the row has one."""
    meta = row._meta
    fields = [field for field in meta.local_concrete_fields if row.pk is not None or field is not meta.auto_field]
    query = InsertQuery(type(row))
    query.insert_values(fields, [row])
    [(sql, params)] = query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()
    return sql, tuple(params)


def publish_ephemeral(
    *,
    workshop_id: int,
    kind: str,
    payload: dict,
    staff_only: bool = False,
    person: LiveViewer | None = None,
    room_id: int | None = None,
) -> None:
    """Push without recording (presence counts, "this one is yours", a room's new panel) to everyone, the
    staff, one person or one room's members and leader; lost pushes are fine here."""
    if room_id is not None:
        groups = [_group_room(workshop_id, room_id)]
    elif person is not None:
        participant_id = person.participant.pk if person.participant else None
        groups = [_group_person(workshop_id, participant_id=participant_id, user_id=person.user and person.user.pk)]
    elif staff_only:
        groups = [_group_staff(workshop_id)]
    else:
        groups = [_group_all(workshop_id)]
    _send_after_commit(workshop_id, groups, {"id": None, "kind": kind, "data": payload})


def publish_coalesced(*, workshop_id: int, kind: str, payload: Callable[[], dict], staff_only: bool = False) -> None:
    """Push an ephemeral event soon, at most about once a second per workshop and kind in this process.

    ``payload`` is called (in a worker thread, it may query) when the push goes out, so the last push
    of a burst carries the settled state. Callable from any thread and from async code; where this
    process serves no sockets (Celery worker) it pushes at once.
    """

    def push() -> None:
        publish_ephemeral(workshop_id=workshop_id, kind=kind, payload=payload(), staff_only=staff_only)

    fanout.debounce((workshop_id, kind, staff_only), push)


def access_recheck(*, workshop_id: int, participant_id: int | None = None) -> None:
    """After commit, have the open connections of one participant (or, without one, of the whole workshop)
    check again whether they may stay; those that may not are closed.

    Handled by ``LiveConsumer.live_control("recheck")``; sent when a link is revoked or data erased.
    """
    group = _group_person(workshop_id, participant_id=participant_id) if participant_id else _group_all(workshop_id)
    transaction.on_commit(lambda: fanout.publish(workshop_id, [group], control="recheck"))


def rooms_changed(*, workshop_id: int, number: int, participant_id: int, room_ids) -> None:
    """Someone's rooms changed (moved, placed on arrival, marked gone): ``rooms.changed`` to their own pages,
    which also re-read which rooms they hear, and to the rooms of the running round they left or joined (their
    leaders' consoles list the members; the facilitators hear every room), or to the facilitators alone when
    no running room changed. Everyone else's panel stays as it is: a thousand pages need not ask for theirs."""
    rooms = [{"audience": Event.Audience.ROOM, "room_id": room_id} for room_id in sorted(set(room_ids))]
    for where in [
        {"audience": Event.Audience.PERSON, "participant_id": participant_id},
        *(rooms or [{"audience": Event.Audience.STAFF}]),
    ]:
        publish(workshop_id=workshop_id, kind="rooms.changed", payload={"round": number}, **where)
    group = _group_person(workshop_id, participant_id=participant_id)
    transaction.on_commit(lambda: fanout.publish(workshop_id, [group], control="resubscribe"))


def resubscribe(*, workshop_id: int) -> None:
    """After commit, tell every open connection of the workshop to re-read which rooms it belongs to.

    Handled by ``LiveConsumer.live_control("resubscribe")``.
    """
    transaction.on_commit(lambda: fanout.publish(workshop_id, [_group_all(workshop_id)], control="resubscribe"))


def event_for_client(event: dict, language: str, *, now: str | None = None) -> dict:
    """The event as one viewer receives it: only their language's text, plus the server's clock.

    Built from the event payload alone, which never names an anonymous author.
    """
    data = in_language(event["data"], language)
    return {"id": event["id"], "kind": event["kind"], "data": data, "now": now or timezone.now().isoformat()}


def in_language(payload: dict, language: str) -> dict:
    """A payload with its ``i18n`` replaced by the parts in ``language`` (the default language's if missing)."""
    data = dict(payload)
    localized = data.pop("i18n", None)
    if localized:
        data.update(localized.get(language) or localized.get(settings.LANGUAGE_CODE) or {})
    return data


def render_in(language: str, template: str, context: dict) -> str:
    with translation.override(language):
        return render_to_string(template, context)


def _rendered(template: str, context: dict) -> dict:
    return {code: {"html": render_in(code, template, context)} for code, _name in settings.LANGUAGES}


def csrf_slot() -> str:
    """The placeholder that shared copies of page parts carry for the CSRF token, which is per browser: each
    answer (or the page, for a pushed panel) fills in its own. The same in every process, and unguessable so
    that no other text happens to contain it."""
    return "csrf-" + salted_hmac("facilitation.rooms_overview", "csrf-slot").hexdigest()[:24]


def mark_own(html: str, mine: set[int], reactions: dict[int, str]) -> str:
    """A shared copy of a panel (in which nothing is anyone's) with one viewer's marks, as their own render has
    them: their comments marked ``data-mine`` with the edit and delete tools shown, their reactions pressed.

    The page's script marks the same (decorate()); this is for a page without it. Each comment's marks lie
    between its opening tag and the end of its ``<article>`` (its replies come after), so a comment not in
    the copy, or without tools (a deleted one), is left as it is.
    """
    found = []
    for pk in mine | reactions.keys():
        start = html.find(f' id="comment-{pk}" data-comment="{pk}"')
        end = html.find("</article>", start)
        if start >= 0 and end >= 0:
            found.append((start, end, pk))
    pieces, done = [], 0
    for start, end, pk in sorted(found):
        part = html[start:end]
        if pk in mine:
            tag_end = part.index(">")
            part = part[:tag_end] + " data-mine" + part[tag_end:]
            part = part.replace(" data-owner hidden>", " data-owner>", 1)
        if pk in reactions:
            pressed = f'data-reaction="{reactions[pk]}" aria-pressed='
            part = part.replace(pressed + '"false"', pressed + '"true"', 1)
        pieces += [html[done:start], part]
        done = end
    pieces.append(html[done:])
    return "".join(pieces)


# When the phase or the round changes, every screen asks for the new panel within a quarter of a second: a
# thousand renders at once kept one server busy for tens of seconds (bench S5). A plain participant's panel is
# the same for all of them (in the rounds, for all of a room's members), so it is rendered once per change of
# the workshop (or room) and language and shared through the cache (see ``selectors.shared_panel_key`` and
# ``shared_panels``); each page then marks its own comments and reactions, as it does for pushed comments, and
# the live page has them marked by the server. A phase change carries everyone's copy, and when a round starts
# each room's copy is pushed to the room (``round_panels``). Every change a copy shows makes an event, and with
# it a new key: comments and their marks, rooms and rounds, the phase and edits to it (``phase_update`` shows
# the edited phase again). What makes none (a case's text, a leader's name, a room's meeting link) shows within
# PANEL_CACHE_SECONDS. In a quiet room a copy used to be rendered anew every 5 s (110 ms of CPU at 10,000
# comments, bench H1).
PANEL_CACHE_SECONDS = 30


def shared_panels(viewer: LiveViewer, read, languages, *, limit: int | None = None) -> dict[str, str] | None:
    """The copy of the current phase's panel that ``viewer`` shares with others like them, in each of
    ``languages`` (read once, rendered and kept where the cache has none yet), with the CSRF placeholder; None
    when the viewer's panel is their own. ``read``: ``selectors.live_read(viewer, shared=True)``."""
    from facilitation import selectors

    limit = selectors.THREAD_LATEST if limit is None else limit
    copies, page = {}, None
    for language in languages:
        key = selectors.shared_panel_key(viewer, limit, language, read=read)
        if key is None:
            return None
        html = cache.get(key)
        if html is None:
            page = page or selectors.live_page(viewer, limit=limit, shared=True, state=read.state)
            html = _panel_html(page, viewer, language)
            cache.set(key, html, PANEL_CACHE_SECONDS)
        copies[language] = html
    return copies


def round_panels(workshop, number: int) -> None:
    """Push each room of round ``number`` its panel as the room's plain members see it (an ephemeral
    ``round.panel`` to the room, in each language). Their pages show it instead of a thousand asking at once,
    each for their own room (bench S5: 36 s for the last of 1,000). The page around the rooms is read once and
    the rooms all together (``selectors.rooms_as_members_see_them``); rooms whose members all have their own
    panel (leaders, presenters) get none. Run after the round started (``tasks.round_panels_publish``); a page
    whose push does not come asks for its panel."""
    from facilitation import selectors
    from facilitation.permissions import LiveViewer

    def member(participant) -> LiveViewer:
        return LiveViewer(
            workshop=workshop, participant=participant, user=None, is_facilitator=False, is_contact_person=False
        )

    members = selectors.plain_member_per_room(workshop, number)
    if not members:
        return
    first_room, first = members[0]
    viewer = member(first)
    read = selectors.live_read(viewer, shared=True)
    phase = read.state.current_phase
    if phase is None or phase.kind != Phase.Kind.ROUNDS or read.panel_room != first_room:
        return  # the phase moved on, or another round runs now
    page = selectors.live_page(viewer, shared=True, state=read.state)
    rooms = selectors.rooms_as_members_see_them(viewer, page.rounds.round, page.phase)
    for room_id, participant in members:
        if room_id not in rooms:
            continue
        page.rounds.mine = rooms[room_id]
        payload = {"round": number, "i18n": _panels_in_each_language(page, member(participant))}
        publish_ephemeral(workshop_id=workshop.pk, kind="round.panel", payload=payload, room_id=room_id)


def publish_phase(live: LiveState) -> None:
    """The current phase to everyone (with the plain participants' panel in each language, see ``phase_panels``)
    and the timer as it stands: when the phase changes, and when the running phase is edited."""
    phase = live.current_phase
    payload = {"phase": phase.pk if phase else None, "title": phase.title if phase else ""}
    panels = phase_panels(live)
    if panels:
        payload["i18n"] = panels  # plain participants' pages show it at once instead of asking for it
    publish(workshop_id=live.pk, kind="phase", payload=payload)
    publish(workshop_id=live.pk, kind="timer", payload=timer_payload(live))


def phase_panels(live: LiveState) -> dict | None:
    """The current phase's panel as every plain participant sees it, in each language, or None when each
    viewer's panel is their own (see ``selectors.shared_panel_key``). In the small-group phase everyone sees the
    same between the rounds ("round 2 starts soon"), and their own room during one.

    Pushed with the phase, so that a thousand screens do not all ask for the new panel at once.
    """
    from facilitation import selectors
    from facilitation.permissions import LiveViewer

    phase = live.current_phase
    rounds = phase is not None and phase.kind == Phase.Kind.ROUNDS
    if phase is not None and (phase.is_private or (phase.kind in selectors.OWN_PANEL_KINDS and not rounds)):
        return None
    anyone = LiveViewer(
        workshop=live.workshop, participant=None, user=None, is_facilitator=False, is_contact_person=False
    )
    # Read once, rendered in each language: the page's data holds no translated text (a thread's title is
    # translated when the template reads it).
    page = selectors.live_page(anyone, shared=True)
    if rounds and page.rounds.round is not None:
        return None  # a round runs: each room's members see their own room
    return _panels_in_each_language(page, anyone)


def _panel_html(page, viewer: LiveViewer, language: str) -> str:
    """A shared copy of the panel: rendered in ``language``, with the CSRF placeholder each page fills in."""
    context = {"workshop": viewer.workshop, "page": page, "viewer": viewer, "csrf_token": csrf_slot()}
    return render_in(language, "facilitation/partials/panel.html", context)


def _panels_in_each_language(page, viewer: LiveViewer) -> dict:
    """The page's panel in every interface language, as a payload's ``i18n`` (``event_for_client`` picks one)."""
    return {code: {"panel": _panel_html(page, viewer, code)} for code, _name in settings.LANGUAGES}


# --- payloads ------------------------------------------------------------------
def comment_audience(comment: Comment) -> dict:
    """Everyone; the room (and facilitators) for a room's notes; only the author while answers are private."""
    if comment.room_id:
        return {"audience": Event.Audience.ROOM, "room_id": comment.room_id}
    if comment.phase.is_private:
        return {
            "audience": Event.Audience.PERSON,
            "participant_id": comment.author_participant_id,
            "user_id": comment.author_user_id,
        }
    return {"audience": Event.Audience.ALL}


def comment_fields(comment: Comment) -> dict:
    """A comment as data: where it belongs and what the page fills into its template of a comment's tools
    (``COMMENT_STAND_INS``): ids, its raw text for the author's edit box, counts, state. Never its author."""
    removed = comment.is_removed
    return {
        "id": comment.pk,
        "thread": comment.thread_key,
        "parent": comment.parent_id,
        "case": comment.case_id,
        "phase": comment.phase_id,
        "prompt": comment.prompt_id,
        "room": comment.room_id,
        "text": "" if removed else comment.text,
        "counts": {
            "agree": getattr(comment, "agree_count", 0) or 0,
            "good_point": getattr(comment, "good_point_count", 0) or 0,
        },
        "hidden": comment.hidden_at is not None,
        "removed": removed,
    }


COMMENT_MAIN = "facilitation/partials/comment.html#main"

# What the page's template of a comment (``comment_template``) carries in place of ``comment_fields``' ids, each
# where the real one goes (in an attribute: an element's id, a form's URL, a hidden field); the page's script
# puts the real ones in. Numbers no real id reaches, none a part of another.
COMMENT_STAND_INS = {
    "id": 1_999_999_901,
    "phase": 1_999_999_902,
    "prompt": 1_999_999_903,
    "room": 1_999_999_904,
    "thread": 1_999_999_905,
    "case": 1_999_999_906,
}


def comment_template(workshop_id: int) -> str:
    """A whole comment of ``workshop_id`` with stand-in ids in the active language, as nobody's and with no
    CSRF token (the page's script sends its own): the page's template for the comments pushed to it."""
    ids = COMMENT_STAND_INS
    stand_in = SimpleNamespace(
        pk=ids["id"],
        workshop_id=workshop_id,
        case_id=ids["case"],
        phase_id=ids["phase"],
        prompt_id=ids["prompt"],
        room_id=ids["room"],
        parent_id=None,
        thread_key=str(ids["thread"]),
        text="",
        anonymous=False,
        author_name="",
        created_at=None,
        edited_at=None,
        hidden_at=None,
        is_removed=False,
        mine=False,
        my_reaction=None,
        agree_count=0,
        good_point_count=0,
        can_moderate=False,
        shown_replies=(),
    )
    return render_to_string("facilitation/partials/comment.html", {"comment": stand_in, "push": True})


def comment_payload(comment: Comment) -> dict:
    """A comment for every viewer's page: its data and, in each language, its text and meta as HTML (the
    ``main`` part; never who wrote an anonymous one). The page builds the rest of the list item (reactions,
    reply, edit and delete, moderation) from a template of its own: a frame of about 0.7 KB instead of 3.7,
    rendered three times for every comment (docs/performance.md, S1)."""
    return {**comment_fields(comment), "i18n": _rendered(COMMENT_MAIN, {"comment": comment})}


def comment_main_html(comment: Comment, language: str) -> str:
    """The ``main`` part of ``comment_payload`` in one language."""
    return render_in(language, COMMENT_MAIN, {"comment": comment})


def timer_payload(live: LiveState) -> dict:
    deadline = live.timer_deadline
    return {"deadline": deadline.isoformat() if deadline else None, "remaining": live.timer_remaining}
