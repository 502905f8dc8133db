"""What the load generator counts as a frame's markers (``bench.loadgen._own_words``)."""

from __future__ import annotations

import json

from bench import loadgen


def frame(kind: str, data: dict) -> str:
    return json.dumps({"kind": kind, "id": 7, "data": data, "now": "2026-11-24T12:00:00+00:00"})


def test_a_phase_frame_counts_only_its_own_title_not_the_agenda_in_its_panel():
    text = frame("phase", {"title": "Next BMK0000000001", "i18n": {"fi": {"html": "BMK0000000002"}}})
    assert loadgen.MARKER.findall(loadgen._own_words(text)) == ["BMK0000000001"]


def test_a_rounds_opening_frame_stands_for_the_plans_marker_of_that_round():
    markers = {1: "BMK00000000a1", 2: "BMK00000000a2"}
    assert loadgen.MARKER.findall(loadgen._own_words(frame("round", {"round": 2, "open": True}), markers)) == [
        "BMK00000000a2"
    ]
    # A round closing, a round the plan did not start, or a plan without rounds: no marker.
    assert not loadgen.MARKER.findall(loadgen._own_words(frame("round", {"round": 2, "open": False}), markers))
    assert not loadgen.MARKER.findall(loadgen._own_words(frame("round", {"round": 3, "open": True}), markers))
    assert not loadgen.MARKER.findall(loadgen._own_words(frame("round", {"round": 1, "open": True})))
    # The server's dispatch time stays readable in the frame.
    assert loadgen._server_now(loadgen._own_words(frame("round", {"round": 1, "open": True}), markers))


def test_other_frames_count_as_they_are():
    text = frame("comment.created", {"i18n": {"fi": {"html": "<p>BMK00000000b1 kirjasto</p>"}}})
    assert loadgen._own_words(text, {1: "BMK00000000a1"}) == text


def test_a_page_waits_for_its_rooms_pushed_panel_and_asks_itself_only_when_none_comes(monkeypatch):
    """As live.js when a round starts (``_RoundPanels``)."""
    import asyncio

    asked = []

    async def ask(client, seen, http, marker):
        asked.append(marker)

    monkeypatch.setattr(loadgen, "_panel", ask)

    async def scenario() -> tuple[loadgen.Seen, set]:
        seen, background = loadgen.Seen(), set()
        rounds = loadgen._RoundPanels(loadgen.Client(index=0, url="", origin=""), seen, None, background)
        rounds.started({"round": 1, "open": True, "panels": 0.05}, "BMK00000000c1", 1.0)
        rounds.pushed({"round": 1, "panel": "<p>huone</p>"}, 1.2)  # in time: shown, nothing asked
        rounds.pushed({"round": 2, "panel": "<p>huone</p>"}, 2.0)  # before its frame: shown with the frame
        rounds.started({"round": 2, "open": True, "panels": 0.05}, "BMK00000000c2", 2.1)
        rounds.started({"round": 3, "open": True, "panels": 0.05}, "BMK00000000c3", 3.0)  # no push comes
        rounds.started({"round": 3, "open": False}, "BMK00000000c4", 4.0)  # closing: the page asks at once
        await asyncio.sleep(0.2)
        return seen, background

    seen, _background = asyncio.run(scenario())
    assert seen.panels == [("BMK00000000c1", 1.2, 200), ("BMK00000000c2", 2.1, 200)]
    assert sorted(asked) == ["BMK00000000c3", "BMK00000000c4"]


def test_a_clients_own_comments_go_over_its_socket_and_are_posted_when_it_gives_no_answer(monkeypatch):
    """As live.js's outbox (``_Outbox``): the socket first; a POST when it is closed, silent or fails."""
    import asyncio
    from types import SimpleNamespace

    posted = []

    async def post(send, http):
        posted.append(send.marker)
        return {"done": 0.0, "status": 200, "via": "http"}

    monkeypatch.setattr(loadgen, "_post", post)
    monkeypatch.setattr(loadgen, "SOCKET_ANSWER_SECONDS", 0.1)

    class Socket:
        """Answers each comment as the server would, except those it is told to leave unanswered or fail."""

        def __init__(self, outbox, silent=(), failing=()):
            self.outbox, self.silent, self.failing, self.frames = outbox, silent, failing, []

        async def send(self, text):
            frame = json.loads(text)
            self.frames.append(frame)
            if frame["text"] in self.silent:
                return
            status = 500 if frame["text"] in self.failing else 201
            self.outbox.answered(json.dumps({"kind": "comment", "ask": frame["ask"], "status": status}))

    def sends(*texts):
        return [loadgen.Send(at=0.0, marker=text, fields={"text": text}, client=0) for text in texts]

    async def scenario():
        clock = SimpleNamespace(go=0.0, stop_at=float("inf"))
        outbox = loadgen._Outbox(sends("answered", "silent", "failing", "closed"), clock, None)
        socket = Socket(outbox, silent={"silent"}, failing={"failing"})
        outbox.ws = socket
        for send in outbox.sends[:3]:
            outbox.records.append(await outbox._send(send))
        outbox.closed()
        outbox.records.append(await outbox._send(outbox.sends[3]))
        return outbox, socket

    outbox, socket = asyncio.run(scenario())
    assert [frame["type"] for frame in socket.frames] == ["comment"] * 3
    assert [frame["ask"] for frame in socket.frames] == [1, 2, 3]
    assert [record["status"] for record in outbox.records] == [201, 200, 200, 200]
    assert [record["via"] for record in outbox.records] == ["socket", "http", "http", "http"]
    assert posted == ["silent", "failing", "closed"]
    assert outbox.waiting == {}
