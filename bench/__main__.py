"""``python -m bench [names…] [--quick] [--server daphne|uvicorn|both] [--clients N] [--seconds S]``

Runs the named scenarios (default: all) against the real stack on loopback, prints ONE table and
writes ONE JSON file, ``bench/results/bench-<timestamp>.json``: the machine, each scenario's figures
and the verdicts of the issue's targets, the ratios computed from this same run. Exit status 1 when
a target is missed (with ``--quick`` or ``--clients`` only delivery and 5xx count: the ratio targets
are set for 300 and 1,000 clients).

Scenarios are modules exposing ``run(ctx) -> dict`` (``bench.stack.Context``); those not written yet
print "not built yet". Helper modules (H1, E1, S7) run in a process of their own, so each may point
Django at its own database.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import multiprocessing
import sys
import time
import traceback
from datetime import UTC, datetime
from queue import Empty

from bench.stack import RESULTS, SERVERS, Context, Stack, django_on, fmt_ms, machine, run_in_child

BENCH_DATABASE = "kehittamo_bench"
BENCH_REDIS_DB = 14

# name: (module, function, runs once per ASGI server, runs in this process with the shared stack)
SCENARIOS = {
    "B1": ("bench.baselines", "run_b1", True, True),
    "B2": ("bench.baselines", "run_b2", False, True),
    "B3": ("bench.baselines", "run_b3", True, True),
    "S1": ("bench.live", "run_s1", True, True),
    "S2": ("bench.live", "run_s2", True, True),
    "S3": ("bench.live", "run_s3", True, True),
    "S4": ("bench.live", "run_s4", True, True),
    "S5": ("bench.live", "run_s5", True, True),
    "S6": ("bench.live", "run_s6", True, True),
    "X1": ("bench.live", "run_x1", True, True),
    "S7": ("bench.voting", "run", True, False),
    "H1": ("bench.pages", "run", True, False),
    "E1": ("bench.export", "run", False, False),
}
RATIO_TARGETS = [
    # (name, scenario, figure, reference scenario, reference figure, factor, at clients)
    ("S2 p95 ≤ 0.35 × B1 p95", "S2", "p95_ms", "B1", "p95_ms", 0.35, 1000),
    ("S2 p95 ≤ 1.5 × B3 p95", "S2", "p95_ms", "B3", "p95_ms", 1.5, 1000),
    ("S1 p95 ≤ 1.5 × B3 p95", "S1", "p95_ms", "B3", "p95_ms", 1.5, 300),
    ("S5 last ≤ 1.5 × S2 p95", "S5", "last_ms", "S2", "p95_ms", 1.5, None),
    ("S5 round: last ≤ 1.5 × S2 p95", "S5 rounds", "last_ms", "S2", "p95_ms", 1.5, None),
]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"scenarios (default all): {' '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds each")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="daphne")
    parser.add_argument("--clients", type=int, help="every scenario with this many clients instead of its own")
    parser.add_argument("--seconds", type=float, help="every timed scenario this long instead of its own")
    parser.add_argument("--processes", type=int, help="load generator processes (default 2–4 by size)")
    parser.add_argument(
        "--web", type=int, default=1, help="ASGI server processes for S1–S6, clients and posts split between them"
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="comments posted over HTTP, as a page without a socket does (default: over the writer's own socket)",
    )
    parser.add_argument("--output", help="the JSON file (default bench/results/bench-<timestamp>.json)")
    parser.add_argument("--database", default=BENCH_DATABASE, help="the bench's own PostgreSQL database (dropped)")
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB, help="the bench's own Redis db (emptied)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name.upper() not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {' '.join(SCENARIOS)}")
    args.names = [name.upper() for name in args.names] or list(SCENARIOS)
    return args


def _load(module: str, function: str):
    """The scenario's function, or None when its module is not written yet."""
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as error:
        if error.name == module:
            return None
        raise


