"""Prioritisation: pairs, dots, ratings, the ranking and its batched push, through services and views."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from facilitation import services
from facilitation.models import Ballot, Duel, Event, Idea, Phase
from facilitation.selectors_voting import ranking_for, ranking_payload, source_phase, voting_view
from facilitation.services import LiveError
from facilitation.services.voting import ranking_gate_key
from facilitation.tasks import ranking_publish
from tests.facilitation.conftest import make_guest as make_finnish_guest
from tests.facilitation.conftest import viewer_of
from tests.facilitation.factories import IdeaFactory
from tests.workshops.factories import WorkshopFactory

JSON = {"HTTP_ACCEPT": "application/json"}


def make_guest(workshop, **fields):
    """A guest whose pages and messages are in English, so the assertions can read them."""
    person, client = make_finnish_guest(workshop, **fields)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return person, client


@pytest.fixture
def facilitator_client(facilitator_client):
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return facilitator_client


def _phases(workshop, *, voting=Phase.Voting.PAIRWISE, **settings):
    ideas = Phase.objects.create(workshop=workshop, position=50, kind=Phase.Kind.IDEAS, title="Mikä on tärkeintä?")
    vote = Phase.objects.create(
        workshop=workshop, position=51, kind=Phase.Kind.PRIORITISATION, title="Äänestys", voting=voting, **settings
    )
    return ideas, vote


def _ideas(phase, count, **fields):
    return [IdeaFactory(phase=phase, text=f"Idea {n}", **fields) for n in range(1, count + 1)]


def _go(workshop, phase, capture):
    with capture(execute=True):
        services.phase_go(workshop=workshop, phase=phase)


@pytest.fixture
def voting(live_workshop, django_capture_on_commit_callbacks):
    ideas_phase, vote_phase = _phases(live_workshop, min_appearances=2)
    ideas = _ideas(ideas_phase, 4)
    _go(live_workshop, vote_phase, django_capture_on_commit_callbacks)
    return live_workshop, vote_phase, ideas


def _url(name, workshop, phase):
    return reverse(f"facilitation:{name}", args=[workshop.pk, phase.pk])


def _start(client, workshop, phase):
    response = client.post(_url("vote_next", workshop, phase), **JSON)
    assert response.status_code == 200, response.content
    return response.json()


# --- pairs ---------------------------------------------------------------------------------------
def test_source_phase_is_the_nearest_idea_collection_before_or_the_chosen_one(live_workshop):
    first, vote = _phases(live_workshop)
    later = Phase.objects.create(workshop=live_workshop, position=52, kind=Phase.Kind.IDEAS, title="Later")
    assert source_phase(vote) == first
    vote.idea_source = later
    assert source_phase(vote) == later
    lonely = Phase.objects.create(workshop=live_workshop, position=0, kind=Phase.Kind.PRIORITISATION, title="x")
    assert source_phase(lonely) is None


def test_a_participant_compares_pairs_and_the_counts_move(voting):
    workshop, phase, _ideas = voting
    person, client = make_guest(workshop)
    first = _start(client, workshop, phase)["duel"]
    assert first["left"]["id"] != first["right"]["id"]
    duel = Duel.objects.get(pk=first["id"])
    assert duel.voter_participant == person and duel.choice == ""
    assert Idea.objects.get(pk=first["left"]["id"]).shown == 1

    body = client.post(_url("vote_duel", workshop, phase), {"duel": first["id"], "choice": "left"}, **JSON).json()
    assert body["counted"] is True and body["answered"] == first["id"]
    assert body["duel"]["id"] != first["id"]
    assert {body["duel"]["left"]["id"], body["duel"]["right"]["id"]} != {first["left"]["id"], first["right"]["id"]}
    assert "1" in body["compared_text"]
    winner, loser = Idea.objects.get(pk=first["left"]["id"]), Idea.objects.get(pk=first["right"]["id"])
    assert (winner.wins, winner.losses, loser.wins, loser.losses) == (1, 0, 0, 1)


def test_a_double_click_is_one_vote_and_returns_the_same_next_pair(voting):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    duel = _start(client, workshop, phase)["duel"]
    once = client.post(_url("vote_duel", workshop, phase), {"duel": duel["id"], "choice": "right"}, **JSON).json()
    twice = client.post(_url("vote_duel", workshop, phase), {"duel": duel["id"], "choice": "left"}, **JSON).json()
    assert twice["counted"] is False
    assert twice["duel"]["id"] == once["duel"]["id"]
    assert Duel.objects.get(pk=duel["id"]).choice == "right"
    assert Duel.objects.filter(phase=phase, answered_at__isnull=False).count() == 1
    assert sum(Idea.objects.values_list("wins", flat=True)) == 1


def test_the_waiting_pair_survives_a_reload(voting):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    duel = _start(client, workshop, phase)["duel"]
    assert _start(client, workshop, phase)["duel"]["id"] == duel["id"], "no new pair while one waits"
    page = client.get(reverse("facilitation:live", args=[workshop.pk]))
    html = page.content.decode()
    assert f'name="duel" value="{duel["id"]}"' in html
    assert duel["left"]["text"] in html and duel["right"]["text"] in html
    assert Duel.objects.filter(phase=phase).count() == 1


def test_never_the_own_idea_and_no_pair_twice_until_everything_is_compared(voting):
    workshop, phase, ideas = voting
    person, client = make_guest(workshop)
    Idea.objects.filter(pk=ideas[0].pk).update(author_participant=person)
    body = _start(client, workshop, phase)
    pairs = []
    while body["duel"]:
        pair = {body["duel"]["left"]["id"], body["duel"]["right"]["id"]}
        assert ideas[0].pk not in pair
        assert pair not in pairs
        pairs.append(pair)
        body = client.post(_url("vote_duel", workshop, phase), {"duel": body["duel"]["id"], "choice": "skip"}, **JSON)
        body = body.json()
    assert len(pairs) == 3  # the three other ideas make three pairs
    assert body["done"] == "all"
    assert "compared every pair" in body["message"]
    assert "data-duel-root" in body["html"]


def test_without_javascript_the_forms_redirect_back_to_the_page(voting):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    response = client.post(_url("vote_next", workshop, phase))
    assert response.status_code == 302
    duel = Duel.objects.get(phase=phase)
    response = client.post(_url("vote_duel", workshop, phase), {"duel": duel.pk, "choice": "left"})
    assert response.status_code == 302
    assert Duel.objects.get(pk=duel.pk).choice == "left"


@pytest.mark.parametrize(
    ("referer", "back_to_it"),
    [
        ("S", False),
        (" ò<x", False),
        ("javascript:alert(1)", False),
        ("https://evil.example/w/", False),
        ("/w/1/", True),
    ],
)
def test_without_javascript_a_refused_vote_goes_back_only_to_a_page_of_this_site(voting, referer, back_to_it):
    """The way back was ``redirect(referer)``, which took a referer without a slash for a view's name and
    answered 500 with NoReverseMatch (found by tests/security/test_fuzz.py). Anything but a path or URL of
    this site goes to the live page."""
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    response = client.post(_url("vote_duel", workshop, phase), {"duel": "0", "choice": "x"}, HTTP_REFERER=referer)
    assert response.status_code == 302
    live = reverse("facilitation:live", args=[workshop.pk])
    assert response["Location"] == ("/w/1/" if back_to_it else live)
    assert client.get(live).status_code == 200


@pytest.mark.parametrize("count", [5, 300])
def test_a_vote_costs_the_same_few_queries_however_many_ideas(
    live_workshop, django_capture_on_commit_callbacks, django_assert_max_num_queries, count
):
    ideas_phase, phase = _phases(live_workshop)
    _ideas(ideas_phase, count)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    _person, client = make_guest(live_workshop)
    duel = _start(client, live_workshop, phase)["duel"]
    # 15 (was 23): one query locks the rows of the answered and the next pair in id order (no deadlock)
    with django_assert_max_num_queries(15):
        response = client.post(_url("vote_duel", live_workshop, phase), {"duel": duel["id"], "choice": "left"}, **JSON)
    assert response.status_code == 200 and response.json()["duel"]


def _batch(workshop, phase, people, choice="left"):
    """Each person's waiting pair, answered together with ``choice``."""
    answers = []
    for person in people:
        viewer = viewer_of(workshop, participant=person)
        duel = services.duel_next(viewer=viewer, phase_id=phase.pk).duel
        answers.append(services.DuelAnswer(viewer=viewer, duel_id=duel.pk, choice=choice))
    return answers


