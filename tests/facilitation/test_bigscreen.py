"""The big screen: who may open it, what it shows, data.json's shape and its constant query count."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilitation import services
from facilitation.models import Duel, Idea, Phase, Presence
from tests.facilitation.conftest import make_guest
from tests.facilitation.factories import IdeaFactory
from workshops.models import Participant


# --- helpers ----------------------------------------------------------------------------
@pytest.fixture
def facilitator_client(facilitator_client):
    """The facilitator's pages in English, which the assertions read."""
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return facilitator_client


def _urls(workshop) -> tuple[str, str]:
    return (
        reverse("facilitation:bigscreen", args=[workshop.pk]),
        reverse("facilitation:bigscreen_data", args=[workshop.pk]),
    )


def _phases(workshop, *, ideas_public: bool = True) -> tuple[Phase, Phase]:
    ideas = services.phase_create(
        workshop=workshop, kind=Phase.Kind.IDEAS, title="Ideoita kesään", duration_minutes=10, ideas_public=ideas_public
    )
    vote = services.phase_create(
        workshop=workshop, kind=Phase.Kind.PRIORITISATION, title="Mikä ensin?", duration_minutes=10
    )
    return ideas, vote


def _ideas(phase: Phase, count: int, **fields) -> list[Idea]:
    return Idea.objects.bulk_create(
        Idea(
            client_id=uuid.uuid4(),
            workshop=phase.workshop,
            phase=phase,
            text=f"Idea numero {index}",
            language="fi",
            **fields,
        )
        for index in range(count)
    )


def _vote(vote_phase: Phase, pairs, voter: Participant) -> None:
    """Answered duels, the left idea winning, with the ideas' counters kept as the vote service keeps them."""
    now = timezone.now()
    duels = []
    for left, right in pairs:
        duels.append(
            Duel(
                phase=vote_phase,
                left=left,
                right=right,
                voter_participant=voter,
                choice=Duel.Choice.LEFT,
                shown_at=now,
                answered_at=now,
            )
        )
        for idea, won in ((left, True), (right, False)):
            idea.shown += 1
            idea.wins += int(won)
            idea.losses += int(not won)
    Duel.objects.bulk_create(duels)
    Idea.objects.bulk_update({idea.pk: idea for pair in pairs for idea in pair}.values(), ["shown", "wins", "losses"])


