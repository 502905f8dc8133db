"""Authorization across a workshop's lifecycle: who may do what in workshop A while it is still a request, while
it is planned (a draft agenda, nobody in yet), once it has closed and once it is archived.

The matrix (test_authz_matrix.py) proves every route in the live workshop. Here the routes whose rule depends on
the workshop's status get a line per state, with the same roles, outcomes and ``*`` (wrote to the database) as
the matrix: participants write nothing outside the live workshop (comments, ideas, votes, a room's summary, calls
for help), answer the feedback survey after it, and the organisers still see and tidy up the results after close
(moderation, tagging, reports) but no longer change who takes part; the contact person plans only an accepted
workshop that has not ended.

A route without a line in a state behaves there exactly as in the live workshop (its matrix line on A's objects):
``test_every_other_route_behaves_as_when_live`` (make test-faults) walks every route in every state to prove it,
so a new state-dependent rule without a line here fails.

Each state is set on workshop A only (B stays live), inside a savepoint rolled back after the route: the status,
and for an ended workshop the record of its closing (the survey's window counts from it). The route's own state
(an idea collection, a voting, the feedback phase: ``ROUTE_STATES``) is set first, as in the matrix.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.utils import timezone

from tests.security.payloads import PAYLOADS
from tests.security.test_authz_matrix import (
    APP_ROUTES,
    GROUPED,
    ROUTES,
    TABLE,
    Row,
    _as_code,
    _expected,
    _observe,
    route_state,
)
from tests.security.test_authz_matrix import world as _matrix_world
from tests.security.world import ROLES
from workshops.models import Workshop, WorkshopStatusChange

pytestmark = pytest.mark.django_db
world = _matrix_world  # the matrix's fixture: its two workshops, built once for the module and rolled back

STATES = ("requested", "planned", "closed", "archived")
ENDED = {"closed", "archived"}

N405 = "405 405 405 405 405 405 405 405"  # a POST-only route's GET

# fmt: off
# Columns: anonymous guest leader presenter contact_a contact_b facilitator admin (on workshop A's objects).
# Row(GET line, POST line), as in the matrix.
# Outside the live workshop, in every state here: the live page sends everyone to the lobby, participants
# write nothing (comments, ideas, votes, a room's summary, calls for help: 400, nothing written), and nobody
# runs the workshop or moderates its ideas yet or any more.
OUTSIDE_LIVE: dict[str, Row] = {
    "facilitation:live": Row("404 302 302 302 302 404 302 302"),
    "workshops:lobby": Row("404 200 200 200 200 404 200 200", "404 200 200 200 200 404 200 200"),
    "facilitation:comment_new": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:comment_edit": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:comment_delete": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:comment_react": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:idea_new": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:vote_dot": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:vote_duel": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:vote_next": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:vote_rating": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:room_summary": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:room_help": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:control_action": Row("login login login login 403 404 405 405",
                                       "login login login login 403 404 400 400"),
    "facilitation:results_toggle": Row(N405, "404 403 403 403 403 404 400 400"),
    "facilitation:idea_edit": Row(N405, "404 403 403 403 403 404 400 400"),
    "facilitation:idea_hide": Row(N405, "404 403 403 403 403 404 400 400"),
    "facilitation:idea_merge": Row(N405, "404 403 403 403 403 404 400 400"),
    "facilitation:idea_merge_one": Row(N405, "404 403 403 403 403 404 400 400"),
    "workshops:transition": Row("login login login login 405 405 405 405", "login login login login 403 404 302 302"),
}
# Before the acceptance and after the close: the contact person does not change cases or people (403),
# facilitators do; the join code's form answers but the code lets nobody in, and nobody gives a team size.
NOT_PLANNABLE: dict[str, Row] = {
    "facilitation:team_size": Row(N405, "404 400 400 400 400 404 400 400"),
    "facilitation:join_code": Row("200 200 200 200 200 200 200 200", "200 200 200 200 200 200 200 200"),
    "facilitation:join_code_prefilled": Row("200 200 200 200 200 200 200 200", "200 200 200 200 200 200 200 200"),
    "workshops:case_new": Row("login login login login 403 404 200 200", "login login login login 403 404 302* 302*"),
    "workshops:case_edit": Row("login login login login 403 404 200 200", "login login login login 403 404 302* 302*"),
    "workshops:case_delete": Row("login login login login 403 404 200 200", "login login login login 403 404 302 302"),
    "workshops:participants": Row("login login login login 403 404 200 200",
                                  "login login login login 403 404 302* 302*"),
    "workshops:participant_edit": Row("login login login login 403 404 200 200",
                                      "login login login login 403 404 302* 302*"),
    "workshops:participant_delete": Row("login login login login 403 404 200 200",
                                        "login login login login 403 404 302* 302*"),
    "workshops:participants_upload": Row("login login login login 403 404 200 200",
                                         "login login login login 403 404 200 200"),
    "workshops:invitations_send": Row("login login login login 405 405 405 405",
                                      "login login login login 403 404 302 302"),
}
STATE_TABLE: dict[str, dict[str, Row]] = {
    # A request not yet accepted: nothing runs; only the organisers plan it. The contact person edits their
    # request and the facilitators accept or decline it; its cases and people wait for the acceptance (403).
    # Participants (invited early or by hand) see the lobby, write nothing (400), cannot join by code.
    "requested": OUTSIDE_LIVE | NOT_PLANNABLE | {
        "facilitation:feedback": Row("404 200 200 200 200 404 200 200", "404 400 400 400 400 404 400 400"),
        "workshops:accept": Row("login login login login 403 404 200 200", "login login login login 403 404 302* 302*"),
        "workshops:decline": Row("login login login login 403 404 200 200",
                                 "login login login login 403 404 302* 302*"),
        "workshops:edit": Row("login login login login 200 404 200 200", "login login login login 302* 404 302* 302*"),
    },
    # Planned, not started: participants wait in the lobby (the live page sends them there), may say how many
    # share their screen and may join with the code; they write nothing else (400) and nobody runs it yet.
    "planned": OUTSIDE_LIVE | {
        "facilitation:team_size": Row(N405, "404 200* 200* 200* 400 404 400 400"),
        "facilitation:feedback": Row("404 200 200 200 200 404 200 200", "404 400 400 400 400 404 400 400"),
        "facilitation:join_code": Row("200 200 200 200 200 200 200 200", "302* 302 302 302 302* 302* 302* 302*"),
        "workshops:participants": Row("login login login login 200 404 200 200",
                                      "login login login login 302* 404 302* 302*"),
    },
    # Closed: nobody writes in it any more, the join code lets nobody in; participants still answer the feedback
    # survey (its window runs from the close) and see the summaries. The organisers see the report and keep
    # tidying the results (hiding, tagging, erasing); the contact person no longer changes cases or people (403),
    # facilitators do.
    "closed": OUTSIDE_LIVE | NOT_PLANNABLE | {
        "facilitation:feedback": Row("404 200 200 200 200 404 200 200", "404 201* 201* 201* 201* 404 400 400"),
        "workshops:join": Row("302 302 302 302 302 302 302 302", "302* 302* 302* 302* 302* 302* 302* 302*"),
        "facilitation:comment_hide": Row(N405, "404 400 400 200* 400 404 200* 200*"),
        "facilitation:hide_many": Row(N405, "404 403 403 302* 403 404 302* 302*"),
        "privacy:workshop_erase": Row("login login login login 403 404 200 200",
                                      "login login login login 403 404 302* 302*"),
        "reports:report": Row("login login login login 200 404 200 200"),
        "reports:report_shared": Row("200 200 200 200 200 200 200 200"),
        "reports:tagging_comment": Row("login login login login 405 405 405 405",
                                       "login login login login 403 404 302* 302*"),
        "facilitation:summaries": Row("404 200 200 200 200 404 200 200"),
    },
}
# Archived: as closed, and the personal links lead nowhere (404); the feedback survey, hiding, tagging and the
# room summaries are not in its table, so they are held to how they behave when live (the last test below).
STATE_TABLE["archived"] = {
    name: row
    for name, row in STATE_TABLE["closed"].items()
    if name not in {
        "facilitation:feedback",
        "facilitation:comment_hide",
        "facilitation:hide_many",
        "reports:tagging_comment",
        "facilitation:summaries",
    }
} | {"workshops:join": Row("404 404 404 404 404 404 404 404", "404 404 404 404 404 404 404 404")}
# fmt: on
# The quick run checks a draft (planned) and a closed workshop; make test-faults the others too.
QUICK_STATES = ("planned", "closed")


@contextmanager
def lifecycle(world, state: str):
    """Workshop A in ``state`` for as long as the block runs."""
    with transaction.atomic():
        Workshop.objects.filter(pk=world.a.workshop.pk).update(status=state)
        if state in ENDED:
            WorkshopStatusChange.objects.create(
                workshop=world.a.workshop, from_status="live", to_status="closed", changed_at=timezone.now()
            )
        yield
        transaction.set_rollback(True)


def _methods(row: Row) -> tuple[str, ...]:
    return ("GET", "POST") if row.post is not None else ("GET",)


def _line(row: Row, method: str) -> str:
    lines = row.get if method == "GET" else row.post
    return lines if isinstance(lines, str) else lines[0]


def _observed_code(world, name: str, methods) -> str:
    observed = {method: {"A": _observe(world, name, method, "A")} for method in methods}
    return _as_code(name, observed)


def _check(world, state: str, name: str, row: Row) -> None:
    problems = []
    with route_state(world, name), lifecycle(world, state):
        for method in _methods(row):
            wanted = dict(zip(ROLES, _line(row, method).split(), strict=True))
            got = _observe(world, name, method, "A")
            problems += [
                f"{method} as {role}: expected {wanted[role]}, got {got[role]}"
                for role in ROLES
                if got[role] != wanted[role]
            ]
        if problems:
            code = _observed_code(world, name, _methods(row))
            raise AssertionError("\n".join([f"{name} in a {state} workshop", *problems, "as it behaves now:", code]))


def _cases(states) -> list[tuple[str, str]]:
    return [(state, name) for state in states for name in sorted(STATE_TABLE[state])]


@pytest.mark.parametrize(("state", "name"), _cases(QUICK_STATES))
def test_route_in_state(world, state, name):
    """Every cell of the route's line in a planned and in a closed workshop A."""
    _check(world, state, name, STATE_TABLE[state][name])


