"""A smoke run of the benchmark suite: ``python -m bench S1 B3 S5 --quick`` against the real services.

It starts the real stack (its own database and Redis db, Daphne, a Celery worker) and the load
generator's processes, so it needs PostgreSQL and Redis; it checks that the suite measures what it
says: every comment, phase change and round change reached every participant (and every panel after
them was loaded), nothing answered 5xx, and one JSON report was written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]

# A minute of real stack: it belongs with the slow runs (make test-faults), not in every `make test`.
pytestmark = [pytest.mark.services, pytest.mark.faults]


def test_quick_run_delivers_everything(tmp_path):
    require_service(
        "PostgreSQL and Redis",
        os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
        and bool(os.environ.get("REDIS_URL")),
    )
    output = tmp_path / "bench.json"
    # Its own database and Redis db: a benchmark running meanwhile (kehittamo_bench, db 14) is not disturbed.
    command = [sys.executable, "-m", "bench", "S1", "B3", "S5", "--quick", "--output", str(output)]
    command += ["--database", "kehittamo_bench_smoke", "--redis-db", "15"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)

    assert output.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(output.read_text())
    rows = {row["scenario"]: row for row in report["rows"]}
    assert set(rows) == {"S1", "B3", "S5", "S5 rounds"}
    for row in rows.values():
        assert row["expected"] > 0
        assert row["delivered"] == row["expected"], row
        assert row["http_5xx"] == 0, row
        assert row["never_connected"] == 0, row
        assert row["p95_ms"] is not None
    assert rows["S1"]["messages"] > 0 and rows["S1"]["statuses"].get("201") == rows["S1"]["messages"]
    assert rows["S1"]["sent_over"] == {"socket": rows["S1"]["messages"]}, "as the page sends a comment"
    for change in ("S5", "S5 rounds"):  # the facilitator's POSTs answered, every panel after them loaded
        assert set(rows[change]["statuses"]) == {"200"} and rows[change]["messages"] == 1, rows[change]
        assert rows[change]["panels_missing"] == 0 and rows[change]["last_panel_ms"] is not None, rows[change]
    assert report["machine"]["cores"] and report["ok"] is True
    assert result.returncode == 0, result.stdout[-3000:]