@pytest.mark.parametrize("voters", [2, 12])
def test_a_batch_of_answers_costs_the_same_queries_however_many_voters(
    live_workshop, django_capture_on_commit_callbacks, django_assert_num_queries, voters
):
    ideas_phase, phase = _phases(live_workshop)
    _ideas(ideas_phase, 6)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    people = [make_finnish_guest(live_workshop)[0] for _n in range(voters)]
    answers = _batch(live_workshop, phase, people)
    shown_before = sum(Idea.objects.values_list("shown", flat=True))
    # BEGIN, phase, voters' lock, their pairs, collection, ideas, answers, new pairs, counters' lock and
    # update, COMMIT; the ranking's push is scheduled once (on commit).
    with django_assert_num_queries(11), django_capture_on_commit_callbacks() as pushes:
        turns = services.duel_answers(phase_id=phase.pk, answers=answers)
    assert len(pushes) == 1
    assert all(turn.counted and turn.compared == 1 and turn.duel.pk for turn in turns)
    answered = Duel.objects.filter(answered_at__isnull=False)
    assert sorted(answered.values_list("pk", flat=True)) == sorted(answer.duel_id for answer in answers)
    assert set(answered.values_list("choice", flat=True)) == {"left"}
    assert set(Duel.objects.filter(answered_at__isnull=True).values_list("pk", flat=True)) == {
        turn.duel.pk for turn in turns
    }
    for turn, person in zip(turns, people, strict=True):
        assert turn.duel.voter_participant_id == person.pk and turn.answered.voter_participant_id == person.pk
    wins = dict(Idea.objects.values_list("pk", "wins"))
    winners = [Duel.objects.get(pk=answer.duel_id).left_id for answer in answers]
    assert wins == {pk: winners.count(pk) for pk in wins}
    assert sum(Idea.objects.values_list("shown", flat=True)) == shown_before + 2 * voters
    # The batch spreads its new pairs as one vote after another would: each was shown about as often.
    shown = sorted(Idea.objects.values_list("shown", flat=True))
    assert shown[-1] - shown[0] <= 2


