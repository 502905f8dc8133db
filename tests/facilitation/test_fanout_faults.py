"""Live pushes while Redis is away: the write succeeds, the push is retried, the pages are told to poll."""

from __future__ import annotations

import json
import logging

import pytest
import redis

from facilitation import fanout
from facilitation.fanout import publisher
from facilitation.models import Comment, Event
from tests.facilitation.conftest import make_guest
from tests.facilitation.test_fanout import Socket, event, eventually, fresh_workshop_id, processes  # noqa: F401
from tests.facilitation.test_live_views import post_comment


class FlakyRedis:
    """A Redis client whose PUBLISH fails until ``back`` is set; records what got through, in order."""

    def __init__(self) -> None:
        self.back = False
        self.published: list[tuple[str, str]] = []
        self.refused = 0

    def publish(self, channel: str, data: str) -> int:
        if not self.back:
            self.refused += 1
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((channel, data))
        return 1


@pytest.fixture
def flaky_redis(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never reached: the client is replaced
    client = FlakyRedis()
    monkeypatch.setattr(publisher, "redis_client", lambda url: client)
    monkeypatch.setattr(publisher, "RETRY_EVERY", 0.05)
    yield client
    client.back = True  # let this test's retry thread finish
    eventually(lambda: not publisher._unsent, timeout=5)


def test_a_failed_publish_is_logged_kept_and_sent_in_order_once_redis_answers(flaky_redis, caplog):
    with caplog.at_level(logging.WARNING, logger="facilitation.fanout"):
        for number in range(1, 4):
            fanout.publish(7, ["w7"], event(number))  # never raises
    assert "live push not published (Redis: ConnectionError); retrying" in caplog.text
    assert flaky_redis.published == []
    eventually(lambda: flaky_redis.refused >= 3)  # the retry thread keeps trying meanwhile
    flaky_redis.back = True
    eventually(lambda: len(flaky_redis.published) == 3)
    assert [json.loads(data)["event"]["id"] for _channel, data in flaky_redis.published] == [1, 2, 3]
    fanout.publish(7, ["w7"], event(4))  # nothing waits any more: straight through
    assert json.loads(flaky_redis.published[-1][1])["event"]["id"] == 4


def test_kept_pushes_are_given_up_after_a_while(flaky_redis, monkeypatch, caplog):
    monkeypatch.setattr(publisher, "RETRY_FOR", 0.1)
    with caplog.at_level(logging.WARNING, logger="facilitation.fanout"):
        fanout.publish(7, ["w7"], event(1))
        eventually(lambda: not publisher._unsent)
    assert "live push given up" in caplog.text
    flaky_redis.back = True
    fanout.publish(7, ["w7"], event(2))
    assert [json.loads(data)["event"]["id"] for _channel, data in flaky_redis.published] == [2]


@pytest.mark.django_db(transaction=True)
def test_a_comment_is_stored_and_answered_while_redis_is_away(live_workshop, flaky_redis, caplog):
    _person, client = make_guest(live_workshop)
    with caplog.at_level(logging.WARNING, logger="facilitation.fanout"):
        response = post_comment(client, live_workshop, text="Redis on poissa")
    assert response.status_code == 201
    comment = Comment.objects.get(text="Redis on poissa")
    assert Event.objects.filter(kind="comment.created", payload__id=comment.pk).count() == 1
    assert "live push not published" in caplog.text
    flaky_redis.back = True
    eventually(lambda: any(f'"id":{comment.pk}' in data for _channel, data in flaky_redis.published))


def test_pages_are_told_to_poll_while_the_feed_is_away_and_to_catch_up_after(processes, monkeypatch):  # noqa: F811
    workshop_id = fresh_workshop_id()
    process = processes()
    socket = process.join(Socket(), [f"w{workshop_id}"], workshop_id=workshop_id)
    process.loop.call_soon_threadsafe(process.hub.pause)
    eventually(lambda: socket.kinds() == ["live.paused"])
    late = Socket()  # connects while the feed is away: told at once

    async def connect() -> None:
        await process.hub.join(late, [f"w{workshop_id}"], workshop_id=workshop_id, language="fi", hold=True)
        process.hub.release(late)

    process.run(connect())
    assert late.kinds() == ["live.paused"]
    process.loop.call_soon_threadsafe(process.hub.resync)
    eventually(lambda: socket.kinds() == ["live.paused", "resync"] and late.kinds() == ["live.paused", "resync"])
    assert process.hub.paused is False
