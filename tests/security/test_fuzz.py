"""Hypothesis-generated hostile input for every URL and for the live WebSocket: never a 5xx, never a logged error.

Every route the resolver knows (the admin aside) gets generated requests as each role on a seeded live
workshop: the page's own form with fields kept, changed, doubled or left out, extra fields, huge strings,
NUL bytes, lone surrogates, numbers out of range, wrong types, malformed JSON, wrong content types and
random file uploads, by GET and by POST. Each example runs in a savepoint that is rolled back, so every
example meets the same workshop. The normal suite tries a few examples per route; ``make test-faults``
(``--faults``) tries thousands in all.
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from facilitation.models import LiveState
from tests.security import fuzzing
from tests.security.seed import seed_workshop
from workshops.models import Workshop

# The normal suite: one fixed, repeatable example per route (seed, crawl and all stay under a minute).
# make test-faults: many per route, freshly random each run.
NORMAL_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
FAULTS_EXAMPLES = int(os.environ.get("FUZZ_FAULTS_EXAMPLES", "10"))
STATUSES = [Workshop.Status.LIVE] * 6 + [Workshop.Status.CLOSED, Workshop.Status.PLANNED]


def _settings(examples: int, *, derandomize: bool):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,  # nothing written to .hypothesis/
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        # A failure is reported as found: shrinking a slow web request takes minutes per route.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


def _consume(response) -> None:
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # a streamed export runs only as it is read


def send(client, route: fuzzing.Route, payload: fuzzing.Payload, prepare=None) -> None:
    """One generated request in a rolled-back savepoint (``prepare`` runs in it first): below 500 and nothing
    logged at ERROR."""
    saved = fuzzing.snapshot(client)
    query, body, headers = fuzzing.request_args(payload)
    path = route.path(payload.kwargs) + query
    headers.setdefault("CONTENT_TYPE", "")
    try:
        with fuzzing.ErrorLog() as log, transaction.atomic():
            if prepare is not None:
                prepare()
            response = client.generic(payload.method, path, body, **headers)
            _consume(response)
            transaction.set_rollback(True)
    finally:
        fuzzing.restore(client, saved)
    assert response.status_code < 500, f"{payload.method} {path} as {payload.role}: {response.status_code}"
    # django.security reports refused hostile input (e.g. a 400 for a too-long redirect); anything else is a bug.
    errors = [record for record in log.records if not record.name.startswith("django.security")]
    assert not errors, f"{payload.method} {path} as {payload.role} logged: {[r.getMessage() for r in errors]}"


def _send(seed, route: fuzzing.Route, payload: fuzzing.Payload, phase_id, status) -> None:
    """The request on the seeded workshop in the phase and status drawn for it."""

    def prepare() -> None:
        workshop = seed.workshop
        if phase_id is not None:  # straight to the row: phase_go would render every panel for its push
            LiveState.objects.filter(pk=workshop.pk).update(current_phase_id=phase_id)
        if status != Workshop.Status.LIVE:
            Workshop.objects.filter(pk=workshop.pk).update(status=status)

    send(seed.clients[payload.role], route, payload, prepare)


def _route_search(seed, route: fuzzing.Route, examples: int, *, derandomize: bool):
    @_settings(examples, derandomize=derandomize)
    @given(
        payload=fuzzing.payloads(route, seed),
        phase_id=st.one_of(st.none(), st.sampled_from(seed.phases)),
        status=st.sampled_from(STATUSES),
    )
    def run(payload, phase_id, status):
        _send(seed, route, payload, phase_id, status)

    return run


def fuzz_routes(seed, routes, examples: int, *, derandomize: bool, search=None) -> None:
    """Run each route's own Hypothesis search; collect every route's shrunk failure, then fail once.

    ``search`` builds a route's search (the app's routes by default; the admin's has its own)."""
    search = search or _route_search
    failures = []
    for route in routes:
        if os.environ.get("FUZZ_TRACE"):
            print("fuzzing", route.name, time.monotonic(), flush=True)
        try:
            search(seed, route, examples, derandomize=derandomize)()
        except Exception as error:
            failures.append(f"{route.name}: {type(error).__name__}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def seed(db, settings):
    settings.LANGUAGE_CODE = "fi"
    # The rate limits have their own tests; here they would turn most of a route's examples into 429s.
    settings.KEHITTAMO_RATE_LIMIT_FACTOR = 1000
    return seed_workshop()


def test_every_route_is_fuzzed():
    """The generic enumeration really reaches the project's views (a broken walk would fuzz nothing)."""
    names = {route.name for route in fuzzing.all_routes()}
    for expected in ("facilitation:comment_new", "facilitation:idea_new", "workshops:participants_upload", "home"):
        assert expected in names
    assert not any(name.startswith("admin:") for name in names)
    assert len(names) > 90


def test_generated_requests_never_answer_5xx(seed):
    # The crawl found the forms the generated requests start from (a broken crawl would fuzz blind).
    assert {"text", "phase", "client_id"} <= set(seed.forms["facilitation:comment_new"])
    assert "file" in seed.forms["workshops:participants_upload"]
    fuzz_routes(seed, fuzzing.all_routes(), NORMAL_EXAMPLES, derandomize=True)


@pytest.mark.faults
def test_thousands_of_generated_requests_never_answer_5xx(seed):
    fuzz_routes(seed, fuzzing.all_routes(), FAULTS_EXAMPLES, derandomize=False)
