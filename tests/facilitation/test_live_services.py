"""Live services: comments once per client id, who may change what, timer, phases, closing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from facilitation import services
from facilitation.models import Comment, Event, LiveState, Phase, Presence, Prompt, Reaction
from facilitation.services import LiveError
from tests.facilitation.conftest import viewer_of
from tests.facilitation.factories import PhaseFactory
from tests.workshops.factories import ParticipantFactory
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db


def _write(viewer, phase, text="Havainto", **extra):
    fields = {"prompt_id": None, "parent_id": None, "anonymous": False, "client_id": uuid.uuid4(), "language": "fi"}
    fields.update(extra)
    return services.comment_create(viewer=viewer, phase_id=phase.pk, text=text, **fields)


@pytest.fixture
def aino(live_workshop):
    return ParticipantFactory(workshop=live_workshop, name="Aino Asukas")


@pytest.fixture
def current(live_workshop):
    return LiveState.objects.get(pk=live_workshop.pk).current_phase


def test_start_creates_the_parastaminen_agenda_and_shows_its_first_phase(workshop, facilitator):
    live = services.live_start(workshop=workshop, by=facilitator)
    kinds = list(workshop.phases.values_list("kind", flat=True))
    K = Phase.Kind
    assert kinds == [K.INTRO] + [K.PRESENTATION, K.REFLECTION] * 3 + [K.ROUNDS, K.WRAP_UP, K.FEEDBACK]
    reflection = workshop.phases.filter(kind=K.REFLECTION).first()
    assert [p.text for p in reflection.prompts.all()] == ["Mitä opin?", "Mikä voisi olla hyödyllistä omassa työssäni?"]
    assert live.current_phase.kind == K.INTRO
    assert Workshop.objects.get(pk=workshop.pk).status == Workshop.Status.LIVE
    assert list(Event.objects.filter(workshop=workshop).values_list("kind", flat=True)) == ["phase", "timer"]


def test_a_requested_workshop_cannot_be_started(workshop, facilitator):
    Workshop.objects.filter(pk=workshop.pk).update(status=Workshop.Status.REQUESTED)
    workshop.refresh_from_db()
    with pytest.raises(LiveError):
        services.live_start(workshop=workshop, by=facilitator)


def test_phase_navigation_stops_at_both_ends_and_resets_the_timer(live_workshop):
    services.timer_start(workshop=live_workshop, seconds=300)
    live = services.phase_go(workshop=live_workshop, offset=-1)
    assert live.current_phase.position == 1 and live.timer_deadline is None
    with pytest.raises(LiveError):
        services.phase_go(workshop=live_workshop, offset=-1)
    last = live_workshop.phases.order_by("-position").first()
    services.phase_go(workshop=live_workshop, phase=last)
    with pytest.raises(LiveError):
        services.phase_go(workshop=live_workshop, offset=1)
    other = PhaseFactory()
    with pytest.raises(LiveError):
        services.phase_go(workshop=live_workshop, phase=other)


def test_timer_is_a_deadline_that_pauses_resumes_and_extends(live_workshop):
    live = services.timer_start(workshop=live_workshop, seconds=600)
    assert 598 <= live.seconds_left() <= 600
    live = services.timer_pause(workshop=live_workshop)
    assert live.timer_deadline is None and 598 <= live.timer_remaining <= 600
    live = services.timer_extend(workshop=live_workshop, seconds=60)
    assert 658 <= live.timer_remaining <= 660
    live = services.timer_resume(workshop=live_workshop)
    assert live.timer_remaining is None
    assert timedelta(seconds=655) < live.timer_deadline - timezone.now() <= timedelta(seconds=660)
    live = services.timer_clear(workshop=live_workshop)
    assert live.seconds_left() is None
    with pytest.raises(LiveError):
        services.timer_start(workshop=live_workshop, seconds=0)
    timer_events = Event.objects.filter(workshop=live_workshop, kind="timer").order_by("-id")
    assert timer_events.first().payload == {"deadline": None, "remaining": None}


def test_broadcast_is_trimmed_limited_and_clearable(live_workshop):
    live = services.broadcast_send(workshop=live_workshop, text="  Tauko   alkaa \n pian ")
    assert live.broadcast_text == "Tauko alkaa pian"
    with pytest.raises(LiveError):
        services.broadcast_send(workshop=live_workshop, text="x" * 501)
    assert LiveState.objects.get(pk=live_workshop.pk).broadcast_text == "Tauko alkaa pian"
    assert services.broadcast_send(workshop=live_workshop, text="").broadcast_at is None


def test_the_same_client_id_stores_one_comment(live_workshop, aino, current):
    viewer = viewer_of(live_workshop, participant=aino)
    client_id = uuid.uuid4()
    first, created = _write(viewer, current, client_id=client_id)
    again, created_again = _write(viewer, current, client_id=client_id)
    assert created and not created_again and first.pk == again.pk
    assert Comment.objects.count() == 1
    assert first.case == current.case and first.phase == current and first.language == "fi"


def test_someone_elses_client_id_is_refused(live_workshop, aino, current):
    client_id = uuid.uuid4()
    _write(viewer_of(live_workshop, participant=aino), current, client_id=client_id)
    other = ParticipantFactory(workshop=live_workshop)
    with pytest.raises(LiveError):
        _write(viewer_of(live_workshop, participant=other), current, client_id=client_id)


def test_a_retry_after_the_workshop_closed_still_gets_the_stored_comment(live_workshop, aino, current):
    """The first try was stored but its answer was lost; the page retries after the workshop has moved on."""
    viewer = viewer_of(live_workshop, participant=aino)
    client_id = uuid.uuid4()
    first, _created = _write(viewer, current, client_id=client_id)
    Workshop.objects.filter(pk=live_workshop.pk).update(status=Workshop.Status.CLOSED)
    live_workshop.refresh_from_db()
    again, created = _write(viewer, current, client_id=client_id)
    assert again.pk == first.pk and not created
    with pytest.raises(LiveError):  # a new comment is refused, and so is someone else's id
        _write(viewer, current)
    stranger = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop))
    with pytest.raises(LiveError):
        _write(stranger, current, client_id=client_id)
    assert Comment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retried_post_outside_a_transaction_leaves_one_comment_and_one_event(live_workshop, aino, current):
    """The server writes a comment and its event in one statement in autocommit; a second one with the same
    client id is refused whole, and the connection goes on."""
    viewer = viewer_of(live_workshop, participant=aino)
    client_id = uuid.uuid4()
    first, created = _write(viewer, current, client_id=client_id)
    again, created_again = _write(viewer, current, client_id=client_id)
    assert created and not created_again and again.pk == first.pk
    assert Comment.objects.count() == 1 and Event.objects.filter(kind="comment.created").count() == 1


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_row_and_its_event_are_stored_together_or_not_at_all(live_workshop, aino, current, vendor, monkeypatch):
    """``create_with_event`` on PostgreSQL (one statement; an id from the sequence when none was reserved) and
    elsewhere (a transaction): the payload names the stored row, and a refused row leaves no event."""
    from django.db import IntegrityError, connection

    from facilitation import realtime

    if vendor != connection.vendor:
        if vendor == "postgresql":
            pytest.skip("the one-statement write needs PostgreSQL")
        monkeypatch.setattr(connection, "vendor", vendor)  # the other databases' way, on PostgreSQL
    client_id = uuid.uuid4()

    def comment() -> Comment:
        return Comment(
            workshop=live_workshop, phase=current, author_participant=aino, text="Yhdessä", client_id=client_id
        )

    events = Event.objects.count()
    row = comment()
    event = realtime.create_with_event(
        row, workshop_id=live_workshop.pk, kind="comment.created", payload=lambda: {"id": row.pk}
    )
    assert row.pk is not None and not row._state.adding
    assert Event.objects.get(pk=event.pk).payload == {"id": row.pk} and Comment.objects.get(pk=row.pk).text == "Yhdessä"
    with pytest.raises(IntegrityError):
        realtime.create_with_event(comment(), workshop_id=live_workshop.pk, kind="comment.created", payload=dict)
    assert Event.objects.count() == events + 1 and Comment.objects.count() == 1  # and the transaction goes on


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_empty_or_too_long_text_is_refused(live_workshop, aino, current, text):
    with pytest.raises(LiveError):
        _write(viewer_of(live_workshop, participant=aino), current, text=text)
    assert not Comment.objects.exists()


def test_comments_need_a_writing_phase_of_this_workshop_and_the_right_prompt(live_workshop, aino):
    viewer = viewer_of(live_workshop, participant=aino)
    intro = live_workshop.phases.get(kind=Phase.Kind.INTRO)
    with pytest.raises(LiveError):
        _write(viewer, intro)
    with pytest.raises(LiveError):
        _write(viewer, PhaseFactory())
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    with pytest.raises(LiveError):
        _write(viewer, reflection)  # which question?
    elsewhere = Prompt.objects.filter(phase__workshop=live_workshop).exclude(phase=reflection).first()
    with pytest.raises(LiveError, match="Valitse kysymys"):
        _write(viewer, reflection, prompt_id=elsewhere.pk)  # another phase's question
    prompt = reflection.prompts.first()
    comment, _ = _write(viewer, reflection, prompt_id=prompt.pk)
    assert comment.prompt == prompt and comment.case == reflection.case


def test_replies_are_one_level_deep(live_workshop, aino, current):
    viewer = viewer_of(live_workshop, participant=aino)
    top, _ = _write(viewer, current)
    reply, _ = _write(viewer, current, parent_id=top.pk)
    assert reply.parent == top
    with pytest.raises(LiveError):
        _write(viewer, current, parent_id=reply.pk)


def test_nobody_writes_in_a_workshop_that_is_not_live(live_workshop, aino, current, facilitator):
    services.live_close(workshop=live_workshop, by=facilitator)
    with pytest.raises(LiveError):
        _write(viewer_of(live_workshop, participant=aino), current)


def test_only_the_author_edits_and_deletes(live_workshop, aino, current):
    viewer = viewer_of(live_workshop, participant=aino)
    comment, _ = _write(viewer, current)
    other = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop))
    with pytest.raises(LiveError):
        services.comment_update(viewer=other, comment_id=comment.pk, text="Muutettu")
    with pytest.raises(LiveError):
        services.comment_delete(viewer=other, comment_id=comment.pk)
    services.comment_update(viewer=viewer, comment_id=comment.pk, text="Muutettu")
    comment.refresh_from_db()
    assert comment.text == "Muutettu" and comment.edited_at
    services.comment_delete(viewer=viewer, comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.deleted_at and comment.text == ""
    deleted = Event.objects.filter(kind="comment.deleted").get()
    assert "Muutettu" not in str(deleted.payload)


def test_facilitator_and_the_cases_presenter_hide_others_cannot(live_workshop, aino, current):
    comment, _ = _write(viewer_of(live_workshop, participant=aino), current)
    with pytest.raises(LiveError):
        services.comment_hide(viewer=viewer_of(live_workshop, participant=aino), comment_id=comment.pk)
    presenter_of_other_case = viewer_of(live_workshop, participant=aino, presented={current.case_id + 100})
    with pytest.raises(LiveError):
        services.comment_hide(viewer=presenter_of_other_case, comment_id=comment.pk)
    presenter = viewer_of(live_workshop, participant=aino, presented={current.case_id})
    services.comment_hide(viewer=presenter, comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.hidden_at is not None
    hidden = Event.objects.get(kind="comment.hidden")
    assert hidden.payload == {"id": comment.pk}  # no text travels with it
    services.comment_unhide(viewer=viewer_of(live_workshop, staff=True), comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.hidden_at is None
    assert Event.objects.filter(kind="comment.shown").exists()


def test_presenter_is_recognised_by_e_mail(live_workshop, rf):
    from facilitation.permissions import live_viewer
    from workshops.guests import guest_login

    case = live_workshop.cases.first()
    case.presenter_email = "esittaja@example.fi"
    case.save()
    presenter = ParticipantFactory(workshop=live_workshop, email="Esittaja@example.fi", role=Participant.Role.PRESENTER)
    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    request.user = AnonymousUser()
    guest_login(request, presenter)
    viewer = live_viewer(request, live_workshop.pk)
    assert viewer.presented_case_ids == {case.pk}
    assert viewer.can_moderate(case.pk) and not viewer.can_moderate(case.pk + 1)


def test_one_reaction_per_person_toggles_and_switches(live_workshop, aino, current):
    comment, _ = _write(viewer_of(live_workshop, participant=aino), current)
    reader = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop))
    _, mine = services.reaction_toggle(viewer=reader, comment_id=comment.pk, kind="agree")
    assert mine == "agree"
    _, mine = services.reaction_toggle(viewer=reader, comment_id=comment.pk, kind="good_point")
    assert mine == "good_point" and Reaction.objects.count() == 1
    _, mine = services.reaction_toggle(viewer=reader, comment_id=comment.pk, kind="good_point")
    assert mine is None and Reaction.objects.count() == 0
    with pytest.raises(LiveError):
        services.reaction_toggle(viewer=reader, comment_id=comment.pk, kind="love")
    last = Event.objects.filter(kind="reaction").order_by("-id").first()
    assert last.payload["counts"] == {"agree": 0, "good_point": 0}


def test_private_first_answers_go_only_to_their_author_until_revealed(live_workshop, aino):
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    Phase.objects.filter(pk=reflection.pk).update(private_first=True)
    reflection.refresh_from_db()
    prompt = reflection.prompts.first()
    comment, _ = _write(viewer_of(live_workshop, participant=aino), reflection, prompt_id=prompt.pk)
    created = Event.objects.get(kind="comment.created")
    assert created.audience == Event.Audience.PERSON and created.participant == aino
    other = viewer_of(live_workshop, participant=ParticipantFactory(workshop=live_workshop))
    with pytest.raises(LiveError):
        services.reaction_toggle(viewer=other, comment_id=comment.pk, kind="agree")
    services.phase_reveal(phase=reflection)
    assert Event.objects.filter(kind="thread.reload", payload__phase=reflection.pk).exists()
    services.reaction_toggle(viewer=other, comment_id=comment.pk, kind="agree")


def test_closing_forgets_who_wrote_anonymous_comments_and_the_event_log(live_workshop, aino, current, facilitator):
    viewer = viewer_of(live_workshop, participant=aino)
    secret, _ = _write(viewer, current, text="Salainen", anonymous=True)
    named, _ = _write(viewer, current, text="Nimellä")
    services.presence_touch(key="ws-1", viewer=viewer)
    services.live_close(workshop=live_workshop, by=facilitator)
    secret.refresh_from_db()
    named.refresh_from_db()
    assert secret.author_participant is None and secret.author_user is None and secret.text == "Salainen"
    assert named.author_participant == aino
    assert not Event.objects.filter(workshop=live_workshop).exists()
    assert not Presence.objects.filter(workshop=live_workshop).exists()
    assert Workshop.objects.get(pk=live_workshop.pk).status == Workshop.Status.CLOSED


def test_closing_through_the_planning_workflow_also_forgets(live_workshop, aino, current, facilitator):
    from workshops.services import workshop_transition

    secret, _ = _write(viewer_of(live_workshop, participant=aino), current, anonymous=True)
    workshop_transition(workshop=live_workshop, to_status=Workshop.Status.CLOSED, by=facilitator)
    secret.refresh_from_db()
    assert secret.author_participant is None


def test_presence_counts_participants_with_an_open_page(live_workshop, aino, current):
    viewer = viewer_of(live_workshop, participant=aino)
    services.presence_touch(key="a", viewer=viewer)
    services.presence_touch(key="b", viewer=viewer)  # a second tab is still one person
    other = ParticipantFactory(workshop=live_workshop)
    services.presence_touch(key="c", viewer=viewer_of(live_workshop, participant=other))
    Presence.objects.filter(key="c").update(seen_at=timezone.now() - timedelta(minutes=5))
    assert services.connected_count(live_workshop.pk) == 1
    services.presence_depart(["a", "b"])
    assert services.connected_count(live_workshop.pk) == 0
    _write(viewer, current)
    _write(viewer, current)
    assert services.writers_count(current.pk) == 1


def test_batched_arrivals_leave_out_sockets_whose_people_are_gone(live_workshop, aino, facilitator):
    """Written up to a second after the connect: a participant erased meanwhile (or a workshop or user
    deleted) is left out, and everyone else's row is still written."""
    gone = ParticipantFactory(workshop=live_workshop)
    gone_id = gone.pk
    gone.delete()
    services.presence_arrive(
        {
            "ws.aino": (live_workshop.pk, aino.pk, None),
            "ws.staff": (live_workshop.pk, None, facilitator.pk),
            "ws.gone": (live_workshop.pk, gone_id, None),
            "ws.no-workshop": (live_workshop.pk + 1000, aino.pk, None),
            "ws.no-user": (live_workshop.pk, None, facilitator.pk + 1000),
        }
    )
    assert set(Presence.objects.values_list("key", flat=True)) == {"ws.aino", "ws.staff"}
    aino.refresh_from_db()
    assert aino.last_seen_at is not None
    services.presence_arrive({"ws.aino": (live_workshop.pk, aino.pk, None)})  # again: refreshed, not doubled
    services.presence_depart(["ws.aino", "ws.never-written"])
    assert list(Presence.objects.values_list("key", flat=True)) == ["ws.staff"]


