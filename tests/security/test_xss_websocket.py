"""The XSS corpus sent over the live WebSocket, which only understands ``{"type": "ping"}``: as raw text,
as JSON strings, as the type of a message and inside a ping. Nothing may break (the socket stays open and
still answers a ping), nothing is echoed back, and the others on the workshop hear nothing of it."""

from __future__ import annotations

import json

import pytest

from tests.facilitation.conftest import live_workshop  # noqa: F401  (fixture)
from tests.facilitation.test_consumers import _empty_layer, frames, open_socket, people  # noqa: F401  (fixtures)
from tests.security import xss_corpus

pytestmark = pytest.mark.django_db(transaction=True)


def messages(vector: str) -> list[str]:
    """The shapes one vector is sent in."""
    return [
        vector,  # not JSON at all
        json.dumps(vector),
        json.dumps({"type": vector}),
        json.dumps({"type": "ping", "text": vector, "html": vector}),
        json.dumps({"kind": "comment.created", "data": {"html": vector, "text": vector}}),
        json.dumps([vector, {"type": "ping"}]),
    ]


async def test_the_corpus_over_the_socket_breaks_nothing_and_echoes_nothing(live_workshop, people):  # noqa: F811
    _aino, aino_session = people["aino"]
    _bertta, bertta_session = people["bertta"]
    sender, connected = await open_socket(live_workshop.pk, aino_session)
    assert connected
    listener, connected = await open_socket(live_workshop.pk, bertta_session)
    assert connected
    await frames(listener, timeout=0.5)  # the presence push of the sender's arrival
    vectors = xss_corpus.vectors()
    for vector in vectors:
        for message in messages(vector):
            await sender.send_to(text_data=message)
    await sender.send_to(bytes_data=b"\x00\xff<script>alert(1)</script>")
    await sender.send_to(text_data="[" * 100_000)  # too deep for the JSON parser
    await sender.send_json_to({"type": "ping"})
    answers = await frames(sender, timeout=1.0)
    # one pong for each ping-typed message, and nothing else at all
    assert answers and all(answer == {"kind": "pong"} for answer in answers), answers[:3]
    assert len(answers) == len(vectors) + 1
    heard = await frames(listener, timeout=0.5)
    assert all(frame.get("kind") == "stats" for frame in heard), heard[:3]
    text = json.dumps(answers + heard)
    assert xss_corpus.MARKER_PREFIX not in text
    await sender.disconnect()
    await listener.disconnect()