def _go(workshop, phase: Phase, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.phase_go(workshop=workshop, phase=phase)


@pytest.fixture
def voting(live_workshop, participant, django_capture_on_commit_callbacks):
    """10 ideas, every pair compared once (each idea 9 times, above min_appearances 6), plus 3 new ones."""
    ideas_phase, vote_phase = _phases(live_workshop)
    ideas = _ideas(ideas_phase, 10)
    _vote(vote_phase, list(itertools.combinations(ideas, 2)), participant.participant)
    late = _ideas(ideas_phase, 3)
    _go(live_workshop, vote_phase, django_capture_on_commit_callbacks)
    return ideas_phase, vote_phase, ideas, late


# --- who may open it ----------------------------------------------------------------------
@pytest.mark.parametrize("route", [0, 1])
def test_facilitator_opens_both(live_workshop, facilitator_client, route):
    response = facilitator_client.get(_urls(live_workshop)[route])
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("route", [0, 1])
def test_participant_is_forbidden(live_workshop, route):
    _person, client = make_guest(live_workshop)
    assert client.get(_urls(live_workshop)[route]).status_code == 403


@pytest.mark.parametrize("route", [0, 1])
def test_contact_person_is_forbidden(live_workshop, contact_person, route):
    client = Client()
    client.force_login(contact_person)
    assert client.get(_urls(live_workshop)[route]).status_code == 403


@pytest.mark.parametrize("route", [0, 1])
def test_outsider_gets_404(live_workshop, outsider, route):
    client = Client()
    client.force_login(outsider)
    assert client.get(_urls(live_workshop)[route]).status_code == 404


def test_another_workshops_guest_gets_404(live_workshop, organisation):
    from tests.workshops.factories import WorkshopFactory

    other = WorkshopFactory(organisation=organisation)
    _person, client = make_guest(other)
    for url in _urls(live_workshop):
        assert client.get(url).status_code == 404


def test_anonymous_is_sent_to_sign_in_or_gets_404(live_workshop):
    page, data = _urls(live_workshop)
    response = Client().get(page)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert Client().get(data).status_code == 404


def test_missing_workshop_is_404(facilitator_client):
    assert facilitator_client.get(reverse("facilitation:bigscreen", args=[999999])).status_code == 404


@pytest.mark.parametrize("route", [0, 1])
def test_post_is_not_allowed(live_workshop, facilitator_client, route):
    assert facilitator_client.post(_urls(live_workshop)[route]).status_code == 405


def test_control_page_links_to_the_big_screen(live_workshop, facilitator_client):
    response = facilitator_client.get(reverse("facilitation:control", args=[live_workshop.pk]))
    assert _urls(live_workshop)[0] in response.content.decode()


# --- the page ------------------------------------------------------------------------------
def test_page_shows_the_ranking_join_code_and_numbers(voting, facilitator_client, live_workshop, participant):
    with_code = services.join_code_set(workshop=live_workshop, enabled=True)
    Presence.objects.create(key="a", workshop=live_workshop, participant=participant.participant)
    html = facilitator_client.get(_urls(live_workshop)[0]).content.decode()
    code = with_code.join_code
    assert f"{code[:3]} {code[3:]}" in html
    assert f"{reverse('facilitation:join_qr', args=[live_workshop.pk])}?code={code}" in html
    assert reverse("facilitation:join_code") in html
    assert "Mikä ensin?" in html
    # Every idea beat the later ones: idea 0 ranks first, idea 9 last; the 3 new ones need votes.
    assert html.index("Idea numero 0") < html.index("Idea numero 1") < html.index("Idea numero 9")
    assert html.count('class="bs-row"') == 10
    assert "3 ideas still need votes" in html
    assert 'data-bs-stat="votes">45<' in html
    assert 'data-bs-stat="connected">1<' in html
    # live.js connects from this page and bigscreen.js follows its events.
    assert f'data-ws-path="/ws/w/{live_workshop.pk}/"' in html
    assert 'id="live-strings"' in html and 'id="bigscreen-strings"' in html
    assert "js/live.js" in html and "js/bigscreen.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)


def test_page_without_join_code_or_votes(live_workshop, facilitator_client, django_capture_on_commit_callbacks):
    _ideas_phase, vote_phase = _phases(live_workshop)
    _ideas(_ideas_phase, 4)
    _go(live_workshop, vote_phase, django_capture_on_commit_callbacks)
    html = facilitator_client.get(_urls(live_workshop)[0]).content.decode()
    assert "join-code/qr.svg" not in html
    assert 'class="bs-row"' not in html
    assert "No idea has enough votes yet" in html
    assert "4 ideas still need votes" in html


def test_page_in_an_idea_collection_shows_the_newest_ideas(
    live_workshop, facilitator_client, django_capture_on_commit_callbacks
):
    ideas_phase, _vote_phase = _phases(live_workshop)
    _ideas(ideas_phase, 3)
    _go(live_workshop, ideas_phase, django_capture_on_commit_callbacks)
    html = facilitator_client.get(_urls(live_workshop)[0]).content.decode()
    assert "3 ideas" in html
    assert "Idea numero 2" in html


def test_idea_text_is_escaped(live_workshop, facilitator_client, django_capture_on_commit_callbacks):
    ideas_phase, _vote_phase = _phases(live_workshop)
    IdeaFactory(phase=ideas_phase, text="<b>rohkea</b>")
    _go(live_workshop, ideas_phase, django_capture_on_commit_callbacks)
    html = facilitator_client.get(_urls(live_workshop)[0]).content.decode()
    assert "<b>rohkea</b>" not in html
    assert "&lt;b&gt;rohkea&lt;/b&gt;" in html


# --- data.json --------------------------------------------------------------------------------
def test_data_json_shape_during_prioritisation(voting, facilitator_client, live_workshop, participant):
    _ideas_phase, vote_phase, ideas, late = voting
    team = Participant.objects.create(workshop=live_workshop, name="Luokka 9B", team_size=24)
    absent = Participant.objects.create(workshop=live_workshop, name="Poissa", team_size=30)
    Presence.objects.create(key="a", workshop=live_workshop, participant=participant.participant)
    Presence.objects.create(key="b", workshop=live_workshop, participant=team)
    Presence.objects.create(key="c", workshop=live_workshop, participant=team)  # a second tab
    Presence.objects.create(
        key="d", workshop=live_workshop, participant=absent, seen_at=timezone.now() - timedelta(hours=1)
    )
    data = facilitator_client.get(_urls(live_workshop)[1]).json()
    assert set(data) == {"status", "phase", "stats", "join", "ranking", "ideas", "need_votes"}
    assert data["status"] == "live"
    assert data["phase"] == {"id": vote_phase.pk, "title": "Mikä ensin?", "kind": "prioritisation"}
    assert data["stats"] == {"connected": 2, "people": 1 + 24}
    assert data["join"] is None
    assert data["ideas"] is None
    assert data["need_votes"] == 3
    ranking = data["ranking"]
    assert ranking["phase"] == vote_phase.pk
    assert ranking["votes"] == 45
    assert ranking["voters"] == 1
    top = ranking["top"]
    assert [item["id"] for item in top] == [idea.pk for idea in ideas]
    assert [item["rank"] for item in top] == list(range(1, 11))
    assert set(top[0]) >= {"id", "text", "score", "uncertainty", "rank", "appearances"}
    assert top[0]["score"] > top[-1]["score"]
    assert not {idea.pk for idea in late} & {item["id"] for item in top}


def test_data_json_during_idea_collection(live_workshop, facilitator_client, django_capture_on_commit_callbacks):
    ideas_phase, _vote_phase = _phases(live_workshop)
    ideas = _ideas(ideas_phase, 8)
    Idea.objects.filter(pk=ideas[7].pk).update(hidden_at=timezone.now())
    Idea.objects.filter(pk=ideas[6].pk).update(merged_into=ideas[0])
    _go(live_workshop, ideas_phase, django_capture_on_commit_callbacks)
    data = facilitator_client.get(_urls(live_workshop)[1]).json()
    assert data["ranking"] is None
    assert data["ideas"]["count"] == 6
    assert data["ideas"]["public"] is True
    # Newest first; hidden and merged ideas never reach the screen.
    assert [idea["id"] for idea in data["ideas"]["newest"]] == [idea.pk for idea in reversed(ideas[:6])]
    assert data["ideas"]["newest"][0] == {"id": ideas[5].pk, "text": "Idea numero 5"}


def test_private_idea_collection_shows_only_the_count(
    live_workshop, facilitator_client, django_capture_on_commit_callbacks
):
    ideas_phase, _vote_phase = _phases(live_workshop, ideas_public=False)
    _ideas(ideas_phase, 5)
    _go(live_workshop, ideas_phase, django_capture_on_commit_callbacks)
    response = facilitator_client.get(_urls(live_workshop)[1])
    assert response.json()["ideas"] == {"phase": ideas_phase.pk, "count": 5, "public": False, "newest": []}
    assert "Idea numero" not in facilitator_client.get(_urls(live_workshop)[0]).content.decode()


def test_data_json_other_phase_and_join_code(live_workshop, facilitator_client):
    live = services.join_code_set(workshop=live_workshop, enabled=True)
    data = facilitator_client.get(_urls(live_workshop)[1]).json()
    assert data["phase"]["kind"] == "presentation"
    assert data["ranking"] is None and data["ideas"] is None
    code = live.join_code
    assert data["join"]["code"] == code
    assert data["join"]["code_display"] == f"{code[:3]} {code[3:]}"
    assert data["join"]["qr_url"].endswith(f"/join-code/qr.svg?code={code}")
    assert not data["join"]["address"].startswith("http")
    assert data["stats"] == {"connected": 0, "people": 0}


def test_data_json_follows_the_phase(voting, live_workshop, facilitator_client, django_capture_on_commit_callbacks):
    ideas_phase, _vote_phase, _ideas_made, _late = voting
    assert facilitator_client.get(_urls(live_workshop)[1]).json()["ranking"] is not None
    _go(live_workshop, ideas_phase, django_capture_on_commit_callbacks)
    data = facilitator_client.get(_urls(live_workshop)[1]).json()
    assert data["ranking"] is None
    assert data["ideas"]["count"] == 13


def test_data_json_reuses_the_latest_pushed_ranking(voting, live_workshop, facilitator_client):
    from django.core.cache import cache

    from facilitation.tasks import ranking_cache_key

    _ideas_phase, vote_phase, _ideas_made, _late = voting
    fresh = facilitator_client.get(_urls(live_workshop)[1]).json()["ranking"]
    cache.set(ranking_cache_key(vote_phase.pk), {**fresh, "votes": 999}, 2)
    assert facilitator_client.get(_urls(live_workshop)[1]).json()["ranking"]["votes"] == 999
    cache.clear()
    assert facilitator_client.get(_urls(live_workshop)[1]).json()["ranking"]["votes"] == 45


# --- query count ------------------------------------------------------------------------------------
def _data_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_ideas_and_votes(
    live_workshop, participant, facilitator_client, django_capture_on_commit_callbacks
):
    ideas_phase, vote_phase = _phases(live_workshop)
    services.join_code_set(workshop=live_workshop, enabled=True)
    ideas = _ideas(ideas_phase, 10)
    _vote(vote_phase, list(itertools.combinations(ideas, 2)), participant.participant)
    _go(live_workshop, vote_phase, django_capture_on_commit_callbacks)
    page, data = _urls(live_workshop)
    few_data, few_page = _data_queries(facilitator_client, data), _data_queries(facilitator_client, page)

    more = _ideas(ideas_phase, 290)
    rng = random.Random(7)
    pool = ideas + more
    pairs = [tuple(rng.sample(pool, 2)) for _ in range(1200)]
    _vote(vote_phase, pairs, participant.participant)
    assert Idea.objects.filter(phase=ideas_phase).count() == 300
    assert _data_queries(facilitator_client, data) == few_data
    assert _data_queries(facilitator_client, page) == few_page
