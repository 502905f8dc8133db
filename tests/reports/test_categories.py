"""Categories and tagging in the platform: services, the pages' permissions, bad input, query counts, anonymity."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from facilitation.models import Phase, Room, Round
from reports import categories as services
from reports.models import Category, CommentCategory
from tests.accounts.factories import FacilitatorFactory
from tests.facilitation.factories import CommentFactory, PhaseFactory
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory

pytestmark = pytest.mark.django_db
CANARY_ID = 987655


def url(name, workshop, *args):
    return reverse(f"reports:{name}", args=[workshop.pk, *args])


def writing_phase(workshop):
    return workshop.phases.filter(kind=Phase.Kind.PRESENTATION).order_by("position").first()


def write(workshop, count=1, **fields):
    phase = fields.pop("phase", None) or writing_phase(workshop)
    return [CommentFactory(phase=phase, workshop=workshop, **fields) for _ in range(count)]


def tagged(comment) -> set[str]:
    return set(CommentCategory.objects.filter(comment=comment).values_list("category__name", flat=True))


@pytest.fixture
def other_workshop(db):
    workshop = WorkshopFactory(title="Toinen työpaja")
    case = CaseFactory(workshop=workshop)
    phase = PhaseFactory(workshop=workshop, kind=Phase.Kind.PRESENTATION, case=case)
    return workshop, phase


@pytest.fixture(autouse=True)
def _english(facilitator_client, settings):
    """The pages are checked in English; their translations come later."""
    facilitator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def client_for(contact_person, outsider, plain_user, facilitator):
    def make(who):
        client = Client()
        user = {"contact person": contact_person, "outsider": outsider, "plain user": plain_user}.get(who)
        if who == "facilitator":
            user = facilitator
        if user is not None:
            client.force_login(user)
        return client

    return make


# --- services ---------------------------------------------------------------------------------


def test_create_refuses_a_taken_name_case_insensitively_and_a_bad_colour(live_workshop):
    first = services.category_create(workshop=live_workshop, name="  Äänestys  ", colour="#A4161A")
    assert first.name == "Äänestys" and first.colour == "#a4161a"
    for name, colour in (("ÄÄNESTYS", "#0b4f8a"), ("äänestys ", "#0b4f8a"), ("Uusi", "red"), ("", "#0b4f8a")):
        with pytest.raises(ValidationError):
            services.category_create(workshop=live_workshop, name=name, colour=colour)
    assert list(Category.objects.values_list("name", flat=True)) == ["Äänestys"]
    # the same name is fine in another workshop
    assert services.category_create(workshop=WorkshopFactory(), name="Äänestys").pk


def test_update_keeps_its_own_name_but_not_anothers(live_workshop):
    talous = services.category_create(workshop=live_workshop, name="Talous")
    services.category_create(workshop=live_workshop, name="Resurssit")
    services.category_update(category=talous, name="TALOUS", colour="#1e6b34", description="Rahat")
    talous.refresh_from_db()
    assert (talous.name, talous.colour, talous.description) == ("TALOUS", "#1e6b34", "Rahat")
    with pytest.raises(ValidationError) as error:
        services.category_update(category=talous, name="resurssit", colour="#1e6b34")
    assert "Resurssit" not in str(error.value) or "already" in str(error.value)
    assert Category.objects.get(pk=talous.pk).name == "TALOUS"


def test_merge_moves_taggings_without_duplicates_and_deletes_the_source(live_workshop):
    a, b, c = write(live_workshop, 3)
    source = services.category_create(workshop=live_workshop, name="Rahat")
    target = services.category_create(workshop=live_workshop, name="Talous")
    other = services.category_create(workshop=live_workshop, name="Muu")
    for comment in (a, b):
        services.comment_tag(comment=comment, category=source)
    for comment in (b, c):
        services.comment_tag(comment=comment, category=target)
    services.comment_tag(comment=a, category=other)
    assert services.category_merge(source=source, target=target) == target
    assert not Category.objects.filter(pk=source.pk).exists()
    assert set(target.taggings.values_list("comment_id", flat=True)) == {a.pk, b.pk, c.pk}
    assert CommentCategory.objects.filter(category=target).count() == 3
    assert tagged(a) == {"Talous", "Muu"}


def test_merge_refuses_itself_and_another_workshops_category(live_workshop, other_workshop):
    mine = services.category_create(workshop=live_workshop, name="Talous")
    theirs = services.category_create(workshop=other_workshop[0], name="Talous")
    with pytest.raises(ValidationError):
        services.category_merge(source=mine, target=mine)
    with pytest.raises(ValidationError):
        services.category_merge(source=mine, target=theirs)
    assert Category.objects.count() == 2


def test_bulk_tagging_touches_only_this_workshops_live_comments(live_workshop, other_workshop):
    own = write(live_workshop, 3)
    deleted = write(live_workshop, deleted_at=timezone.now())[0]
    foreign = CommentFactory(phase=other_workshop[1])
    category = services.category_create(workshop=live_workshop, name="Ideat")
    services.comment_tag(comment=own[0], category=category)
    ids = [comment.pk for comment in (*own, deleted, foreign)] + [10**9]
    assert services.comments_tag_bulk(workshop=live_workshop, comment_ids=ids, category=category) == 2
    assert set(category.taggings.values_list("comment_id", flat=True)) == {comment.pk for comment in own}
    assert services.comments_tag_bulk(workshop=live_workshop, comment_ids=ids, category=category) == 0

    foreign_category = services.category_create(workshop=other_workshop[0], name="Ideat")
    services.comment_tag(comment=foreign, category=foreign_category)
    with pytest.raises(ValidationError):
        services.comments_tag_bulk(workshop=live_workshop, comment_ids=[own[0].pk], category=foreign_category)
    with pytest.raises(ValidationError):
        services.comment_tag(comment=own[0], category=foreign_category)
    assert services.comments_untag_bulk(workshop=live_workshop, comment_ids=ids, category=category) == 3
    assert not category.taggings.exists() and foreign_category.taggings.count() == 1


def test_a_comment_gets_exactly_the_categories_set(live_workshop):
    comment = write(live_workshop)[0]
    a, b, c = (services.category_create(workshop=live_workshop, name=name) for name in ("A", "B", "C"))
    services.comment_tag(comment=comment, category=a)
    services.comment_tag(comment=comment, category=a)  # twice is once
    services.comment_categories_set(comment=comment, categories=[b, c])
    assert tagged(comment) == {"B", "C"}
    assert services.comment_untag(comment=comment, category=b) is True
    assert services.comment_untag(comment=comment, category=b) is False
    assert services.category_delete(category=c) == 1
    assert tagged(comment) == set()


# --- permissions ------------------------------------------------------------------------------

PAGES = [("categories", ()), ("tagging", ()), ("reimport", ())]
CATEGORY_PAGES = ["category_edit", "category_delete", "category_merge"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("outsider", 404), ("plain user", 404), ("contact person", 403), ("facilitator", 200)],
)
def test_only_facilitators_reach_the_pages(live_workshop, client_for, who, status):
    category = services.category_create(workshop=live_workshop, name="Talous")
    client = client_for(who)
    urls = [url(name, live_workshop) for name, _ in PAGES]
    urls += [url(name, live_workshop, category.pk) for name in CATEGORY_PAGES]
    for address in urls:
        response = client.get(address)
        assert response.status_code == status, address
        if status == 302:
            assert response["Location"].startswith(reverse("account_login"))
    for name, args in (("tagging_bulk", ()), ("tagging_comment", (write(live_workshop)[0].pk,))):
        response = client.post(url(name, live_workshop, *args), {"category": category.pk, "action": "add"})
        assert response.status_code == (302 if who in {"anonymous", "facilitator"} else status)
    assert not category.taggings.exists()


def test_post_only_actions_refuse_get(live_workshop, facilitator_client):
    comment = write(live_workshop)[0]
    for address in (
        url("tagging_bulk", live_workshop),
        url("tagging_comment", live_workshop, comment.pk),
        url("reimport_apply", live_workshop),
    ):
        assert facilitator_client.get(address).status_code == 405


def test_another_workshops_category_or_comment_is_not_found(live_workshop, other_workshop, facilitator_client):
    theirs = services.category_create(workshop=other_workshop[0], name="Heidän")
    mine = services.category_create(workshop=live_workshop, name="Oma")
    foreign_comment = CommentFactory(phase=other_workshop[1])
    own_comment = write(live_workshop)[0]
    for name in CATEGORY_PAGES:
        assert facilitator_client.get(url(name, live_workshop, theirs.pk)).status_code == 404
        assert facilitator_client.post(url(name, live_workshop, theirs.pk)).status_code == 404
    bulk = {"category": theirs.pk, "action": "add", "comments": [own_comment.pk]}
    assert facilitator_client.post(url("tagging_bulk", live_workshop), bulk).status_code == 404
    one = {"categories": [theirs.pk]}
    assert facilitator_client.post(url("tagging_comment", live_workshop, own_comment.pk), one).status_code == 404
    one = {"categories": [mine.pk]}
    assert facilitator_client.post(url("tagging_comment", live_workshop, foreign_comment.pk), one).status_code == 404
    response = facilitator_client.post(
        url("category_merge", live_workshop, mine.pk), {"target": theirs.pk, "confirm": "1"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert Category.objects.filter(pk=mine.pk).exists()
    assert not CommentCategory.objects.exists()


# --- the categories page ------------------------------------------------------------------------


def test_create_edit_and_delete_a_category(live_workshop, facilitator_client):
    response = facilitator_client.post(
        url("categories", live_workshop), {"name": "Resurssit", "colour": "#1E6B34", "description": "Raha ja aika"}
    )
    assert response.status_code == 302
    category = Category.objects.get(workshop=live_workshop)
    assert (category.name, category.colour, category.description) == ("Resurssit", "#1e6b34", "Raha ja aika")
    a, b = write(live_workshop, 2)
    services.comments_tag_bulk(workshop=live_workshop, comment_ids=[a.pk, b.pk], category=category)

    page = facilitator_client.get(url("categories", live_workshop)).content.decode()
    assert "Resurssit" in page and 'fill="#1e6b34"' in page and "Raha ja aika" in page
    assert re.search(r">2<span class=\"visually-hidden\"> comments: Resurssit", page)

    response = facilitator_client.post(
        url("category_edit", live_workshop, category.pk), {"name": "Resurssit ja aika", "colour": "#a4161a"}
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.name == "Resurssit ja aika"

    asks = facilitator_client.get(url("category_delete", live_workshop, category.pk)).content.decode()
    assert "will be removed from 2 comments" in asks
    assert Category.objects.filter(pk=category.pk).exists()
    response = facilitator_client.post(url("category_delete", live_workshop, category.pk), follow=True)
    assert "removed from 2 comments" in response.content.decode()
    assert not Category.objects.exists() and not CommentCategory.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "resurssit", "colour": "#0b4f8a"}, "There is already a category called"),
        ({"name": "Uusi", "colour": "red"}, "Give the colour as #RRGGBB"),
        ({"name": "Uusi", "colour": "#12345"}, "Give the colour as #RRGGBB"),
        ({"name": "   ", "colour": "#0b4f8a"}, "This field is required"),
        ({"name": "x" * 101, "colour": "#0b4f8a"}, "at most 100 characters"),
    ],
)
def test_bad_input_shows_a_message_and_saves_nothing(live_workshop, facilitator_client, data, message):
    services.category_create(workshop=live_workshop, name="Resurssit")
    response = facilitator_client.post(url("categories", live_workshop), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'role="alert"' in page
    assert list(Category.objects.values_list("name", flat=True)) == ["Resurssit"]
    edit = facilitator_client.post(url("category_edit", live_workshop, Category.objects.get().pk), data)
    if data["name"] != "resurssit":  # renaming to its own name in other letters is fine
        assert edit.status_code == 200 and message in edit.content.decode()
    assert Category.objects.get().colour == "#0b4f8a"


def test_merge_asks_first_then_merges(live_workshop, facilitator_client):
    a, b = write(live_workshop, 2)
    source = services.category_create(workshop=live_workshop, name="Rahat")
    target = services.category_create(workshop=live_workshop, name="Talous")
    services.comments_tag_bulk(workshop=live_workshop, comment_ids=[a.pk, b.pk], category=source)
    services.comment_tag(comment=b, category=target)
    choose = facilitator_client.get(url("category_merge", live_workshop, source.pk)).content.decode()
    assert "Talous" in choose and "Merge into" in choose
    missing = facilitator_client.post(url("category_merge", live_workshop, source.pk), {})
    assert missing.status_code == 200 and missing.context["form"].errors
    asks = facilitator_client.post(url("category_merge", live_workshop, source.pk), {"target": target.pk})
    assert asks.status_code == 200 and "This cannot be undone" in asks.content.decode()
    assert Category.objects.filter(pk=source.pk).exists()
    done = facilitator_client.post(
        url("category_merge", live_workshop, source.pk), {"target": target.pk, "confirm": "1"}
    )
    assert done.status_code == 302
    assert not Category.objects.filter(pk=source.pk).exists()
    assert tagged(a) == tagged(b) == {"Talous"}


# --- the tagging page ----------------------------------------------------------------------------


@pytest.fixture
def rooms(live_workshop):
    first, second = (Round.objects.create(workshop=live_workshop, number=n) for n in (1, 2))
    return {
        "1A": Room.objects.create(round=first, index=0),
        "1B": Room.objects.create(round=first, index=1),
        "2A": Room.objects.create(round=second, index=0),
    }


def fill(workshop, rooms, count):
    """``count`` comments of every kind: named, anonymous, in rooms, hidden, tagged."""
    categories = [services.category_create(workshop=workshop, name=f"Luokka {count}.{n}") for n in range(3)]
    people = [ParticipantFactory(workshop=workshop) for _ in range(3)]
    keys = list(rooms)
    comments = []
    for n in range(count):
        room = rooms[keys[n % len(keys)]] if n % 2 else None
        comment = write(
            workshop,
            author_participant=people[n % 3],
            anonymous=n % 5 == 0,
            room=room,
            round=room.round if room else None,
            hidden_at=timezone.now() if n % 7 == 0 else None,
        )[0]
        for category in categories[: n % 3]:
            services.comment_tag(comment=comment, category=category)
        comments.append(comment)
    return comments, categories


def test_tagging_page_query_count_does_not_grow(live_workshop, rooms, facilitator_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = facilitator_client.get(url("tagging", live_workshop))
        assert response.status_code == 200
        return len(captured), response

    fill(live_workshop, rooms, 5)
    few, response = queries()
    assert len(response.context["page"].object_list) == 5
    fill(live_workshop, rooms, 45)  # more categories too
    many, response = queries()
    assert len(response.context["page"].object_list) == 50
    assert few == many


def test_tagging_page_lists_marks_and_filters(live_workshop, rooms, facilitator_client):
    aino = ParticipantFactory(workshop=live_workshop, name="Aino Asukas")
    case = live_workshop.cases.order_by("position").first()
    talous = services.category_create(workshop=live_workshop, name="Talous")
    plain = write(live_workshop, author_participant=aino, text="Tavallinen havainto")[0]
    hidden = write(live_workshop, text="Piilotettu havainto", hidden_at=timezone.now())[0]
    write(live_workshop, text="Poistettu havainto", deleted_at=timezone.now())
    in_room = write(live_workshop, text="Huoneen muistiinpano", room=rooms["2A"], round=rooms["2A"].round)[0]
    services.comment_tag(comment=in_room, category=talous)
    page = facilitator_client.get(url("tagging", live_workshop)).content.decode()
    assert "Tavallinen havainto" in page and "Aino Asukas" in page
    assert "Poistettu havainto" not in page
    assert re.search(rf'id="comment-{hidden.pk}" class="is-hidden"', page)
    assert "Round 2, room A" in page and case.title in page
    assert f'id="c{in_room.pk}-k{talous.pk}" checked' in page

    def shown(**query):
        response = facilitator_client.get(url("tagging", live_workshop), query)
        return {comment.pk for comment in response.context["page"].object_list}

    assert shown(untagged="on") == {plain.pk, hidden.pk}
    assert shown(category=talous.pk) == {in_room.pk}
    assert shown(room=rooms["2A"].pk) == {in_room.pk}
    assert shown(round=rooms["2A"].round.pk) == {in_room.pk}
    assert shown(round=rooms["1A"].round.pk) == set()
    assert shown(case=case.pk) >= {plain.pk, hidden.pk}
    assert shown(case="999999", category="nonsense") == {plain.pk, hidden.pk, in_room.pk}  # unknown: ignored


def test_pagination_keeps_the_filters(live_workshop, facilitator_client):
    case = live_workshop.cases.order_by("position").first()
    write(live_workshop, 55)
    response = facilitator_client.get(url("tagging", live_workshop), {"case": case.pk, "untagged": "on"})
    page = response.content.decode()
    assert len(response.context["page"].object_list) == 50
    link = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert f"case={case.pk}" in link and "untagged=on" in link and "page=2" in link
    second = facilitator_client.get(url("tagging", live_workshop) + link)
    assert len(second.context["page"].object_list) == 5


def test_bulk_tagging_from_the_page(live_workshop, other_workshop, facilitator_client):
    a, b, c = write(live_workshop, 3)
    foreign = CommentFactory(phase=other_workshop[1])
    category = services.category_create(workshop=live_workshop, name="Ideat")
    back = url("tagging", live_workshop) + "?untagged=on&page=1"
    response = facilitator_client.post(
        url("tagging_bulk", live_workshop),
        {"category": category.pk, "action": "add", "comments": [a.pk, b.pk, foreign.pk], "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert set(category.taggings.values_list("comment_id", flat=True)) == {a.pk, b.pk}
    assert not foreign.taggings.exists()

    # "select all on this page" uses the page's comments, whatever boxes were ticked
    facilitator_client.post(
        url("tagging_bulk", live_workshop),
        {"category": category.pk, "action": "add", "all_on_page": "1", "page_comments": [a.pk, b.pk, c.pk]},
    )
    assert category.taggings.count() == 3
    response = facilitator_client.post(
        url("tagging_bulk", live_workshop),
        {"category": category.pk, "action": "remove", "comments": [a.pk], "next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("tagging", live_workshop)
    assert "“Ideat” was removed from 1 comment." in response.content.decode()
    assert set(category.taggings.values_list("comment_id", flat=True)) == {b.pk, c.pk}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "add", "comments": ["1"]}, "Choose a category."),
        ({"action": "add", "category": "x"}, "Choose a category."),
        ({"action": "add", "category": "{category}"}, "Select at least one comment."),
        ({"action": "add", "category": "{category}", "comments": ["abc"]}, "The selection was not understood"),
        ({"action": "rename", "category": "{category}", "comments": ["{comment}"]}, "Select a valid choice"),
    ],
)
def test_bulk_tagging_bad_input(live_workshop, facilitator_client, data, message):
    comment = write(live_workshop)[0]
    category = services.category_create(workshop=live_workshop, name="Ideat")
    fields = {"category": str(category.pk), "comment": str(comment.pk)}
    data = {
        key: [v.format(**fields) for v in value] if isinstance(value, list) else value.format(**fields)
        for key, value in data.items()
    }
    response = facilitator_client.post(url("tagging_bulk", live_workshop), data, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert not CommentCategory.objects.exists()


def test_per_comment_categories(live_workshop, facilitator_client):
    comment = write(live_workshop)[0]
    a, b = (services.category_create(workshop=live_workshop, name=name) for name in ("A", "B"))
    services.comment_tag(comment=comment, category=a)
    response = facilitator_client.post(url("tagging_comment", live_workshop, comment.pk), {"categories": [b.pk]})
    assert response.status_code == 302
    assert tagged(comment) == {"B"}
    facilitator_client.post(url("tagging_comment", live_workshop, comment.pk), {})
    assert tagged(comment) == set()
    deleted = write(live_workshop, deleted_at=timezone.now())[0]
    assert facilitator_client.post(url("tagging_comment", live_workshop, deleted.pk), {}).status_code == 404


# --- anonymity ----------------------------------------------------------------------------------


def test_the_tagging_page_never_shows_who_wrote_an_anonymous_comment(live_workshop, rooms, facilitator_client):
    canary = ParticipantFactory(
        pk=CANARY_ID, workshop=live_workshop, name="Kanarialintu Kaivosmies", email="kanarialintu@example.fi"
    )
    staff = FacilitatorFactory(name="Kanarialintu Henkilökunta", email="kanarialintu.staff@example.fi")
    category = services.category_create(workshop=live_workshop, name="Palaute")
    by_canary = write(live_workshop, author_participant=canary, anonymous=True, text="Salainen havainto")[0]
    write(
        live_workshop,
        author_user=staff,
        anonymous=True,
        text="Salainen huomio",
        room=rooms["1A"],
        round=rooms["1A"].round,
    )
    services.comment_tag(comment=by_canary, category=category)
    write(live_workshop, author_participant=ParticipantFactory(workshop=live_workshop, name="Nimetty Nelli"))

    pages = [
        facilitator_client.get(url("tagging", live_workshop), query).content.decode()
        for query in ({}, {"category": category.pk}, {"room": rooms["1A"].pk}, {"untagged": "on"})
    ]
    assert "Salainen havainto" in pages[0] and "Salainen huomio" in pages[0] and "Nimetty Nelli" in pages[0]
    assert pages[0].count("<em>anonymous</em>") == 2
    for page in pages:
        for marker in ("Kanarialintu", "kanarialintu@example.fi", str(CANARY_ID)):
            assert marker not in page
