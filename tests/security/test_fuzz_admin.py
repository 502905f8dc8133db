"""Hypothesis-generated hostile requests to every route of Django's admin, as a superuser: changelists with
random filters, searches, orderings and pages; change and add forms with random POST bodies; actions with random
selections; history, delete, password and autocomplete pages. Never a 5xx, never anything logged at ERROR.

The routes come from the resolver, the parameter names from the admin pages themselves and the models' fields
(tests/security/fuzzing_admin.py). Each example runs in a savepoint that is rolled back, so a delete or a
password change in one example does not change the next. One fixed example per route in the normal suite;
``--faults`` tries many, freshly random each run.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.security import fuzzing, fuzzing_admin
from tests.security.test_fuzz import FAULTS_EXAMPLES, NORMAL_EXAMPLES, _settings, fuzz_routes, send


def _route_search(seed: fuzzing_admin.AdminSeed, route: fuzzing.Route, examples: int, *, derandomize: bool):
    @_settings(examples, derandomize=derandomize)
    @given(payload=fuzzing.payloads(route, seed.for_route(route), roles=(fuzzing_admin.ROLE,)))
    def run(payload):
        send(seed.clients[payload.role], route, payload)

    return run


def fuzz_admin(seed: fuzzing_admin.AdminSeed, examples: int, *, derandomize: bool) -> None:
    fuzz_routes(seed, fuzzing.all_routes(admin=True), examples, derandomize=derandomize, search=_route_search)


@pytest.fixture
def seed(db, settings):
    settings.LANGUAGE_CODE = "fi"
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000
    return fuzzing_admin.build_world()


def test_every_admin_route_is_fuzzed():
    """The walk reaches the admin's model pages (a broken walk would fuzz nothing)."""
    names = {route.name for route in fuzzing.all_routes(admin=True)}
    assert {"admin:workshops_workshop_changelist", "admin:workshops_workshop_change", "admin:index"} <= names
    assert all(name.startswith("admin:") for name in names) and len(names) > 50


def test_generated_admin_requests_never_answer_5xx(seed):
    # the crawl found what the pages offer (else the generated requests would start blind)
    changelist = seed.forms["admin:workshops_workshop_changelist"]
    assert {"q", "action", "_selected_action", "status__exact", "o"} <= set(changelist)
    assert "delete_selected" in changelist["action"]
    assert {"title", "cases-TOTAL_FORMS", "cases-0-title"} <= set(seed.forms["admin:workshops_workshop_change"])
    fuzz_admin(seed, NORMAL_EXAMPLES, derandomize=True)


@pytest.mark.faults
def test_many_generated_admin_requests_never_answer_5xx(seed):
    fuzz_admin(seed, FAULTS_EXAMPLES, derandomize=False)
