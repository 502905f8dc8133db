"""Benchmark the Excel export: 100,000 contribution rows in write-only mode against openpyxl's normal mode.

Run from the project root: ``.venv/bin/python bench/bench_export.py`` (``--rows N``, ``--seed S``).
Both builds write the same synthetic rows (shaped like ``reports.contributions.contribution_rows``
output, generated lazily as the chunked database reads would deliver them) through the same
``reports.workbook.write_contribution_sheet``; only the workbook mode differs. Each build runs
twice: once for time, once under tracemalloc for peak memory. Exits 1 when the write-only
peak is not clearly lower (under half) than the normal mode's.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.utils import translation  # noqa: E402

from reports.contributions import COLUMN_KEYS  # noqa: E402
from reports.workbook import categories_range, new_workbook, write_contribution_sheet  # noqa: E402

MEMORY_RATIO_BUDGET = 0.5  # write-only must peak under half of the normal mode
CASES = ["Kotihoidon aamupalaveri", "Nuorten kesäseteli", "Kirjasto olohuoneena"]
CATEGORIES = ["Resurssit", "Osaaminen", "Yhteistyö", "Viestintä", "Asukkaat"]
WORDS = [
    "hyvä",
    "käytäntö",
    "työ",
    "yhteistyö",
    "äänestys",
    "öljy",
    "åkerö",
    "kunta",
    "asukas",
    "palvelu",
    "kehittäminen",
    "idea",
    "kokeilu",
    "tiimi",
    "aamupalaveri",
    "kesäseteli",
    "kirjasto",
    "nuoret",
    "ikäihmiset",
    "vapaaehtoiset",
]
FORMULA_LIKE = ["=SUM(A1:A3)", "+358 40 123 4567", "-ei mitään-", "@kaikki"]


def synthetic_rows(count: int, seed: int) -> Iterator[dict]:
    """``count`` rows like the export's: mostly comments, some replies, room notes, formula-looking text."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 12, 13, 0)
    for index in range(count):
        room = rng.random() < 0.3
        anonymous = rng.random() < 0.15
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        if rng.random() < 0.2:
            text += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20)))
        if rng.random() < 0.01:
            text = rng.choice(FORMULA_LIKE)
        row = {
            "id": f"C{index + 1}",
            "kind": "Room note" if room else "Comment",
            "workshop": "Hyvinvoinnin kehittämisiltapäivä",
            "date": date(2026, 3, 12),
            "phase": "Small-group rounds" if room else "Case presentation",
            "case": rng.choice(CASES),
            "prompt": "" if room else "What did I learn?",
            "round": rng.randint(1, 3) if room else None,
            "room": rng.choice("ABCDEFGH") if room else "",
            "leader": "Rauha Ryhmänvetäjä" if room else "",
            "author": "anonymous" if anonymous else f"Osallistuja {rng.randint(1, 300)}",
            "organisation": "" if anonymous else rng.choice(["Esimerkkilä", "Naapurila", "Kolmaskylä"]),
            "department": "" if anonymous else rng.choice(["Sivistys", "Sote", "Tekninen"]),
            "role_group": "" if anonymous else "Staff",
            "parent": f"C{rng.randint(1, index)}" if index and rng.random() < 0.1 else "",
            "agree": rng.randint(0, 12),
            "good_point": rng.randint(0, 5),
            "hidden": "yes" if rng.random() < 0.005 else "",
            "language": "fi",
            "created": start + timedelta(seconds=index * 0.2),
            "text": text,
            "category": rng.choice(CATEGORIES) if rng.random() < 0.3 else "",
            "notes": "",
        }
        assert tuple(row) == COLUMN_KEYS
        yield row


def build(path: Path, *, rows: int, seed: int, write_only: bool) -> int:
    workbook = new_workbook(write_only=write_only)
    written = write_contribution_sheet(
        workbook,
        "All contributions",
        synthetic_rows(rows, seed),
        categories_ref=categories_range("Categories", CATEGORIES),
    )
    workbook.save(str(path))
    return written


def measure(path: Path, *, rows: int, seed: int, write_only: bool) -> tuple[float, int, int]:
    """(seconds, peak bytes, file bytes): timed without tracemalloc, then measured with it."""
    started = time.perf_counter()
    build(path, rows=rows, seed=seed, write_only=write_only)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        build(path, rows=rows, seed=seed, write_only=write_only)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak, path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="kehittamo-bench-") as directory, translation.override("en"):
        for label, write_only in (("write-only", True), ("normal", False)):
            path = Path(directory) / f"{label}.xlsx"
            results[label] = measure(path, rows=args.rows, seed=args.seed, write_only=write_only)
    print(f"Excel export, {args.rows:,} rows x {len(COLUMN_KEYS)} columns (seed {args.seed})")
    print(f"{'mode':<12}{'seconds':>10}{'peak MiB':>12}{'file MiB':>12}")
    for label, (seconds, peak, size) in results.items():
        print(f"{label:<12}{seconds:>10.2f}{peak / 2**20:>12.1f}{size / 2**20:>12.1f}")
    ratio = results["write-only"][1] / results["normal"][1]
    print(f"write-only peak memory is {ratio:.1%} of the normal mode's (budget: under {MEMORY_RATIO_BUDGET:.0%})")
    if ratio >= MEMORY_RATIO_BUDGET:
        print("FAIL: write-only mode does not save enough memory")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
