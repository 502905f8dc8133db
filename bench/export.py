"""E1: the Excel export of 100,000 comments through the real export task, against openpyxl alone.

Run from the project root: ``.venv/bin/python -m bench.export`` (``--quick`` = 5,000 comments,
``--comments N``). Needs PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL``; it makes its own
database ``kehittamo_benchd`` and uses Redis database 15, and removes both at the end).

What is measured, each in a fresh subprocess of its own (nothing else in it but the imports):
- **E1**: ``reports.tasks.export_build`` (as a Celery task run in place) on a seeded workshop of N
  comments: the task's seconds and its peak resident memory above the process's RSS just before it
  (sampled every 10 ms with psutil, and ``ru_maxrss`` when it grew during the run).
- **write-only** and **normal**: openpyxl alone writing the same rows into the same sheets (every
  contribution, then one sheet per case, as the export writes them), with plain ``ws.append`` and no
  database. The rows are dumped once from the database (through ``reports.contributions``, the
  export's own source) to a pickle; each baseline loads them before its clock and its RSS start, so
  neither the loading time nor the rows' memory counts against the baseline.

Targets (issue #8), enforced at 100,000 comments (smaller runs show them only): E1's time <= 1.25x
write-only's; E1's peak <= 100 MB above its start and
<= 0.1x the normal mode's peak.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stack import RESULTS, ROOT, Stack, django_on, machine, server_env

DATABASE = "kehittamo_benchd"
REDIS_DB = 15
COMMENTS = 100_000
QUICK_COMMENTS = 5_000
TIME_RATIO = 1.25
PEAK_ABOVE_START_MB = 100
PEAK_SHARE_OF_NORMAL = 0.1
CHILD_TIMEOUT = 1800  # seconds: a child that takes longer than this has hung
MB = 2**20

WORDS = [
    "hyvä",
    "käytäntö",
    "työ",
    "yhteistyö",
    "äänestys",
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
    "resurssit",
    "osaaminen",
    "viestintä",
    "asiakas",
    "prosessi",
    "johtaminen",
    "hyvinvointi",
    "arki",
    "muutos",
    "yhdessä",
    "parempi",
    "kokemus",
    "tuki",
    "verkosto",
    "ohjaus",
]
FORMULA_LIKE = ["=SUM(A1:A3)", "+358 40 123 4567", "-ei mitään-", "@kaikki"]
CASES = ["Kotihoidon aamupalaveri", "Nuorten kesäseteli", "Kirjasto olohuoneena", "Digituki kotiin", "Kylätalo"]
CATEGORIES = ["Resurssit", "Osaaminen", "Yhteistyö", "Viestintä", "Asukkaat", "Johtaminen", "Tilat", "Rahoitus"]


# --- the measuring, inside each child -----------------------------------------------------------------
class PeakMemory:
    """The resident set's peak above its size at ``__enter__``: sampled, and ru_maxrss when it rose meanwhile."""

    def __init__(self, every: float = 0.01):
        import psutil

        self.process = psutil.Process()
        self.every = every
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self.start = self.process.memory_info().rss
        self.maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak = self.start
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if maxrss > self.maxrss_before:  # the high-water mark moved during the run: it is the true peak
            self.peak = max(self.peak, maxrss)

    @property
    def above_start(self) -> int:
        return self.peak - self.start


def _child_result(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result))


