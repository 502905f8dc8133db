"""A whole stack of its own on loopback for the fault tests, every part of which may be killed.

Its own PostgreSQL cluster (``initdb`` into a temporary directory, run as the ``postgres`` user when
this is root) and its own ``redis-server``, both on free ports: the machine's shared PostgreSQL and
Redis are never touched. Daphne and a Celery worker are started as in production (``bench.stack``'s
environment: DEBUG off, the real channel layer, cache and broker). Seeding runs in a child process
pointed at this stack, so the test process's own Django (the normal test database) is not involved.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.stack import free_port, server_command, server_env

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "kehittamo_faults"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def wait_for_port(port: int, *, up: bool = True, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            answered = probe.connect_ex(("127.0.0.1", port)) == 0
        if answered == up:
            return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not come {'up' if up else 'down'} in {timeout} s")


class Postgres:
    """A throw-away cluster: trust authentication on loopback, no fsync (nothing here is kept)."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's temporary folder: the postgres user cannot enter root's.
        self.dir = Path(tempfile.mkdtemp(prefix="kehittamo-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """``redis-server`` in memory only, on a port of its own."""

    def __init__(self, log) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        wait_for_port(self.port, up=False)


class Stack:
    """PostgreSQL, Redis, one Daphne and one Celery worker of this test run's own."""

    def __init__(self, workdir: Path, **extra_env: str) -> None:
        self.workdir = workdir
        self.log = (workdir / "stack.log").open("a")
        self.postgres = Postgres()
        self.redis = Redis(self.log)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.workers = 0
        self.media = workdir / "media"

    @property
    def env(self) -> dict:
        return server_env(
            self.postgres.url,
            self.redis.url,
            pool_size=10,
            MEDIA_ROOT=str(self.media),
            LOG_LEVEL="WARNING",
            SITE_URL=self.base,
            **self.extra_env,
        )

    def start(self) -> None:
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")  # DEBUG off: pages need the manifest, as in production
        self.start_server()
        self.start_worker()

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.redis.kill()
        self.postgres.remove()
        self.log.close()

    # --- Django in a child process ----------------------------------------------------------------
    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, stdout=self.log, stderr=self.log
        )

    def call(self, function: str, **kwargs) -> object:
        """Run ``tests.security.faults_seed.<function>(**kwargs)`` against this stack; returns its JSON result."""
        code = (
            "import json, sys, django; django.setup(); from tests.security import faults_seed; "
            f"print(json.dumps(faults_seed.{function}(**json.loads(sys.argv[1]))))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(kwargs)],
            cwd=ROOT,
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"{function} failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # --- the ASGI server ------------------------------------------------------------------------------
    def start_server(self, timeout: float = 30) -> float:
        """Start Daphne on this stack's port; returns the seconds until it answered."""
        started = time.monotonic()
        self.server = subprocess.Popen(
            server_command("daphne", self.port), cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers (503 while a dependency is away is an answer)
            except OSError:
                if self.server.poll() is not None or time.monotonic() - started > timeout:
                    raise RuntimeError("Daphne did not start; see stack.log") from None
                time.sleep(0.1)
        return time.monotonic() - started

    def stop_server(self) -> None:
        """SIGTERM, as a deployment's restart does."""
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()

    # --- the Celery worker ------------------------------------------------------------------------------
    def start_worker(self) -> None:
        """A solo worker; returns once it is consuming (it may take up a task at once, so no ping)."""
        self.workers += 1
        self.worker_log = self.workdir / f"worker{self.workers}.log"
        self.worker = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "-n",
                f"faults{self.workers}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while " ready." not in self.worker_log.read_text(errors="replace"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The Celery worker did not start; see {self.worker_log}")
            time.sleep(0.2)

    def kill_worker(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or handed back."""
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()

    # --- looking in ---------------------------------------------------------------------------------------
    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=20) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
