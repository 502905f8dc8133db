"""Hypothesis-generated frames for the live WebSocket: each is ignored, answered or closes cleanly; no exception.

The consumer takes three message types (JSON ``ping``, ``catchup`` and ``vote``, the last two with a
number ``ask`` their answer repeats). Anything else, text, binary, malformed or wrong-typed JSON, and
these with nonsense in their fields, must neither crash the consumer nor stop it answering the next ping.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from tests.security import fuzzing
from tests.security.seed import seed_workshop
from tests.security.test_fuzz import _settings

ORIGIN = "http://127.0.0.1:8000"


def frames(max_frames: int = 8):
    """Text, binary and JSON frames: pings, catch-ups and votes among garbage."""
    kinds = ["ping", "pong", "subscribe", "catchup", "vote"]
    json_frames = fuzzing.json_values(kinds).map(lambda value: ("text", json.dumps(value)))
    return st.lists(
        st.one_of(
            st.just(("text", '{"type": "ping"}')),
            json_frames,
            st.dictionaries(
                st.sampled_from(["type", "kind", "after", "room"]), fuzzing.json_values(["ping"]), max_size=3
            ).map(lambda value: ("text", json.dumps(value))),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["vote", "catchup"])},
                optional={
                    key: st.one_of(st.integers(-(2**63), 2**63), fuzzing.json_values(kinds))
                    for key in ("ask", "phase", "duel", "after")
                }
                | {"choice": st.one_of(st.sampled_from(["left", "right", "skip"]), fuzzing.json_values(kinds))},
            ).map(lambda value: ("text", json.dumps(value))),
            st.text(min_size=1, max_size=200).map(lambda text: ("text", text)),
            st.sampled_from(["{", "null", "[]", '"ping"', "1e999", "\x00"]).map(lambda text: ("text", text)),
            st.binary(min_size=1, max_size=200).map(lambda data: ("bytes", data)),
        ),
        min_size=1,
        max_size=max_frames,
    )


async def _socket_session(session_key: str, workshop_id: int, sent: list) -> None:
    from config.asgi import application

    headers = [
        (b"origin", ORIGIN.encode()),
        (b"host", b"127.0.0.1:8000"),
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session_key}".encode()),
    ]
    communicator = WebsocketCommunicator(application, f"/ws/w/{workshop_id}/", headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    try:
        for kind, frame in sent:
            if kind == "bytes":
                await communicator.send_to(bytes_data=frame)
            else:
                await communicator.send_to(text_data=frame)
            # Ignored, answered with a pong, or closed cleanly; an exception in the consumer raises here.
            while not await communicator.receive_nothing(timeout=0.02):
                output = await communicator.receive_output(timeout=1)
                if output["type"] == "websocket.close":
                    assert output.get("code", 1000) in {1000, 1003, 1007, 1008}
                    return
                assert json.loads(output["text"]) == {"kind": "pong"} or "kind" in json.loads(output["text"])
        # Still alive: a ping is answered.
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from(timeout=2)) == {"kind": "pong"}
    finally:
        await communicator.disconnect()


def _fuzz_socket(examples: int, *, derandomize: bool, max_frames: int = 8) -> None:
    seed = seed_workshop(crawl=False)
    session_key = seed.clients["participant"].cookies[django_settings.SESSION_COOKIE_NAME].value
    workshop_id = seed.workshop.pk

    @_settings(examples, derandomize=derandomize)
    @given(sent=frames(max_frames))
    def run(sent):
        with fuzzing.ErrorLog() as log:
            asyncio.run(_socket_session(session_key, workshop_id, sent))
        assert not log.records, [record.getMessage() for record in log.records]

    run()


@pytest.mark.django_db(transaction=True)
def test_generated_websocket_frames_are_ignored_or_closed_cleanly():
    _fuzz_socket(8, derandomize=True)


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_thousands_of_websocket_frames_are_ignored_or_closed_cleanly():
    _fuzz_socket(100, derandomize=False, max_frames=40)  # thousands of frames, a socket each 40