def child_seed(comments: int, seed: int) -> dict:
    """A finished workshop of ``comments`` contributions across cases, phases, rounds' rooms and people."""
    from django.db import transaction

    from facilitation.models import Comment, Phase, Prompt, Reaction, Room, Round
    from reports.models import Category, CommentCategory
    from workshops.models import Case, Participant, Workshop
    from workshops.services import organisation_get_or_create, workshop_create

    rng = random.Random(seed)
    start = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)

    def text() -> str:
        if rng.random() < 0.01:
            return rng.choice(FORMULA_LIKE)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        if rng.random() < 0.2:
            body += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20)))
        return body

    with transaction.atomic():
        organisation = organisation_get_or_create(name="Bench municipality")
        workshop = workshop_create(
            organisation=organisation,
            title="Hyvinvoinnin kehittämisiltapäivä",
            status=Workshop.Status.FINISHED if hasattr(Workshop.Status, "FINISHED") else Workshop.Status.PLANNED,
            starts_at=start,
        )
        cases = Case.objects.bulk_create(
            Case(workshop=workshop, position=n, title=title) for n, title in enumerate(CASES, 1)
        )
        phases, position = [], 0
        for case in cases:
            position += 1
            phases.append(
                Phase(workshop=workshop, position=position, kind=Phase.Kind.PRESENTATION, title=case.title, case=case)
            )
        position += 1
        reflection = Phase(workshop=workshop, position=position, kind=Phase.Kind.REFLECTION, title="Pohdinta")
        rounds_phase = Phase(workshop=workshop, position=position + 1, kind=Phase.Kind.ROUNDS, title="Pienryhmät")
        phases = Phase.objects.bulk_create([*phases, reflection, rounds_phase])
        case_phases, reflection, rounds_phase = phases[: len(cases)], phases[-2], phases[-1]
        prompts = Prompt.objects.bulk_create(
            Prompt(phase=phase, position=n, text=question)
            for phase in case_phases
            for n, question in enumerate(["Mitä opin?", "Mitä kokeilisimme meillä?"], 1)
        )
        prompts_of = {phase.pk: [p for p in prompts if p.phase_id == phase.pk] for phase in case_phases}
        people = Participant.objects.bulk_create(
            Participant(
                workshop=workshop,
                name=f"Osallistuja {n}",
                organisation_name=rng.choice(["Esimerkkilä", "Naapurila", "Kolmaskylä"]),
                department=rng.choice(["Sivistys", "Sote", "Tekninen"]),
                role_group=rng.choice([choice for choice, _label in Participant.RoleGroup.choices]),
            )
            for n in range(1, 501)
        )
        leaders = people[:30]
        rounds = Round.objects.bulk_create(Round(workshop=workshop, number=n) for n in (1, 2, 3))
        rooms = Room.objects.bulk_create(
            Room(
                round=round_,
                index=index,
                case=cases[(index + round_.number) % len(cases)],
                leader=leaders[index],
                summary=text() if rng.random() < 0.8 else "",
                summary_updated_at=start + timedelta(hours=2),
            )
            for round_ in rounds
            for index in range(10)
        )
        categories = Category.objects.bulk_create(Category(workshop=workshop, name=name) for name in CATEGORIES)

        batch: list = []
        made: list[int] = []
        for number in range(comments):
            kind = rng.random()
            room = phase = case = prompt = round_ = parent_id = None
            if kind < 0.30:
                room = rng.choice(rooms)
                phase, round_, case = rounds_phase, next(r for r in rounds if r.pk == room.round_id), room.case
            elif kind < 0.35:
                phase = reflection
            else:
                phase = rng.choice(case_phases)
                case, prompt = phase.case, rng.choice(prompts_of[phase.pk])
                if made and rng.random() < 0.12:
                    parent_id = rng.choice(made[-500:])
            anonymous = rng.random() < 0.15
            author = rng.choice(people)
            batch.append(
                Comment(
                    client_id=uuid.UUID(int=rng.getrandbits(128)),
                    workshop=workshop,
                    phase=phase,
                    case=case,
                    prompt=prompt,
                    round=round_,
                    room=room,
                    parent_id=parent_id,
                    author_participant=author,
                    anonymous=anonymous,
                    text=text(),
                    language="fi",
                    created_at=start + timedelta(seconds=number * 0.1),
                    hidden_at=start if rng.random() < 0.005 else None,
                )
            )
            if len(batch) == 5000:
                made.extend(comment.pk for comment in Comment.objects.bulk_create(batch))
                batch = []
        if batch:
            made.extend(comment.pk for comment in Comment.objects.bulk_create(batch))
        reactions, taggings = [], []
        for comment_id in made:
            if rng.random() < 0.4:
                for person in rng.sample(people, rng.randint(1, 4)):
                    kind_ = Reaction.Kind.AGREE if rng.random() < 0.7 else Reaction.Kind.GOOD_POINT
                    reactions.append(Reaction(comment_id=comment_id, kind=kind_, participant=person))
            if rng.random() < 0.3:
                for category in rng.sample(categories, rng.choice([1, 1, 1, 2])):
                    taggings.append(CommentCategory(comment_id=comment_id, category=category))
        Reaction.objects.bulk_create(reactions, batch_size=10_000, ignore_conflicts=True)
        CommentCategory.objects.bulk_create(taggings, batch_size=10_000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as a database that has lived a while has
    return {"workshop": workshop.pk, "comments": len(made), "reactions": len(reactions), "taggings": len(taggings)}


def child_export(workshop_id: int, language: str) -> dict:
    """Run the real export task in place; its seconds and peak RSS above its start."""
    from reports.models import Export
    from reports.tasks import export_build
    from workshops.models import Workshop

    workshop = Workshop.objects.get(pk=workshop_id)
    export = Export.objects.create(workshop=workshop, language=language)
    import gc

    gc.collect()
    with PeakMemory() as memory:
        started = time.perf_counter()
        progress = export_build.apply(args=[export.pk]).get()
        seconds = time.perf_counter() - started
    export.refresh_from_db()
    if export.status != Export.Status.DONE:
        raise RuntimeError(f"the export did not finish: {progress}")
    size = export.file.size
    export.file.delete(save=False)
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(memory.above_start / MB, 1),
        "start_mb": round(memory.start / MB, 1),
        "rows": export.rows_written,
        "file_mb": round(size / MB, 1),
    }