def test_a_batch_refuses_each_bad_answer_alone(voting):
    workshop, phase, _ideas = voting
    people = [make_finnish_guest(workshop)[0] for _n in range(4)]
    good, bad_choice, not_theirs, again = _batch(workshop, phase, people)
    services.duel_answer(viewer=again.viewer, phase_id=phase.pk, duel_id=again.duel_id, choice="right")
    answers = [
        good,
        services.DuelAnswer(viewer=bad_choice.viewer, duel_id=bad_choice.duel_id, choice="both"),
        services.DuelAnswer(viewer=not_theirs.viewer, duel_id=good.duel_id, choice="left"),
        services.DuelAnswer(viewer=again.viewer, duel_id=again.duel_id, choice="left"),
    ]
    with translation.override("en"):
        first, choose, refused, repeated = services.duel_answers(phase_id=phase.pk, answers=answers)
    assert first.counted and first.answered.pk == good.duel_id
    assert isinstance(choose, LiveError) and "Choose one" in str(choose)
    assert isinstance(refused, LiveError) and "not waiting for your answer" in str(refused)
    # An answered pair keeps its first answer, and the voter gets the pair waiting for them.
    assert not repeated.counted and repeated.answered.choice == "right"
    assert repeated.duel.pk == Duel.objects.get(voter_participant=people[3], answered_at__isnull=True).pk
    assert Duel.objects.get(pk=again.duel_id).choice == "right"
    assert Duel.objects.get(pk=bad_choice.duel_id).answered_at is None
    assert Duel.objects.filter(answered_at__isnull=False).count() == 2