def test_join_code_is_made_once_renewed_on_request_and_normalised(live_workshop):
    live = services.join_code_set(workshop=live_workshop, enabled=True)
    code = live.join_code
    assert len(code) == services.JOIN_CODE_LENGTH and set(code) <= set(services.JOIN_CODE_ALPHABET)
    assert services.live_for_join_code(f" {code.lower()[:3]}-{code.lower()[3:]} ") == live
    assert services.join_code_set(workshop=live_workshop, enabled=True).join_code == code
    assert services.join_code_set(workshop=live_workshop, enabled=True, renew=True).join_code != code
    services.join_code_set(workshop=live_workshop, enabled=False)
    assert services.live_for_join_code(LiveState.objects.get(pk=live_workshop.pk).join_code) is None


def test_questions_with_answers_stay_with_their_answers_when_lines_move(live_workshop, aino):
    reflection = live_workshop.phases.filter(kind=Phase.Kind.REFLECTION).first()
    first, second = reflection.prompts.all()
    _write(viewer_of(live_workshop, participant=aino), reflection, prompt_id=first.pk)
    with pytest.raises(LiveError):
        services.phase_update(phase=reflection, data={}, prompts=[second.text])
    services.phase_update(phase=reflection, data={}, prompts=[second.text, first.text])
    reordered = list(reflection.prompts.order_by("position"))
    assert [p.pk for p in reordered] == [second.pk, first.pk]
    assert first.comments.count() == 1
    services.phase_update(phase=reflection, data={}, prompts=["Uusi kysymys", first.text + "!"])
    assert reflection.prompts.get(pk=first.pk).text == first.text + "!"