@pytest.mark.faults
@pytest.mark.parametrize(("state", "name"), _cases(sorted(set(STATES) - set(QUICK_STATES))))
def test_route_in_other_states(world, state, name):
    """The same for a workshop still requested and an archived one (make test-faults)."""
    _check(world, state, name, STATE_TABLE[state][name])


def test_the_table_names_real_routes():
    for state, rows in STATE_TABLE.items():
        assert state in STATES
        assert set(rows) <= set(ROUTES) - set(GROUPED), f"{state}: a stale row"


# Routes that cannot depend on workshop A's status: no workshop, object, code or link of A in their path or body.
STATELESS = {name for name in APP_ROUTES if not ROUTES[name] and name not in PAYLOADS}


@pytest.mark.faults
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", sorted(set(APP_ROUTES) - STATELESS))
def test_every_other_route_behaves_as_when_live(world, state, name):
    """A route without a line for ``state`` answers (and writes) in it exactly as in the live workshop."""
    if name in STATE_TABLE[state]:
        return
    row = TABLE[name]
    problems = []
    with route_state(world, name), lifecycle(world, state):
        for method in _methods(row):
            wanted = _expected(row, method)["A"]
            got = _observe(world, name, method, "A")
            problems += [
                f"{method} as {role}: live {wanted[role]}, {state} {got[role]}"
                for role in ROLES
                if got[role] != wanted[role]
            ]
        if problems:
            code = _observed_code(world, name, _methods(row))
            raise AssertionError("\n".join([f"{name} in a {state} workshop needs a line:", *problems, code]))