def test_a_batch_is_refused_whole_when_the_voting_has_ended(voting, django_capture_on_commit_callbacks):
    workshop, phase, _ideas = voting
    answers = _batch(workshop, phase, [make_finnish_guest(workshop)[0] for _n in range(3)])
    _go(workshop, workshop.phases.order_by("position").first(), django_capture_on_commit_callbacks)
    with translation.override("en"):
        results = services.duel_answers(phase_id=phase.pk, answers=answers)
    assert all(isinstance(result, LiveError) and "moved on" in str(result) for result in results)
    assert not Duel.objects.filter(answered_at__isnull=False).exists()


def test_a_batch_takes_one_answer_per_voter(voting):
    workshop, phase, _ideas = voting
    (answer,) = _batch(workshop, phase, [make_finnish_guest(workshop)[0]])
    with pytest.raises(ValueError):
        services.duel_answers(phase_id=phase.pk, answers=[answer, answer])


def test_an_outsider_gets_404(voting, organisation):
    workshop, phase, _ideas = voting
    other = WorkshopFactory(organisation=organisation)
    _stranger, client = make_guest(other)
    assert client.post(_url("vote_next", workshop, phase), **JSON).status_code == 404
    assert client.get(_url("results_ranking", workshop, phase)).status_code == 404
    _person, member = make_guest(workshop)
    foreign_phase = Phase.objects.create(workshop=other, kind=Phase.Kind.PRIORITISATION, title="x")
    assert member.post(_url("vote_next", workshop, foreign_phase), **JSON).status_code == 404


def test_voting_is_refused_outside_the_current_prioritisation(voting, django_capture_on_commit_callbacks):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    duel = _start(client, workshop, phase)["duel"]
    _go(workshop, workshop.phases.order_by("position").first(), django_capture_on_commit_callbacks)
    response = client.post(_url("vote_duel", workshop, phase), {"duel": duel["id"], "choice": "left"}, **JSON)
    assert response.status_code == 400
    assert "moved on" in response.json()["error"]
    assert Duel.objects.get(pk=duel["id"]).answered_at is None
    writing = workshop.phases.order_by("position").first()
    assert client.post(_url("vote_next", workshop, writing), **JSON).status_code == 400


def test_a_bad_choice_or_someone_elses_pair_is_refused(voting):
    workshop, phase, _ideas = voting
    _first, client = make_guest(workshop)
    _second, other = make_guest(workshop)
    duel = _start(client, workshop, phase)["duel"]
    bad = client.post(_url("vote_duel", workshop, phase), {"duel": duel["id"], "choice": "both"}, **JSON)
    assert bad.status_code == 400 and bad.json()["error"]
    theirs = other.post(_url("vote_duel", workshop, phase), {"duel": duel["id"], "choice": "left"}, **JSON)
    assert theirs.status_code == 400
    assert Duel.objects.get(pk=duel["id"]).answered_at is None


def test_a_pair_whose_idea_was_hidden_is_replaced(voting):
    workshop, phase, _ideas = voting
    person, _client = make_guest(workshop)
    viewer = viewer_of(workshop, participant=person)
    turn = services.duel_next(viewer=viewer, phase_id=phase.pk)
    Idea.objects.filter(pk=turn.duel.left_id).update(hidden_at="2026-01-01T10:00Z")
    assert voting_view(viewer, phase).duel is None, "the panel does not show a hidden idea"
    fresh = services.duel_next(viewer=viewer, phase_id=phase.pk)
    assert fresh.duel.pk != turn.duel.pk
    assert turn.duel.left_id not in (fresh.duel.left_id, fresh.duel.right_id)