def child_dump(workshop_id: int, language: str, path: str) -> dict:
    """The contribution rows the export writes, sheet by sheet, as tuples in a pickle."""
    from django.utils import translation

    from reports.contributions import COLUMN_KEYS, COLUMNS, contribution_rows
    from workshops.models import Workshop

    workshop = Workshop.objects.get(pk=workshop_id)
    sheets = []
    with translation.override(language):
        header = [str(column.header) for column in COLUMNS]
        sources = [("All contributions", None)] + [
            (case.title[:31], case.pk) for case in workshop.cases.order_by("position", "pk")
        ]
        for title, case_id in sources:
            rows = [tuple(row[key] for key in COLUMN_KEYS) for row in contribution_rows(workshop, case_id=case_id)]
            sheets.append((title, header, rows))
    with open(path, "wb") as handle:
        pickle.dump(sheets, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {"rows": sum(len(rows) for _title, _header, rows in sheets), "columns": len(COLUMN_KEYS)}


def child_baseline(path: str, write_only: bool) -> dict:
    """openpyxl alone writing the dumped rows (loaded before the clock and the RSS start)."""
    import gc

    from openpyxl import Workbook

    with open(path, "rb") as handle:
        sheets = pickle.load(handle)
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="kehittamo-bench-") as directory, PeakMemory() as memory:
        started = time.perf_counter()
        workbook = Workbook(write_only=write_only)
        if not write_only:
            workbook.remove(workbook.active)
        for title, header, rows in sheets:
            sheet = workbook.create_sheet(title)
            sheet.append(header)
            for row in rows:
                sheet.append(row)
        target = Path(directory) / "baseline.xlsx"
        workbook.save(str(target))
        seconds = time.perf_counter() - started
        size = target.stat().st_size
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(memory.above_start / MB, 1),
        "start_mb": round(memory.start / MB, 1),
        "rows": sum(len(rows) for _title, _header, rows in sheets),
        "file_mb": round(size / MB, 1),
    }


def _child_main(args) -> int:
    if args.child in {"seed", "export", "dump"}:
        with django_on(os.environ["DATABASE_URL"], os.environ["REDIS_URL"], migrate=args.child == "seed"):
            if args.child == "seed":
                result = child_seed(args.comments, args.seed)
            elif args.child == "export":
                result = child_export(args.workshop, args.language)
            else:
                result = child_dump(args.workshop, args.language, args.rows_file)
    else:
        result = child_baseline(args.rows_file, write_only=args.child == "write-only")
    _child_result(args.result, result)
    return 0


# --- the scenario ------------------------------------------------------------------------------------------
def _run_child(env: dict, stage: str, folder: Path, **options) -> dict:
    result = folder / f"{stage}.json"
    command = [sys.executable, "-m", "bench.export", "--child", stage, "--result", str(result)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=CHILD_TIMEOUT)
    return json.loads(result.read_text())


def verdicts(e1: dict, write_only: dict, normal: dict) -> list[dict]:
    time_ratio = e1["seconds"] / write_only["seconds"] if write_only["seconds"] else None
    share = e1["peak_mb"] / normal["peak_mb"] if normal["peak_mb"] > 0 else None
    return [
        {
            "target": f"E1 time <= {TIME_RATIO}x openpyxl write-only",
            "value": round(time_ratio, 2) if time_ratio is not None else None,
            "limit": TIME_RATIO,
            "ok": time_ratio is not None and time_ratio <= TIME_RATIO,
        },
        {
            "target": f"E1 peak <= {PEAK_ABOVE_START_MB} MB above start",
            "value": e1["peak_mb"],
            "limit": PEAK_ABOVE_START_MB,
            "ok": e1["peak_mb"] <= PEAK_ABOVE_START_MB,
        },
        {
            "target": f"E1 peak <= {PEAK_SHARE_OF_NORMAL}x openpyxl normal mode's",
            "value": round(share, 3) if share is not None else None,
            "limit": PEAK_SHARE_OF_NORMAL,
            "ok": share is not None and share <= PEAK_SHARE_OF_NORMAL,
        },
    ]


