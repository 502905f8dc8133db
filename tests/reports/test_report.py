"""The results report: who may see it, the participants' link, the figures, categories, charts, anonymity, queries."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilitation import services
from facilitation.models import Comment, Phase, Reaction, Room, RoomMember, Round
from reports import charts
from reports.models import Category, CommentCategory, ReportShare
from reports.selectors import Bar, workshop_report
from tests.facilitation.conftest import guest_client, viewer_of
from tests.facilitation.factories import CommentFactory
from tests.facilitation.test_anonymity import CANARY_ID, leaks
from tests.workshops.factories import CaseFactory, ParticipantFactory, WorkshopFactory
from workshops.models import Participant, Workshop

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")
ROOT = Path(__file__).resolve().parents[2]
SENT = Participant.InvitationStatus.SENT


def report_url(workshop) -> str:
    return reverse("reports:report", args=[workshop.pk])


def share_url(workshop) -> str:
    return reverse("reports:report_share", args=[workshop.pk])


def shared_url(token: str) -> str:
    return reverse("reports:report_shared", args=[token])


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = english(Client())
    client.force_login(user)
    return client


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 10, hour, minute, tzinfo=HELSINKI)


def write(workshop, phase, text, *, participant=None, user=None, anonymous=False, room=None) -> Comment:
    viewer = viewer_of(workshop, participant=participant, user=user, staff=user is not None)
    prompt = phase.prompts.order_by("position").first()
    comment, _created = services.comment_create(
        viewer=viewer,
        phase_id=phase.pk,
        prompt_id=prompt.pk if prompt and room is None else None,
        parent_id=None,
        text=text,
        anonymous=anonymous,
        client_id=uuid.uuid4(),
        language="fi",
        room_id=room.pk if room else None,
    )
    return comment


def close(workshop, facilitator, capture) -> Workshop:
    with capture(execute=True):
        services.live_close(workshop=workshop, by=facilitator)
    workshop.refresh_from_db()
    return workshop


@pytest.fixture
def results(live_workshop, facilitator):
    """A live workshop with comments in three cases, two held rounds, categories, hidden and deleted comments.

    Visible comments: case 1: 2 + 2 room notes; case 2: 1 + 2 room notes; case 3: none (its one comment is
    hidden); without a case: 1 (wrap-up). Rounds: 1 has 3 notes, 2 has 1; round 3 was never held.
    """
    workshop = live_workshop
    case1, case2, case3 = workshop.cases.order_by("position")
    phases = {phase.case_id: phase for phase in workshop.phases.filter(kind=Phase.Kind.PRESENTATION)}
    wrap_up = workshop.phases.get(kind=Phase.Kind.WRAP_UP)
    joined = timezone.now()
    aino = ParticipantFactory(workshop=workshop, name="Aino Ahkera", invitation_status=SENT, first_joined_at=joined)
    bertta = ParticipantFactory(workshop=workshop, name="Bertta Berg", invitation_status=SENT, first_joined_at=joined)
    ParticipantFactory(workshop=workshop, name="Cecilia Hiljainen", invitation_status=SENT, first_joined_at=joined)
    ParticipantFactory(workshop=workshop, name="Daniel Poissa", invitation_status=SENT)
    erkki = ParticipantFactory(workshop=workshop, name="Erkki Koodilla", first_joined_at=joined)
    leader = ParticipantFactory(workshop=workshop, name="Liisa Vetäjä", role=Participant.Role.GROUP_LEADER)

    first = write(workshop, phases[case1.pk], "Aamupalaveri säästää aikaa", participant=aino)
    second = write(workshop, phases[case1.pk], "Lyhyt ja säännöllinen", participant=aino)
    on_case2 = write(workshop, phases[case2.pk], "Kesäseteli tavoittaa nuoret", participant=aino)
    hidden = write(workshop, phases[case3.pk], "Piilotettu asiaton kommentti", participant=aino)
    services.comment_hide(viewer=viewer_of(workshop, user=None, staff=True), comment_id=hidden.pk)
    deleted = write(workshop, phases[case3.pk], "Poistettu kommentti", participant=erkki)
    services.comment_delete(viewer=viewer_of(workshop, participant=erkki), comment_id=deleted.pk)
    write(workshop, wrap_up, "Yhteinen loppukommentti", user=facilitator)

    now = timezone.now()
    round1 = Round.objects.create(workshop=workshop, number=1, started_at=now, closed_at=now)
    round2 = Round.objects.create(workshop=workshop, number=2, started_at=now, closed_at=now)
    round3 = Round.objects.create(workshop=workshop, number=3)
    room_a = Room.objects.create(round=round1, index=0, case=case1, leader=leader, summary="Ryhmä A: aamut sujuvat")
    room_b = Room.objects.create(round=round1, index=1, case=case2, summary="Ryhmä B: seteli toimii")
    room_2a = Room.objects.create(round=round2, index=0, case=case2)
    Room.objects.create(round=round3, index=0, case=case3, summary="")
    RoomMember.objects.create(round=round1, room=room_a, participant=bertta)
    rounds = workshop.phases.get(kind=Phase.Kind.ROUNDS)
    note = write(workshop, rounds, "Huoneen muistiinpano", participant=bertta, room=room_a)
    write(workshop, rounds, "Vetäjän kirjaus", user=facilitator, room=room_a)
    write(workshop, rounds, "Huone B kirjaa", user=facilitator, room=room_b)
    late = write(workshop, rounds, "Toisen kierroksen ajatus", user=facilitator, room=room_2a)

    Comment.objects.filter(workshop=workshop).update(created_at=at(13, 5))
    Comment.objects.filter(pk=on_case2.pk).update(created_at=at(13, 27))
    Comment.objects.filter(pk=late.pk).update(created_at=at(13, 41))

    resources = Category.objects.create(workshop=workshop, name="Resurssit", colour="#ffd700")
    cooperation = Category.objects.create(workshop=workshop, name="Yhteistyö", description="Yli rajojen")
    Category.objects.create(workshop=workshop, name="Tyhjä luokka")
    for comment in (first, second, on_case2, note, hidden):
        CommentCategory.objects.create(comment=comment, category=resources)
    CommentCategory.objects.create(comment=note, category=cooperation)
    # The most agreed-with comment comes first among the examples.
    Reaction.objects.create(comment=note, kind=Reaction.Kind.AGREE, participant=aino)
    return workshop


# --- who may see the report -----------------------------------------------------------------
def test_facilitator_sees_the_report_while_the_workshop_is_still_running(results, facilitator):
    response = signed_in(facilitator).get(report_url(results))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The workshop is still running" in page
    assert "Aamupalaveri säästää aikaa" in page  # an example of a category: the figures are there


def test_contact_person_gets_a_friendly_page_until_the_workshop_closes(
    results, facilitator, contact_person, django_capture_on_commit_callbacks
):
    client = signed_in(contact_person)
    before = client.get(report_url(results))
    assert before.status_code == 200
    page = before.content.decode()
    assert "The report opens when the workshop closes" in page
    assert "Aamupalaveri säästää aikaa" not in page and "chart-cases" not in page

    close(results, facilitator, django_capture_on_commit_callbacks)
    after = client.get(report_url(results)).content.decode()
    assert "The report opens when the workshop closes" not in after
    assert "still running" not in after and "chart-cases" in after
    # Contact persons see whether the report is shared, but only facilitators switch it.
    assert "Sharing is off" in after and 'value="on"' not in after

    Workshop.objects.filter(pk=results.pk).update(status=Workshop.Status.ARCHIVED)
    assert "chart-cases" in client.get(report_url(results)).content.decode()


def test_outsiders_and_other_accounts_get_404(
    results, outsider, plain_user, facilitator, django_capture_on_commit_callbacks
):
    close(results, facilitator, django_capture_on_commit_callbacks)
    assert signed_in(outsider).get(report_url(results)).status_code == 404
    assert signed_in(plain_user).get(report_url(results)).status_code == 404
    assert signed_in(facilitator).get(reverse("reports:report", args=[999999])).status_code == 404


def test_anonymous_visitors_and_guest_participants_are_sent_to_sign_in(
    results, participant, facilitator, django_capture_on_commit_callbacks
):
    close(results, facilitator, django_capture_on_commit_callbacks)
    for client in (Client(), guest_client(participant.participant)):
        response = client.get(report_url(results))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert client.post(share_url(results), {"action": "on"}).status_code == 302
    assert not ReportShare.objects.exists()


# --- sharing with the participants ---------------------------------------------------------
def test_facilitator_switches_the_link_on_off_and_renews_it(
    results, facilitator, settings, django_capture_on_commit_callbacks
):
    settings.KEHITTAMO_SITE_URL = "https://kehittamo.example.fi"
    close(results, facilitator, django_capture_on_commit_callbacks)
    client = signed_in(facilitator)
    assert "Sharing is off" in client.get(report_url(results)).content.decode()

    response = client.post(share_url(results), {"action": "on"}, follow=True)
    share = ReportShare.objects.get(workshop=results)
    assert share.enabled and len(share.token) >= 32
    page = response.content.decode()
    assert "The link is on" in page and "Sharing is on" in page
    assert f'value="https://kehittamo.example.fi/r/{share.token}/"' in page
    assert english(Client()).get(shared_url(share.token)).status_code == 200

    client.post(share_url(results), {"action": "off"})
    share.refresh_from_db()
    assert not share.enabled
    gone = english(Client()).get(shared_url(share.token))
    assert gone.status_code == 404
    assert "This report is not available" in gone.content.decode()
    assert "Aamupalaveri säästää aikaa" not in gone.content.decode()

    old_token = share.token
    client.post(share_url(results), {"action": "renew"})
    share.refresh_from_db()
    assert share.enabled and share.token != old_token
    assert Client().get(shared_url(old_token)).status_code == 404
    assert Client().get(shared_url(share.token)).status_code == 200

    # Switching back on keeps the same link.
    client.post(share_url(results), {"action": "off"})
    client.post(share_url(results), {"action": "on"})
    assert ReportShare.objects.get(workshop=results).token == share.token
    # What no token looks like (a NUL byte, a space) leads nowhere, without asking the database.
    for broken in (f"{share.token[:8]}%00{share.token[8:]}", "not%20a%20token"):
        assert Client().get(f"/r/{broken}/").status_code == 404


def test_only_facilitators_switch_sharing_and_bad_input_changes_nothing(results, facilitator, contact_person, outsider):
    assert signed_in(contact_person).post(share_url(results), {"action": "on"}).status_code == 403
    assert signed_in(outsider).post(share_url(results), {"action": "on"}).status_code == 404
    client = signed_in(facilitator)
    assert client.post(share_url(results), {"action": "everyone"}).status_code == 400
    assert client.post(share_url(results)).status_code == 400
    assert client.get(share_url(results)).status_code == 405
    assert not ReportShare.objects.exists()


def test_the_link_works_only_when_on_and_the_workshop_is_closed(
    results, facilitator, django_capture_on_commit_callbacks
):
    client = signed_in(facilitator)
    client.post(share_url(results), {"action": "on"})
    token = ReportShare.objects.get(workshop=results).token
    running = english(Client()).get(shared_url(token))
    assert running.status_code == 404 and "Aamupalaveri" not in running.content.decode()
    page = client.get(report_url(results)).content.decode()
    assert "The link starts working when the workshop is closed" in page

    close(results, facilitator, django_capture_on_commit_callbacks)
    assert Client().get(shared_url(token)).status_code == 200
    assert Client().get(shared_url("not-a-real-token")).status_code == 404


def test_a_token_opens_only_its_own_workshop(results, facilitator, django_capture_on_commit_callbacks):
    close(results, facilitator, django_capture_on_commit_callbacks)
    signed_in(facilitator).post(share_url(results), {"action": "on"})
    other = WorkshopFactory(title="Toinen työpaja", status=Workshop.Status.CLOSED)
    CaseFactory(workshop=other, title="Toisen tapaus")
    other_share = ReportShare.objects.create(workshop=other, token="toisen-tyopajan-tunnus-1234567890", enabled=False)
    assert Client().get(shared_url(other_share.token)).status_code == 404
    ReportShare.objects.filter(pk=other.pk).update(enabled=True)
    page = english(Client()).get(shared_url(other_share.token)).content.decode()
    assert "Toinen työpaja" in page and "Toisen tapaus" in page
    assert results.title not in page and "Aamupalaveri säästää aikaa" not in page


def test_the_shared_report_leaves_out_what_only_organisers_see(
    results, facilitator, django_capture_on_commit_callbacks
):
    close(results, facilitator, django_capture_on_commit_callbacks)
    client = signed_in(facilitator)
    client.post(share_url(results), {"action": "on"})
    token = ReportShare.objects.get(workshop=results).token
    organisers = client.get(report_url(results)).content.decode()
    response = english(Client()).get(shared_url(token))
    shared = response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow" and 'name="robots" content="noindex' in shared
    assert "Hidden comments" in organisers and "Hidden comments" not in shared
    assert "Share with the participants" in organisers and "Share with the participants" not in shared
    assert 'id="report-share-link"' not in shared and "Back to the workshop" not in shared
    for text in ("Piilotettu asiaton kommentti", "Poistettu kommentti", "@example.fi"):
        assert text not in shared and text not in organisers
    assert "Aamupalaveri säästää aikaa" in shared and "Ryhmä A: aamut sujuvat" in shared


# --- the figures --------------------------------------------------------------------------
def figure(page: str, label: str) -> int:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(\d+)</dd>", page)
    assert match, f"no figure {label!r}"
    return int(match.group(1))


def table_rows(page: str, chart_id: str) -> list[tuple[str, int]]:
    start = page.index(f'id="{chart_id}-title"')
    table = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    return [
        (label, int(value))
        for label, value in re.findall(r'<th scope="row">(.*?)</th><td class="report-number">(\d+)</td>', table)
    ]


def test_figures_count_people_and_comments_without_hidden_or_deleted(results, facilitator):
    report = workshop_report(results)
    figures = report.participation
    assert (figures.invited, figures.joined, figures.active) == (4, 4, 2)
    assert (figures.comments, figures.hidden) == (8, 1)
    assert [(bar.label, bar.value) for bar in report.by_case] == [
        ("Aamupalaveri", 4),
        ("Kesäseteli", 3),
        ("Kirjasto olohuoneena", 0),
        ("Without a case", 1),
    ]
    assert [(bar.label, bar.value) for bar in report.by_round] == [("Round 1", 3), ("Round 2", 1)]
    assert [(bar.label, bar.value) for bar in report.by_room] == [
        ("Round 1, room A: Aamupalaveri", 2),
        ("Round 1, room B: Kesäseteli", 1),
        ("Round 2, room A: Kesäseteli", 1),
    ]
    assert [(bar.label, bar.value) for bar in report.timeline] == [
        ("13:00–13:10", 6),
        ("13:10–13:20", 0),
        ("13:20–13:30", 1),
        ("13:30–13:40", 0),
        ("13:40–13:50", 1),
    ]

    page = signed_in(facilitator).get(report_url(results)).content.decode()
    assert figure(page, "Invited") == 4 and figure(page, "Joined") == 4
    assert figure(page, "Wrote at least one comment") == 2 and figure(page, "Comments in all") == 8
    assert figure(page, "Hidden comments (not counted, not shared)") == 1
    assert table_rows(page, "chart-cases") == [(bar.label, bar.value) for bar in report.by_case]
    assert table_rows(page, "chart-rounds") == [("Round 1", 3), ("Round 2", 1)]
    assert [value for _label, value in table_rows(page, "chart-rooms")] == [2, 1, 1]
    assert table_rows(page, "chart-timeline")[0] == ("13:00–13:10", 6)
    assert "Ryhmä A: aamut sujuvat" in page and "Ryhmä B: seteli toimii" in page
    assert "Round 3" not in page  # never held


def test_categories_with_counts_and_three_examples_without_authors(results, facilitator):
    categories = {category.name: category for category in workshop_report(results).categories}
    resources = categories["Resurssit"]
    assert resources.count == 4 and resources.colour == "#ffd700"
    assert len(resources.examples) == 3
    assert resources.examples[0] == "Huoneen muistiinpano"  # agreed with
    assert "Piilotettu asiaton kommentti" not in resources.examples
    assert categories["Yhteistyö"].examples == ["Huoneen muistiinpano"]
    assert categories["Tyhjä luokka"].count == 0 and categories["Tyhjä luokka"].examples == []

    page = signed_in(facilitator).get(report_url(results)).content.decode()
    assert table_rows(page, "chart-categories") == [("Resurssit", 4), ("Yhteistyö", 1), ("Tyhjä luokka", 0)]
    assert "Yli rajojen" in page
    for name in ("Aino Ahkera", "Bertta Berg", "Erkki Koodilla", facilitator.name):
        assert name not in page


def test_anonymous_example_shows_its_text_and_never_its_author(
    results, facilitator, contact_person, django_capture_on_commit_callbacks
):
    canary = ParticipantFactory(
        pk=CANARY_ID,
        workshop=results,
        name="Kanarialintu Kaivosmies",
        email="kanarialintu@example.fi",
        invitation_status=SENT,
        first_joined_at=timezone.now(),
    )
    phase = results.phases.filter(kind=Phase.Kind.PRESENTATION).first()
    secret = write(results, phase, "Salainen havainto raporttiin", participant=canary, anonymous=True)
    write(results, phase, "Toinen salainen havainto", participant=canary, anonymous=True)
    CommentCategory.objects.create(comment=secret, category=Category.objects.get(workshop=results, name="Yhteistyö"))
    Reaction.objects.create(comment=secret, kind=Reaction.Kind.GOOD_POINT, participant=canary)

    facilitator_client = signed_in(facilitator)
    looked_at = {"facilitator, running": facilitator_client.get(report_url(results)).content.decode()}
    close(results, facilitator, django_capture_on_commit_callbacks)
    facilitator_client.post(share_url(results), {"action": "on"})
    token = ReportShare.objects.get(workshop=results).token
    looked_at["facilitator, closed"] = facilitator_client.get(report_url(results)).content.decode()
    looked_at["contact person"] = signed_in(contact_person).get(report_url(results)).content.decode()
    looked_at["shared link"] = english(Client()).get(shared_url(token)).content.decode()

    for place, page in looked_at.items():
        assert "Salainen havainto raporttiin" in page, place
        assert leaks(page) == [], f"the canary shows in the report ({place})"


# --- charts, print ---------------------------------------------------------------------------
def test_charts_are_inline_svg_with_text_alternatives_and_tables(results, facilitator):
    page = signed_in(facilitator).get(report_url(results)).content.decode()
    for chart_id in ("chart-cases", "chart-rounds", "chart-rooms", "chart-categories", "chart-timeline"):
        svg = re.search(rf'<svg [^>]*aria-labelledby="{chart_id}-title {chart_id}-desc"[^>]*>(.*?)</svg>', page, re.S)
        assert svg, chart_id
        assert 'role="img"' in svg.group(0)
        assert re.search(rf'<title id="{chart_id}-title">[^<]+</title>', svg.group(1))
        assert re.search(rf'<desc id="{chart_id}-desc">[^<]+</desc>', svg.group(1))
        assert table_rows(page, chart_id), f"no table next to {chart_id}"
    desc = re.search(r'<desc id="chart-cases-desc">([^<]+)</desc>', page).group(1)
    assert "Aamupalaveri: 4" in desc and "Kesäseteli: 3" in desc
    # The category keeps its colour, outlined so that a pale one still shows; widths never use a decimal comma.
    assert 'fill="#ffd700" stroke="#1b1f24"' in page
    assert not re.search(r'width="\d+,\d+%"', page)
    assert "<script" not in page.replace('<script type="module" src="/static/js/report_print.js"></script>', "")


def test_chart_widths_stay_numbers_in_finnish(results, facilitator):
    client = signed_in(facilitator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    page = client.get(report_url(results)).content.decode()
    assert re.search(r'width="\d+\.\d+%"', page) and not re.search(r'(width|x)="\d+,\d+%?"', page)


def test_bar_chart_layout_scales_to_the_longest_bar():
    chart = charts.bar_chart([Bar("A", 10), Bar("B" * 80, 5), Bar("C", 0)], chart_id="c", title="T", label_heading="L")
    assert [row.width for row in chart.rows] == [charts.BAR_SPACE, charts.BAR_SPACE / 2, 0]
    assert chart.rows[1].short_label.endswith("…") and len(chart.rows[1].short_label) == charts.LABEL_MAX
    assert chart.description == "T. A: 10; " + "B" * 80 + ": 5; C: 0."
    empty = charts.timeline_chart([], chart_id="t", title="T")
    assert empty.columns == [] and empty.peak == 0


def test_print_stylesheet_is_linked_and_hides_the_site_chrome(results, facilitator):
    page = signed_in(facilitator).get(report_url(results)).content.decode()
    assert '<link rel="stylesheet" href="/static/css/report.css">' in page
    assert "data-print hidden" in page and "Save as PDF" in page
    css = (ROOT / "static" / "css" / "report.css").read_text()
    print_rules = css[css.index("@media print") :]
    for selector in (".site-header", ".report-no-print", "button"):
        assert selector in print_rules.split("{ display: none")[0]
    assert "break-before: page" in print_rules and 'a[href^="http"]::after' in print_rules


# --- queries ----------------------------------------------------------------------------------
def _grow(workshop, facilitator, size: int) -> None:
    """``size`` more of everything: comments, categories with examples, rounds with rooms."""
    phase = workshop.phases.filter(kind=Phase.Kind.PRESENTATION).first()
    now = timezone.now()
    for number in range(10, 10 + size):
        round_ = Round.objects.create(workshop=workshop, number=number, started_at=now, closed_at=now)
        for index in range(3):
            room = Room.objects.create(round=round_, index=index, case=phase.case, summary=f"Yhteenveto {number}")
            CommentFactory.create_batch(3, phase=phase, round=round_, room=room, created_at=now)
    comments = CommentFactory.create_batch(size * 5, phase=phase, created_at=now)
    for index in range(size):
        category = Category.objects.create(workshop=workshop, name=f"Luokka {index}")
        for comment in comments[index : index + 5]:
            CommentCategory.objects.create(comment=comment, category=category)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_query_count_does_not_grow_with_the_data(results, facilitator, django_capture_on_commit_callbacks):
    close(results, facilitator, django_capture_on_commit_callbacks)
    client = signed_in(facilitator)
    client.post(share_url(results), {"action": "on"})
    token = ReportShare.objects.get(workshop=results).token
    small = (_queries(client, report_url(results)), _queries(Client(), shared_url(token)))
    _grow(results, facilitator, 12)
    assert workshop_report(results).participation.comments > 150
    large = (_queries(client, report_url(results)), _queries(Client(), shared_url(token)))
    assert small == large, (small, large)
