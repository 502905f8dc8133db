"""The real stack on loopback for the benchmarks: their own database and Redis database, ASGI server
processes (Daphne or uvicorn), a Celery worker, and the figures' arithmetic.

Nothing here touches the database or Redis database that ``DATABASE_URL`` / ``REDIS_URL`` point at: a
scenario gets its own database on the same PostgreSQL server (made, migrated and dropped here) and its
own numbered Redis database, emptied before and after.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import resource
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://kehittamo:kehittamo@127.0.0.1:5432/kehittamo"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
SERVERS = ("daphne", "uvicorn")


# --- figures -------------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0–1); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def fmt_ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latency_summary(latencies: list[float], expected: int | None = None) -> dict:
    """p50/p95/p99/max in milliseconds, and delivered/expected."""
    summary = {
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "max_ms": ms(max(latencies) if latencies else None),
        "delivered": len(latencies),
    }
    if expected is not None:
        summary["expected"] = expected
    return summary


# --- the machine -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raise_file_limit() -> None:
    """Thousands of sockets per process: lift the soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


# --- the database and Redis --------------------------------------------------------------------------------
def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def base_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("The benchmarks need PostgreSQL: set DATABASE_URL to a postgres:// URL")
    return url


def recreate_database(base_url: str, name: str) -> str:
    """Drop and create the database ``name`` on the server of ``base_url``; returns its URL."""
    import psycopg

    with psycopg.connect(with_database(base_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return with_database(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(with_database(base_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_redis(db: int) -> str:
    """REDIS_URL's server with the bench's own numbered database."""
    parts = urlsplit(os.environ.get("REDIS_URL", "") or DEFAULT_REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def empty_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@functools.cache
def _secret_key() -> str:
    """One key per bench process: the sessions it makes must be valid in the servers it starts."""
    return secrets.token_urlsafe(40)


def server_env(database_url: str, redis_url: str, *, pool_size: int | None = None, **extra: str) -> dict:
    """As in production: DEBUG off (no query log), the real channel layer, cache and Celery broker."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_POOL_SIZE": str(pool_size or os.environ.get("DATABASE_POOL_SIZE") or 20),
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": _secret_key(),
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",  # no line per request
        # Every simulated guest comes from 127.0.0.1, and S2-S7 post and vote from up to 1,000 of them at
        # rates no hall reaches: the rate limits stay on (their cache counts are part of each POST) but
        # 1,000 times higher, so the scenarios measure the platform and not its flood protection.
        "RATE_LIMIT_FACTOR": "1000",
        **extra,
    }


@contextlib.contextmanager
def django_on(database_url: str, redis_url: str, *, migrate: bool = True):
    """Point this process's Django at the bench's database and Redis (set up once per process)."""
    env = server_env(database_url, redis_url)
    for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "SECRET_KEY"):
        os.environ[key] = env[key]
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    connections.close_all()
    try:
        yield
    finally:
        connections.close_all()


@dataclass
class Stack:
    """A database and a Redis database of the bench's own, made on entry and removed on exit."""

    name: str  # database name, e.g. "kehittamo_bench"
    redis_db: int
    base_url: str = field(default_factory=base_database_url)
    database_url: str = ""
    redis_url: str = ""

    def __enter__(self) -> Stack:
        raise_file_limit()
        self.redis_url = bench_redis(self.redis_db)
        empty_redis(self.redis_url)
        self.database_url = recreate_database(self.base_url, self.name)
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        drop_database(self.base_url, self.name)
        empty_redis(self.redis_url)


# --- the servers -------------------------------------------------------------------------------------------
def server_command(kind: str, port: int, app: str = "config.asgi:application") -> list[str]:
    bin_dir = Path(sys.executable).parent
    if kind == "daphne":
        return [str(bin_dir / "daphne"), "--access-log", os.devnull, "-b", "127.0.0.1", "-p", str(port), app]
    if kind == "uvicorn":
        return [
            str(bin_dir / "uvicorn"),
            "--no-access-log",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws-max-queue",
            "1024",
            app,
        ]
    raise ValueError(f"unknown server {kind!r}; one of {SERVERS}")


class Servers:
    """``processes`` ASGI server processes of ``kind`` on their own ports, and optionally a Celery worker;
    stopped (only these) on exit. ``bases`` are their http:// addresses."""

    def __init__(
        self,
        env: dict,
        log: Path,
        *,
        kind: str = "daphne",
        processes: int = 1,
        app: str = "config.asgi:application",
        celery: bool = True,
        health_path: str = "/healthz",
    ):
        self.env = env
        self.kind = kind
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log.open("w")  # the servers' own output (tracebacks of any 5xx), apart from the figures
        self.ports = [free_port() for _ in range(processes)]
        self.bases = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.app = app
        self.celery = celery
        self.health_path = health_path
        self.servers: list[subprocess.Popen] = []
        self.worker: subprocess.Popen | None = None
        self.worker_name = f"bench-{os.getpid()}-{secrets.token_hex(3)}@%h"

    @property
    def base(self) -> str:
        return self.bases[0]

    def pids(self) -> list[int]:
        return [process.pid for process in self.servers]

    def __enter__(self) -> Servers:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        for port in self.ports:
            self.servers.append(
                subprocess.Popen(
                    server_command(self.kind, port, self.app),
                    cwd=ROOT,
                    env=self.env,
                    stdout=self.log,
                    stderr=subprocess.STDOUT,
                )
            )
        if self.celery:
            bin_dir = Path(sys.executable).parent
            self.worker = subprocess.Popen(
                [
                    str(bin_dir / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    self.worker_name,
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        for process, base in zip(self.servers, self.bases, strict=True):
            self._wait_for_server(process, base)
        if self.worker is not None:
            self._wait_for_worker()

    def _wait_for_server(self, process: subprocess.Popen, base: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}{self.health_path}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} did not start; see {self.log.name}") from None
                time.sleep(0.2)

    def _wait_for_worker(self) -> None:
        from config.celery import app

        wanted = self.worker_name.replace("%h", socket.gethostname())
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"The Celery worker did not start; see {self.log.name}")
            replies = app.control.ping(destination=[wanted], timeout=1.0) or []
            if any(wanted in reply for reply in replies):
                return
        raise RuntimeError("The Celery worker did not answer")

    def stop(self) -> None:
        processes = [*self.servers, *([self.worker] if self.worker else [])]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.log.close()


# --- people with sessions, as the join view and the log-in make them -------------------------------------------
def _csrf_secret() -> str:
    # What Django's CSRF cookie holds: 32 letters and digits; the same value goes in X-CSRFToken.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _session_cookies(data: dict) -> dict:
    from importlib import import_module

    from django.conf import settings

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    for key, value in data.items():
        session[key] = value
    session.create()
    return {settings.SESSION_COOKIE_NAME: session.session_key, settings.CSRF_COOKIE_NAME: _csrf_secret()}


def user_cookies(user) -> dict:
    """A signed-in browser of ``user`` (session and CSRF cookies)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    return _session_cookies(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )


def guest_cookies(participant) -> dict:
    """As guest_login() after the join link: the session knows which participant this browser is."""
    from workshops.guests import SESSION_KEY as GUESTS_KEY
    from workshops.guests import session_entry

    return _session_cookies({GUESTS_KEY: {str(participant.workshop_id): session_entry(participant)}})


def request_headers(base: str, cookies: dict, *, csrf: bool = False) -> dict:
    """Headers of a page's fetch: its cookies, same Origin, and the CSRF token for a POST."""
    from django.conf import settings

    headers = {
        "Cookie": "; ".join(f"{key}={value}" for key, value in cookies.items()),
        "Origin": base,
        "Referer": base + "/",
    }
    if csrf:
        headers["X-CSRFToken"] = cookies[settings.CSRF_COOKIE_NAME]
    return headers


def machine() -> dict:
    """What the figures were taken on: cores, load average, git revision, versions."""
    import importlib.metadata as metadata
    import platform

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = bool(
            subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        )
    except OSError:
        revision, dirty = None, None
    packages = ["Django", "channels", "channels-redis", "daphne", "uvicorn", "redis", "psycopg", "openpyxl"]
    return {
        "revision": revision,
        "dirty": dirty,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "versions": {name: version(name) for name in packages},
    }


# --- what every scenario gets ------------------------------------------------------------------------------
@dataclass
class Context:
    """What ``python -m bench`` hands each scenario's ``run(ctx) -> dict``.

    ``quick``: tiny sizes for a smoke run; ``server``: "daphne" or "uvicorn" (a scenario that runs on an
    ASGI server uses this one; ``--server both`` calls it once per server); ``args``: the parsed command
    line (``args.clients``, ``args.seconds`` may be None = the scenario's own sizes); ``results``: where
    a scenario may keep its own files (logs).
    """

    args: object
    quick: bool = False
    server: str = "daphne"
    results: Path = RESULTS
    stack: Stack | None = None  # helper B's scenarios share one; others make their own


def run_in_child(module: str, function: str, ctx, queue) -> None:
    """A spawned process's entry point: run ``module.function(ctx)`` and put ("ok", result) or ("error", trace)."""
    import importlib
    import traceback

    try:
        queue.put(("ok", getattr(importlib.import_module(module), function)(ctx)))
    except BaseException:
        queue.put(("error", traceback.format_exc()))