# --- ranking -------------------------------------------------------------------------------------
def _duel(phase, left, right, choice):
    return Duel.objects.create(phase=phase, left=left, right=right, choice=choice, answered_at="2026-01-01T10:00Z")


def test_ranking_counts_merged_ideas_for_their_survivor_and_drops_self_comparisons(voting):
    _workshop, phase, (a, b, c, d) = voting
    for _ in range(3):
        _duel(phase, a, c, "left")
        _duel(phase, b, d, "left")
    _duel(phase, a, b, "left")  # becomes a self-comparison once a is merged into b
    _duel(phase, c, d, "skip")
    Idea.objects.filter(pk=a.pk).update(merged_into=b)
    ranking = ranking_for(phase)
    by_id = {item.id: item for item in ranking.items}
    assert a.pk not in by_id, "merged ideas are not in the running"
    assert (by_id[b.pk].wins, by_id[b.pk].losses) == (6, 0)
    assert by_id[c.pk].skips == 1 and by_id[c.pk].appearances == 3
    assert ranking.ranked[0].id == b.pk and ranking.ranked[0].rank == 1
    assert ranking.votes == 8 and ranking.voters == 0  # rows without a voter (as after closing) are nobody
    everything = {item.id: item for item in ranking_for(phase, include_inactive=True).items}
    assert everything[a.pk].merged_into_id == b.pk and everything[a.pk].rank is None
    assert everything[a.pk].wins == 4, "a merged idea shows its own duels"


def test_an_idea_is_ranked_only_after_min_appearances(voting):
    _workshop, phase, (a, b, c, _d) = voting
    Phase.objects.filter(pk=phase.pk).update(min_appearances=3)
    phase.refresh_from_db()
    _duel(phase, a, b, "left")
    _duel(phase, a, b, "left")
    _duel(phase, a, c, "right")
    ranking = ranking_for(phase)
    by_id = {item.id: item for item in ranking.items}
    assert by_id[a.pk].rank == 1 and by_id[a.pk].appearances == 3
    assert by_id[b.pk].rank is None and by_id[b.pk].score is not None
    assert {item.id for item in ranking.unranked} >= {b.pk, c.pk}
    payload = ranking_payload(ranking)
    assert payload["top"][0]["id"] == a.pk and payload["unranked"] == 3 and payload["ideas"] == 4
    assert 0 <= payload["top"][0]["score"] <= 100 and payload["top"][0]["uncertainty"] > 0


# --- dots and ratings ------------------------------------------------------------------------------
def test_dots_budget_counts_the_team(live_workshop, django_capture_on_commit_callbacks):
    ideas_phase, phase = _phases(live_workshop, voting=Phase.Voting.DOTS, dots_per_person=2)
    a, b = _ideas(ideas_phase, 2)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    _person, client = make_guest(live_workshop, team_size=2)
    url = _url("vote_dot", live_workshop, phase)
    for idea in (a, a, a, b):
        body = client.post(url, {"idea": idea.pk, "action": "add"}, **JSON).json()
    assert body["used"] == 4 and body["budget"] == 4 and body["left"] == 0
    refused = client.post(url, {"idea": b.pk, "action": "add"}, **JSON)
    assert refused.status_code == 400 and "4" in refused.json()["error"]
    assert Ballot.objects.get(idea=a).value == 3
    body = client.post(url, {"idea": b.pk, "action": "remove"}, **JSON).json()
    assert body["dots"] == 0 and body["left"] == 1
    assert not Ballot.objects.filter(idea=b).exists()
    ranking = ranking_for(phase)
    assert ranking.votes == 3 and ranking.ranked[0].id == a.pk and ranking.ranked[0].score == 100
    html = client.get(reverse("facilitation:live", args=[live_workshop.pk])).content.decode()
    assert "You have 1 dot left of 4." in html and "3 dots" in html
    assert html.count("Add a dot") == 2 and "data-dot-add disabled" not in html


