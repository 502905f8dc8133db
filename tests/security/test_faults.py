"""Faults, with nothing lost (issue #9): the real stack on loopback, 20 participants posting, then a fault.

The stack is this module's own (``faults_stack``): a PostgreSQL cluster and a ``redis-server`` on free
ports that may be killed, Daphne and a Celery worker as in production. The participants behave as
``static/js/live.js`` does (``faults_clients``); the browser scenarios drive the real page in Chromium.
Each test prints its measured figures (``-s`` shows them; the assertion messages carry them too).
Only ``make test-faults`` runs these (marker ``faults``).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from tests.security.faults_clients import Crowd
from tests.security.faults_stack import Stack

pytestmark = [pytest.mark.faults]

PARTICIPANTS = 20
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request of 20 pages drowns the figures
REDIS_OUTAGE = 30.0


def figures(name: str, **values) -> None:
    """The measured figures, on one line (``-s``) and in the JUnit properties."""
    print(f"\n[faults] {name}: " + ", ".join(f"{key}={value}" for key, value in values.items()))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not shutil.which("redis-server") or not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("the fault tests need redis-server and PostgreSQL 15's initdb on this machine")
    workdir = tmp_path_factory.mktemp("faults")
    stack = Stack(workdir, CELERY_VISIBILITY_TIMEOUT="15", TASK_LOCK_SECONDS="10")
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def comment_copies(stack: Stack, workshop_id: int) -> dict[str, int]:
    """client id -> how many comments the database holds with it."""
    rows = stack.postgres.query(
        "SELECT client_id::text, count(*) FROM facilitation_comment WHERE workshop_id = %s GROUP BY client_id",
        workshop_id,
    )
    return dict(rows)


def shared_event_ids(stack: Stack, workshop_id: int, after: int) -> set[int]:
    rows = stack.postgres.query(
        "SELECT id FROM facilitation_event WHERE workshop_id = %s AND audience = 'all' AND id > %s",
        workshop_id,
        after,
    )
    return {row[0] for row in rows}


def assert_nothing_lost(stack: Stack, crowd: Crowd, seeded: dict) -> dict:
    """Every post answered and stored exactly once; every page applied every shared event exactly once."""
    assert crowd.errors == []
    assert crowd.wait_until(lambda: not crowd.unsent(), 60) is not None, f"{len(crowd.unsent())} posts never answered"
    copies = comment_copies(stack, seeded["workshop_id"])
    posted = {post.client_id for post in crowd.posts}
    assert set(copies) == posted, "a comment was lost, or one nobody posted appeared"
    assert set(copies.values()) == {1}, f"duplicated: {[key for key, count in copies.items() if count > 1]}"
    expected = shared_event_ids(stack, seeded["workshop_id"], seeded["last_event"])
    # A page is sure of an event 10 s after it arrived; then it has seen everything before it.
    missing = {}
    for _attempt in range(2):
        missing = {page.index: sorted(expected - set(page.applied)) for page in crowd.pages}
        missing = {index: ids for index, ids in missing.items() if ids}
        if not missing:
            break
        time.sleep(5)
    assert not missing, f"events missed by pages: {missing}"
    deliveries = [count for page in crowd.pages for count in page.deliveries.values()]
    return {
        "comments": len(posted),
        "events": len(expected),
        "delivered_twice": sum(1 for count in deliveries if count > 1),
    }


# --- Redis ---------------------------------------------------------------------------------------------------
def test_redis_killed_for_30_s_loses_nothing_and_live_push_comes_back(stack):
    seeded = stack.call("live_workshop", participants=PARTICIPANTS)
    crowd = Crowd(stack.base, seeded, post_every=8)
    crowd.start()
    try:
        time.sleep(6)
        status, body = stack.health()
        assert status == 200, body
        posts_before = len(crowd.posts)

        killed = time.time()
        stack.redis.kill()
        health = []
        while time.time() - killed < REDIS_OUTAGE:
            health.append(stack.health())
            time.sleep(3)
        stack.redis.start()
        back = time.time()
        during = [post for post in crowd.posts if killed < post.created < back]

        def pushed_again() -> bool:
            return all(
                any(at > back and kind == "comment.created" for at, _id, kind in page.pushes) for page in crowd.pages
            )

        push_back = crowd.wait_until(pushed_again, 30)
        healthy_after = crowd.wait_until(lambda: stack.health()[0] == 200, 30, step=0.5)
        crowd.pause_posting()
        time.sleep(12)  # past live.js's 10 s watermark
        result = assert_nothing_lost(stack, crowd, seeded)
    finally:
        crowd.stop()

    told_to_poll = [page.index for page in crowd.pages if any(kind == "live.paused" for _at, _id, kind in page.pushes)]
    polled = [page.index for page in crowd.pages if any(back > at > killed and found > 0 for at, found in page.polls)]
    statuses = [status for post in during for status in post.statuses]
    first_push = [
        min(at for at, _id, kind in page.pushes if at > back and kind == "comment.created") - back
        for page in crowd.pages
    ]
    figures(
        "redis",
        outage_s=REDIS_OUTAGE,
        posts_before=posts_before,
        posts_during=len(during),
        post_statuses_during=sorted(set(map(str, statuses))),
        health_during=[code for code, _body in health],
        push_back_s=None if push_back is None else round(push_back, 1),
        first_push_max_s=round(max(first_push), 1),
        healthy_after_s=None if healthy_after is None else round(healthy_after, 1),
        **result,
    )
    assert len(during) >= 30, "too few posts during the outage to say anything"
    assert all(status in (200, 201) for status in statuses), f"a POST failed while Redis was away: {statuses}"
    assert health and all(code == 503 for code, _body in health), health
    outage_checks = health[-1][1]["checks"]
    assert outage_checks["database"]["ok"] is True
    assert outage_checks["channel_layer"]["ok"] is False and outage_checks["broker"]["ok"] is False
    assert healthy_after is not None, "/healthz did not recover"
    assert len(told_to_poll) == PARTICIPANTS, "every page is told that the live feed is away"
    assert len(polled) == PARTICIPANTS, f"pages that got comments by polling during the outage: {polled}"
    assert push_back is not None and max(first_push) <= 10, f"live push back after {first_push} s"