def run_external(module: str, function: str, ctx: Context) -> dict:
    """A helper's scenario in a process of its own (its own Django settings and database).

    The child's entry point lives in ``bench.stack``: a spawned process cannot import functions
    from ``__main__``. A child that dies without answering is noticed within a second.
    """
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    process = spawn.Process(target=run_in_child, args=(module, function, ctx, queue))
    process.start()
    kind, payload = "error", "no answer within an hour"
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        try:
            kind, payload = queue.get(timeout=1)
            break
        except Empty:
            if not process.is_alive():
                kind, payload = (
                    "error",
                    f"its process ended (exit code {process.exitcode}) without an answer",
                )
                break
    process.join(timeout=30)
    if process.is_alive():
        process.kill()
    if kind == "error":
        raise RuntimeError(payload)
    return payload


def rows_of(name: str, server: str, result: dict) -> list[dict]:
    """A scenario's table rows: its own ``rows``, or its whole result as one row."""
    rows = result.get("rows") if isinstance(result, dict) else None
    if rows:
        return [{"scenario": name, "server": server, **row} for row in rows]
    return [{"scenario": name, "server": server, **(result if isinstance(result, dict) else {"value": result})}]


def problems_of(row: dict) -> list[str]:
    """The absolute targets: every message to every recipient, no 5xx; plus whatever the row reports."""
    problems = list(row.get("problems") or [])
    if row.get("expected") is not None and row.get("delivered") != row.get("expected"):
        problems.append(f"delivered {row.get('delivered')}/{row.get('expected')}")
    for key in ("http_5xx", "server_errors_5xx"):
        if row.get(key):
            problems.append(f"{row[key]} 5xx")
    if row.get("generator_errors"):
        problems.append("generator error")
    return problems


def ratio_targets(rows: list[dict], enforce: bool) -> list[dict]:
    targets = []
    for label, name, figure, reference, reference_figure, factor, clients in RATIO_TARGETS:
        for row in rows:
            if row["scenario"] != name or row.get(figure) is None:
                continue
            if clients is not None and enforce and row.get("clients") != clients:
                continue
            base = next(
                (
                    other
                    for other in rows
                    if other["scenario"] == reference
                    and other["server"] == row["server"]
                    and other.get("clients") == row.get("clients")
                    and other.get(reference_figure) is not None
                ),
                None,
            )
            if base is None:
                continue
            limit = factor * base[reference_figure]
            targets.append(
                {
                    "target": label,
                    "server": row["server"],
                    "clients": row.get("clients"),
                    "value_ms": row[figure],
                    "limit_ms": round(limit, 1),
                    "ratio": round(row[figure] / base[reference_figure], 3) if base[reference_figure] else None,
                    "ok": row[figure] <= limit,
                    "enforced": enforce,
                }
            )
    return targets


EXTRA_SKIP = {
    "scenario",
    "server",
    "clients",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "delivered",
    "expected",
    "http_5xx",
    "problems",
    "statuses",
    "generator_errors",
    "missing_markers",
    "verdict",
}


def _extra(row: dict) -> str:
    parts = []
    for key, value in row.get("extra", {}).items() if isinstance(row.get("extra"), dict) else []:
        parts.append(f"{key}={value}")
    for key in row.get("show", []):
        if row.get(key) is not None:
            parts.append(f"{key}={row[key]}")
    return " ".join(parts)