@pytest.mark.parametrize("count", [5, 300])
@pytest.mark.parametrize("method", [Phase.Voting.PAIRWISE, Phase.Voting.DOTS])
def test_the_voting_panel_reads_with_a_fixed_number_of_queries(
    live_workshop, django_capture_on_commit_callbacks, django_assert_max_num_queries, count, method
):
    ideas_phase, phase = _phases(live_workshop, voting=method)
    _ideas(ideas_phase, count)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    person, _client = make_guest(live_workshop)
    viewer = viewer_of(live_workshop, participant=person)
    if method == Phase.Voting.PAIRWISE:
        services.duel_next(viewer=viewer, phase_id=phase.pk)
    with django_assert_max_num_queries(5):
        view = voting_view(viewer, phase)
    assert view.can_vote and view.idea_count == count
    assert (view.duel is not None) == (method == Phase.Voting.PAIRWISE)


def test_a_rating_is_from_1_to_5_and_can_change(live_workshop, django_capture_on_commit_callbacks):
    ideas_phase, phase = _phases(live_workshop, voting=Phase.Voting.RATING, min_appearances=2)
    (idea,) = _ideas(ideas_phase, 1)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    _person, client = make_guest(live_workshop)
    url = _url("vote_rating", live_workshop, phase)
    for bad in ("0", "6", "x", ""):
        response = client.post(url, {"idea": idea.pk, "value": bad}, **JSON)
        assert response.status_code == 400 and "1 to 5" in response.json()["error"]
    assert client.post(url, {"idea": idea.pk, "value": "3"}, **JSON).json()["value"] == 3
    assert client.post(url, {"idea": idea.pk, "value": "5"}, **JSON).json()["value"] == 5
    assert list(Ballot.objects.values_list("value", flat=True)) == [5]
    ranking = ranking_for(phase)
    assert ranking.items[0].rating_mean == 5 and ranking.items[0].score == 100
    assert ranking.items[0].rank == 1, "rated by every voter so far"


def test_no_vote_on_ones_own_idea(live_workshop, django_capture_on_commit_callbacks):
    ideas_phase, phase = _phases(live_workshop, voting=Phase.Voting.RATING)
    person, client = make_guest(live_workshop)
    (idea,) = _ideas(ideas_phase, 1, author_participant=person)
    _go(live_workshop, phase, django_capture_on_commit_callbacks)
    response = client.post(_url("vote_rating", live_workshop, phase), {"idea": idea.pk, "value": "5"}, **JSON)
    assert response.status_code == 400
    assert "Your idea" in client.get(reverse("facilitation:live", args=[live_workshop.pk])).content.decode()


# --- results --------------------------------------------------------------------------------------
def test_only_facilitators_open_the_results_and_everyone_is_told(
    voting, facilitator_client, django_capture_on_commit_callbacks
):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    toggle = _url("results_toggle", workshop, phase)
    assert client.post(toggle, {"action": "open"}, **JSON).status_code == 403
    assert client.get(_url("results_ranking", workshop, phase)).status_code == 403
    assert "Current ranking" not in client.get(reverse("facilitation:live", args=[workshop.pk])).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert facilitator_client.post(toggle, {"action": "open"}, **JSON).json()["open"] is True
    event = Event.objects.filter(kind="results.opened").get()
    assert event.audience == Event.Audience.ALL and event.payload == {"phase": phase.pk}
    assert "Current ranking" in client.get(reverse("facilitation:live", args=[workshop.pk])).content.decode()
    assert client.get(_url("results_ranking", workshop, phase)).json()["phase"] == phase.pk

    with django_capture_on_commit_callbacks(execute=True):
        facilitator_client.post(toggle, {"action": "close"}, **JSON)
    assert Event.objects.filter(kind="results.closed", audience=Event.Audience.ALL).count() == 1
    phase.refresh_from_db()
    assert phase.results_open_at is None
    control = facilitator_client.get(reverse("facilitation:control", args=[workshop.pk])).content.decode()
    assert "Show results to participants" in control and "Current ranking" in control