def scenario(comments: int, *, seed: int = 1, language: str = "fi", enforce: bool = True, log=print) -> dict:
    """Seed, export, dump, and the two baselines, each in its own subprocess; the figures and verdicts.

    ``enforce`` False (a smoke run of a few thousand comments): the verdicts are shown but missing
    them is no problem, as the export's fixed costs (counts, the other sheets) dominate small sizes.
    """
    load = os.getloadavg()[0]
    with Stack(DATABASE, REDIS_DB) as stack, tempfile.TemporaryDirectory(prefix="bench-export-") as directory:
        folder = Path(directory)
        media = folder / "media"
        media.mkdir()
        env = server_env(stack.database_url, stack.redis_url, MEDIA_ROOT=str(media), PYTHONUNBUFFERED="1")
        log(f"E1: seeding {comments:,} comments into {DATABASE}…")
        started = time.perf_counter()
        seeded = _run_child(env, "seed", folder, comments=comments, seed=seed)
        log(f"E1: seeded in {time.perf_counter() - started:.0f} s: {seeded}")
        log("E1: the export task…")
        e1 = _run_child(env, "export", folder, workshop=seeded["workshop"], language=language)
        log(f"E1: {e1}")
        rows_file = folder / "rows.pickle"
        dumped = _run_child(env, "dump", folder, workshop=seeded["workshop"], language=language, rows_file=rows_file)
        log(f"E1: rows dumped: {dumped}")
        write_only = _run_child(env, "write-only", folder, rows_file=rows_file)
        log(f"E1: openpyxl write-only: {write_only}")
        normal = _run_child(env, "normal", folder, rows_file=rows_file)
        log(f"E1: openpyxl normal mode: {normal}")
    checks = verdicts(e1, write_only, normal)
    row = {
        "clients": "",
        "extra": {
            "comments": seeded["comments"],
            "rows": e1["rows"],
            "seconds": e1["seconds"],
            "peak_MB": e1["peak_mb"],
            "write_only_s": write_only["seconds"],
            "write_only_MB": write_only["peak_mb"],
            "normal_s": normal["seconds"],
            "normal_MB": normal["peak_mb"],
        },
        "problems": [f"{check['target']}: {check['value']}" for check in checks if enforce and not check["ok"]],
    }
    return {
        "scenario": "E1",
        "rows": [row],
        "comments": seeded["comments"],
        "rows_written": e1["rows"],
        "baseline_rows": dumped["rows"],
        "columns": dumped["columns"],
        "load_average_before": round(load, 2),
        "e1": e1,
        "openpyxl_write_only": write_only,
        "openpyxl_normal": normal,
        "verdicts": checks,
        "enforced": enforce,
        "ok": all(check["ok"] for check in checks) or not enforce,
    }


def run(ctx) -> dict:
    """E1 for ``python -m bench``: ``ctx.quick`` = 5,000 comments instead of 100,000."""
    quick = bool(getattr(ctx, "quick", False))
    return scenario(QUICK_COMMENTS if quick else COMMENTS, enforce=not quick)


def report(result: dict) -> str:
    lines = [
        f"E1 export: {result['comments']:,} comments -> {result['rows_written']:,} rows x {result['columns']} columns"
        f" (all contributions + a sheet per case)",
        f"{'':<22}{'seconds':>10}{'peak MB above start':>22}{'file MB':>10}",
    ]
    for label, key in (
        ("E1 (export task)", "e1"),
        ("openpyxl write-only", "openpyxl_write_only"),
        ("openpyxl normal", "openpyxl_normal"),
    ):
        figures = result[key]
        lines.append(f"{label:<22}{figures['seconds']:>10.1f}{figures['peak_mb']:>22.1f}{figures['file_mb']:>10.1f}")
    if not result["enforced"]:
        lines.append(f"(fewer than {COMMENTS:,} comments: the targets are shown, not enforced)")
    for check in result["verdicts"]:
        mark = "ok  " if check["ok"] else "MISS"
        lines.append(f"{mark} {check['target']}: {check['value']} (limit {check['limit']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--comments", type=int, default=None, help=f"default {COMMENTS:,}; --quick {QUICK_COMMENTS:,}")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--language", default="fi")
    # Internal: one measurement in this process.
    parser.add_argument("--child", choices=["seed", "export", "dump", "write-only", "normal"], help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--workshop", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rows-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child_main(args)
    comments = args.comments or (QUICK_COMMENTS if args.quick else COMMENTS)
    result = scenario(comments, seed=args.seed, language=args.language, enforce=comments >= COMMENTS)
    result["machine"] = machine()
    print(report(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"export-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
