"""The baselines, driven by the same generator with the same ~300-byte frames at 1 message/s.

- B1, the textbook Channels app: a consumer that joins a group on connect and does receive →
  ``group_send`` → ``send``, nothing else, on the same ASGI server and Redis channel layer
  (``bench.baselines:b1_application`` with ``bench.baseline_settings``).
- B2, a plain ``websockets`` server broadcasting in one process (``python -m bench.baselines b2 PORT``):
  the practical limit of Python here.
- B3, a raw ASGI WebSocket app (no Channels) on the same ASGI server, fanning out to an in-process set
  of connections (``bench.baselines:b3_application``): the limit of the ASGI server itself.

A sender socket of its own sends each frame; the server fans it out to every client socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from channels.generic.websocket import AsyncWebsocketConsumer

FRAME_BYTES = int(os.environ.get("BENCH_FRAME_BYTES", "300"))  # the baselines: ~300-byte frames
GROUP = "bench"


# --- the ASGI apps ------------------------------------------------------------------------------------------
async def _http_ok(scope, receive, send) -> None:
    """Any HTTP request: 200 (the bench waits for the server with one)."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class TextbookConsumer(AsyncWebsocketConsumer):
    """B1: what the Channels tutorial builds."""

    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.channel_layer.group_send(GROUP, {"type": "bench.message", "text": text_data})

    async def bench_message(self, event) -> None:
        await self.send(text_data=event["text"])


_textbook = None


async def b1_application(scope, receive, send) -> None:
    global _textbook
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] == "http":
        return await _http_ok(scope, receive, send)
    if _textbook is None:
        _textbook = TextbookConsumer.as_asgi()
    return await _textbook(scope, receive, send)


_sockets: set = set()


async def b3_application(scope, receive, send) -> None:
    """B3: accept, keep ``send`` in a set, and send every received frame to every socket in it."""
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] == "http":
        return await _http_ok(scope, receive, send)
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    _sockets.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                continue
            for other in list(_sockets):
                try:
                    await other({"type": "websocket.send", "text": text})
                except Exception:
                    _sockets.discard(other)  # one socket's failure never stops the others
    finally:
        _sockets.discard(send)


async def _b2_serve(port: int, seconds: float) -> None:
    from websockets.asyncio.server import broadcast, serve

    connections: set = set()

    async def handler(ws) -> None:
        connections.add(ws)
        try:
            async for message in ws:
                broadcast(connections, message)
        except Exception:
            pass
        finally:
            connections.discard(ws)

    async with serve(handler, "127.0.0.1", port, max_size=None, compression=None):
        await asyncio.sleep(seconds)  # bounded: the bench stops it sooner


# --- running them --------------------------------------------------------------------------------------------
def frame(marker: str) -> str:
    """A JSON frame of about FRAME_BYTES bytes carrying ``marker``."""
    head = {"id": None, "kind": "bench", "data": {"text": marker, "html": ""}}
    pad = FRAME_BYTES - len(json.dumps(head))
    head["data"]["html"] = "x" * max(0, pad)
    return json.dumps(head)


def sizes(ctx) -> list[int]:
    if getattr(ctx.args, "clients", None):
        return [ctx.args.clients]
    return [30] if ctx.quick else [300, 1000]


def seconds(ctx) -> float:
    if getattr(ctx.args, "seconds", None):
        return float(ctx.args.seconds)
    return 6.0 if ctx.quick else 60.0


def _plan(url: str, origin: str, clients: int, duration: float, processes: int | None):
    from bench import loadgen

    sends = [
        loadgen.Send(at=second, marker=(marker := loadgen.new_marker()), text=frame(marker))
        for second in range(int(duration))
    ]
    return loadgen.Plan(
        clients=[
            loadgen.Client(index=index, url=url, origin=origin, heartbeat=False, audiences=("all",))
            for index in range(clients)
        ],
        sends=sends,
        connect_by=time.time() + 30 + clients / 20,
        duration=len(sends) + loadgen.DRAIN_SECONDS,  # the last frame's deliveries drain
        processes=processes or loadgen.default_processes(clients),
        sender_ws=url,
        sender_origin=origin,
    )


def _measure(name: str, server: str, url: str, origin: str, clients: int, ctx) -> dict:
    from bench import loadgen

    plan = _plan(url, origin, clients, seconds(ctx), getattr(ctx.args, "processes", None))
    raw = loadgen.run(plan)
    return {
        "scenario": name,
        "server": server,
        "clients": clients,
        "seconds": seconds(ctx),
        **loadgen.analyse(plan, raw),
        **loadgen.send_spread(plan, raw),
        "connect_seconds": raw["connect_seconds"],
    }


def _asgi(name: str, app: str, ctx) -> dict:
    from bench.stack import Servers, server_env

    stack = ctx.stack
    env = server_env(stack.database_url, stack.redis_url, DJANGO_SETTINGS_MODULE="bench.baseline_settings")
    rows = []
    for clients in sizes(ctx):
        log = ctx.results / f"{name.lower()}-{ctx.server}.log"
        with Servers(env, log, kind=ctx.server, app=app, celery=False, health_path="/") as servers:
            base = servers.base
            rows.append(_measure(name, ctx.server, base.replace("http://", "ws://") + "/ws/", base, clients, ctx))
    return {"rows": rows}


def run_b1(ctx) -> dict:
    return _asgi("B1", "bench.baselines:b1_application", ctx)


def run_b3(ctx) -> dict:
    return _asgi("B3", "bench.baselines:b3_application", ctx)


def run_b2(ctx) -> dict:
    from bench.stack import ROOT, free_port

    rows = []
    for clients in sizes(ctx):
        port = free_port()
        budget = seconds(ctx) + 120 + clients / 10
        log = (ctx.results / "b2.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.baselines", "b2", str(port), str(budget)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process)
            base = f"http://127.0.0.1:{port}"
            rows.append(_measure("B2", "websockets", f"ws://127.0.0.1:{port}/", base, clients, ctx))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
    return {"rows": rows}


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the B2 server did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the B2 server did not answer")


if __name__ == "__main__":  # python -m bench.baselines b2 PORT SECONDS
    if len(sys.argv) == 4 and sys.argv[1] == "b2":
        from bench.stack import raise_file_limit

        raise_file_limit()
        asyncio.run(_b2_serve(int(sys.argv[2]), float(sys.argv[3])))
    else:
        raise SystemExit(f"usage: {Path(sys.executable).name} -m bench.baselines b2 PORT SECONDS")