def test_the_ranking_push_is_batched_per_phase(voting, celery_eager, django_capture_on_commit_callbacks):
    _workshop, phase, _ideas = voting
    celery_eager(False)
    with (
        mock.patch.object(ranking_publish, "apply_async") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(20):
            services.ranking_changed(phase=phase)
    schedule.assert_called_once_with(args=[phase.pk], countdown=0.5)
    assert cache.get(ranking_gate_key(phase.pk)) is not None

    with mock.patch("facilitation.tasks.realtime.publish_ephemeral") as push:
        ranking_publish.run(phase.pk)
    push.assert_called_once()
    assert push.call_args.kwargs["kind"] == "ranking"
    assert push.call_args.kwargs["staff_only"] is True, "results are not open: facilitators only"
    assert push.call_args.kwargs["payload"]["phase"] == phase.pk
    assert cache.get(ranking_gate_key(phase.pk)) is None, "the task lifts the gate"

    with (
        mock.patch.object(ranking_publish, "apply_async") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.ranking_changed(phase=phase)
    schedule.assert_called_once()


def test_eager_celery_pushes_after_each_vote_without_recursing(
    voting, django_capture_on_commit_callbacks, celery_eager
):
    celery_eager(True)  # as without REDIS_URL
    workshop, phase, _ideas = voting
    person, _client = make_guest(workshop)
    viewer = viewer_of(workshop, participant=person)
    duel = services.duel_next(viewer=viewer, phase_id=phase.pk).duel
    Phase.objects.filter(pk=phase.pk).update(results_open_at="2026-01-01T10:00Z")
    with (
        mock.patch("facilitation.tasks.realtime.publish_ephemeral") as push,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.duel_answer(viewer=viewer, phase_id=phase.pk, duel_id=duel.pk, choice="left")
    assert push.call_count == 1
    assert push.call_args.kwargs["staff_only"] is False, "results are open: everyone"
    assert push.call_args.kwargs["payload"]["votes"] == 1


def test_results_open_only_in_a_prioritisation(voting):
    workshop, _phase, _ideas = voting
    writing = workshop.phases.order_by("position").first()
    with pytest.raises(LiveError):
        services.results_show(viewer=viewer_of(workshop, staff=True), phase_id=writing.pk, show=True)


def test_an_answer_from_a_page_with_the_pair_form_gets_only_the_next_texts(voting):
    workshop, phase, _ideas = voting
    _person, client = make_guest(workshop)
    first = _start(client, workshop, phase)
    assert "html" in first and first["duel"]["id"]
    answer = {"duel": first["duel"]["id"], "choice": "left", "has_form": "1"}
    response = client.post(_url("vote_duel", workshop, phase), answer, **JSON).json()
    assert response["duel"]["left"]["text"] and "html" not in response
    plain = client.post(_url("vote_duel", workshop, phase), {"duel": response["duel"]["id"], "choice": "skip"}, **JSON)
    assert "html" in plain.json()


def test_a_vote_broken_by_a_deadlock_runs_again_and_other_errors_do_not():
    from django.db import OperationalError

    from facilitation.services.voting import _retried_on_deadlock

    class DatabaseError(Exception):  # what psycopg raises: an exception with the SQLSTATE code
        def __init__(self, sqlstate):
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    def failure(sqlstate):
        error = OperationalError("deadlock detected")
        error.__cause__ = DatabaseError(sqlstate)
        return error

    calls = []

    @_retried_on_deadlock
    def vote(**arguments):
        calls.append(arguments)
        if len(calls) == 1:
            raise failure("40P01")
        return "counted"

    assert vote(duel_id=1) == "counted" and calls == [{"duel_id": 1}, {"duel_id": 1}]

    @_retried_on_deadlock
    def broken(**arguments):
        calls.append(arguments)
        raise failure("08006")

    calls.clear()
    with pytest.raises(OperationalError):
        broken()
    assert len(calls) == 1