def table(rows: list[dict]) -> str:
    header = ["scenario", "server", "clients", "p50", "p95", "p99", "max", "delivered", "5xx", "extra", "verdict"]
    lines = [header]
    for row in rows:
        delivered = "" if row.get("expected") is None else f"{row.get('delivered')}/{row.get('expected')}"

        def cell(key: str, row: dict = row) -> str:
            value = row.get(key)
            return "" if value is None else fmt_ms(value / 1000)

        lines.append(
            [
                row["scenario"],
                str(row.get("server", "")),
                str(row.get("clients", "")),
                cell("p50_ms"),
                cell("p95_ms"),
                cell("p99_ms"),
                cell("max_ms"),
                delivered,
                str(row.get("http_5xx", row.get("server_errors_5xx", ""))),
                _extra(row),
                row.get("verdict", ""),
            ]
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)) for line in lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    servers = list(SERVERS) if args.server == "both" else [args.server]
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    output = args.output or str(RESULTS / f"bench-{started.strftime('%Y%m%d-%H%M%S')}.json")
    before = machine()
    print(f"bench: {' '.join(args.names)} on {', '.join(servers)}; load average {before['load_average']}", flush=True)
    rows: list[dict] = []
    results: dict = {}
    own = [name for name in args.names if SCENARIOS[name][3]]
    others = [name for name in args.names if not SCENARIOS[name][3]]
    if own:
        with Stack(args.database, args.redis_db) as stack, django_on(stack.database_url, stack.redis_url):
            for server in servers:
                ctx = Context(args=args, quick=args.quick, server=server, results=RESULTS, stack=stack)
                try:
                    for name in own:
                        if not SCENARIOS[name][2] and server != servers[0]:
                            continue
                        rows += _run(name, server, ctx, results, in_process=True)
                finally:
                    live = sys.modules.get("bench.live")
                    if live is not None:
                        live.close_servers()
    for server in servers:
        ctx = Context(args=args, quick=args.quick, server=server, results=RESULTS)
        for name in others:
            if not SCENARIOS[name][2] and server != servers[0]:
                continue
            rows += _run(name, server, ctx, results, in_process=False)
    enforce = not args.quick and not args.clients and not args.seconds
    targets = ratio_targets(rows, enforce)
    for row in rows:
        row["problems"] = problems_of(row)
        row["verdict"] = "ok" if not row["problems"] else "MISSED: " + "; ".join(row["problems"])
    failed = [row for row in rows if row["problems"]] + [t for t in targets if t["enforced"] and not t["ok"]]
    print()
    print(table(rows))
    if targets:
        print()
        for target in targets:
            state = "ok" if target["ok"] else "MISSED"
            if not target["enforced"]:
                state += " (not enforced at these sizes)"
            print(
                f"{target['target']} [{target['server']}, {target['clients']}]: "
                f"{target['value_ms']} ms vs limit {target['limit_ms']} ms (ratio {target['ratio']}): {state}"
            )
    report = {
        "started": started.isoformat(),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": before,
        "load_average_after": machine()["load_average"],
        "args": vars(args),
        "rows": rows,
        "targets": targets,
        "results": results,
        "ok": not failed,
    }
    with open(output, "w") as file:
        json.dump(report, file, indent=2, default=str)
    print(f"\n{'all targets met' if not failed else f'{len(failed)} target(s) missed'}; figures in {output}")
    return 0 if not failed else 1


def _run(name: str, server: str, ctx: Context, results: dict, *, in_process: bool) -> list[dict]:
    module, function, per_server, _own = SCENARIOS[name]
    shown = server if per_server else "-"
    print(f"\n== {name} ({shown}) ==", flush=True)
    started = time.monotonic()
    try:
        if in_process:
            scenario = _load(module, function)
            if scenario is None:
                print(f"{name}: not built yet", flush=True)
                return []
            result = scenario(ctx)
        else:
            if importlib.util.find_spec(module) is None:
                print(f"{name}: not built yet", flush=True)
                return []
            result = run_external(module, function, ctx)
    except Exception as error:
        traceback.print_exc()
        result = {"problems": [f"crashed: {error!r}"[:300]]}
    results.setdefault(name, {})[shown] = result
    rows = rows_of(name, shown, result)
    print(f"{name} done in {time.monotonic() - started:.0f} s", flush=True)
    for row in rows:
        print(
            f"  {row.get('clients', '')} clients: p95 {row.get('p95_ms')} ms, "
            f"delivered {row.get('delivered')}/{row.get('expected')}, 5xx {row.get('http_5xx')}",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
