"""The ASGI server's HTTP side (config/http_handler.py): Django's request handling in one worker-thread trip."""

from __future__ import annotations

import asyncio
import io
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from config.http_handler import PooledASGIHandler

pytestmark = pytest.mark.asyncio

RELEASE = threading.Event()
CLOSED: list[str] = []


def _thread(request):
    return HttpResponse(threading.current_thread().name)


@csrf_exempt
def _echo(request):
    return HttpResponse(f"{request.method} {request.POST.get('text', '')} {request.GET.get('q', '')}")


def _here(request):
    return HttpResponse(reverse("here"))


def _fails(request):
    raise RuntimeError("a bug")


def _blocks(request):
    RELEASE.wait(10)
    return HttpResponse("released")


async def _async_view(request):
    await asyncio.sleep(0)
    return HttpResponse("async")


class _Chunks:
    def __iter__(self):
        yield b"one,"
        yield b"two"

    def close(self):
        CLOSED.append(threading.current_thread().name)


def _streams(request):
    return StreamingHttpResponse(_Chunks(), content_type="text/csv")


def _file(request):
    return FileResponse(io.BytesIO(b"x" * 200_000), as_attachment=True, filename="tulokset.xlsx")


async def _async_chunks():
    yield b"a"
    yield b"b"


def _streams_async(request):
    response = StreamingHttpResponse(_async_chunks())
    response._resource_closers.append(lambda: CLOSED.append(threading.current_thread().name))
    return response


urlpatterns = [
    path("thread/", _thread),
    path("echo/", _echo),
    path("here/", _here, name="here"),
    path("fails/", _fails),
    path("blocks/", _blocks),
    path("ping/", _thread),
    path("async/", _async_view),
    path("streams/", _streams),
    path("file/", _file),
    path("streams-async/", _streams_async),
]


def _scope(path_: str, *, method: str = "GET", query: bytes = b"", headers=(), root_path: str = "") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path_,
        "raw_path": (root_path + path_).encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _request(app, path_: str, *, body: bytes = b"", **scope) -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(app, _scope(path_, **scope))
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(5)
    content = b""
    while True:
        message = await communicator.receive_output(5)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], dict(start["headers"]), content


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    RELEASE.clear()
    CLOSED.clear()
    return PooledASGIHandler(2, reserved_paths=frozenset({"/ping/"}))


async def test_a_request_runs_on_the_handlers_long_lived_threads_and_gets_the_middlewares_headers(handler):
    names = set()
    for _ in range(6):
        status, headers, content = await _request(handler, "/thread/")
        assert status == 200
        names.add(content.decode())
    assert names and all(name.startswith("http_") for name in names)
    assert len(names) <= 2  # the pool's threads serve request after request: no new thread per request
    assert b"Permissions-Policy" in headers and b"Content-Security-Policy" in headers


async def test_request_started_middleware_view_and_request_finished_run_in_one_thread_before_the_answer(handler):
    seen = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        communicator = ApplicationCommunicator(handler, _scope("/thread/"))
        await communicator.send_input({"type": "http.request", "body": b""})
        await communicator.receive_output(5)
        # request_finished (which gives the database connection back to the pool) came before the answer.
        assert [event for event, _ident in seen] == ["started", "finished"]
        await communicator.receive_output(5)
        await communicator.wait(5)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert len({ident for _event, ident in seen}) == 1
    assert seen[0][1] != threading.get_ident()  # not on the event loop's thread


async def test_the_body_and_query_reach_the_view(handler):
    status, _headers, content = await _request(
        handler,
        "/echo/",
        method="POST",
        body="text=Hyvää+päivää".encode(),
        query=b"q=haku",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert (status, content.decode()) == (200, "POST Hyvää päivää haku")


async def test_urls_keep_the_servers_script_prefix(handler):
    status, _headers, content = await _request(handler, "/here/", root_path="/kehittamo")
    assert (status, content) == (200, b"/kehittamo/here/")
    status, _headers, content = await _request(handler, "/here/")
    assert content == b"/here/"  # the prefix belongs to that request only


async def test_a_failing_view_answers_500_and_the_next_request_is_served(handler, caplog):
    status, _headers, _content = await _request(handler, "/fails/")
    assert status == 500
    status, _headers, _content = await _request(handler, "/thread/")
    assert status == 200


async def test_an_async_view_runs_on_the_servers_loop(handler):
    status, _headers, content = await _request(handler, "/async/")
    assert (status, content) == (200, b"async")


async def test_a_synchronous_stream_is_read_and_closed_in_the_thread_that_made_it(handler):
    """Its queries used that thread's database connection, which closing the response hands back."""
    status, _headers, content = await _request(handler, "/streams/")
    assert (status, content) == (200, b"one,two")
    assert len(CLOSED) == 1 and CLOSED[0].startswith("http_")


async def test_a_file_is_sent_whole(handler):
    status, headers, content = await _request(handler, "/file/")
    assert (status, len(content)) == (200, 200_000)
    assert b"tulokset.xlsx" in headers[b"Content-Disposition"]


async def test_an_asynchronous_stream_is_closed_after_it_was_sent(handler):
    status, _headers, content = await _request(handler, "/streams-async/")
    assert (status, content) == (200, b"ab")
    assert len(CLOSED) == 1 and CLOSED[0].startswith("http_")


async def test_a_body_over_the_limit_answers_413_not_500(handler, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    status, _headers, _content = await _request(
        handler,
        "/echo/",
        method="POST",
        body=b"text=" + b"x" * 100,
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert status in (400, 413)


async def test_reserved_paths_answer_while_every_request_thread_is_busy(handler):
    stuck = [asyncio.ensure_future(_request(handler, "/blocks/")) for _ in range(2)]
    await asyncio.sleep(0.2)
    try:
        status, _headers, content = await asyncio.wait_for(_request(handler, "/ping/"), timeout=3)
        assert status == 200 and content.decode().startswith("http-reserved")
        assert not any(task.done() for task in stuck)
    finally:
        RELEASE.set()
    results = await asyncio.gather(*stuck)
    assert [status for status, _headers, _content in results] == [200, 200]


async def test_the_servers_application_serves_http_through_this_handler():
    from config import asgi

    http = asgi.application.application_mapping["http"]
    assert isinstance(http.app, PooledASGIHandler)
    assert http.app.reserved_paths >= {"/healthz"}
