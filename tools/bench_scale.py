"""Reads at a national scale (issue 9, point 5): a seeded year of many members, generated in
cohorts straight to files and ingested as `ledighed ingest` does, then one case read (the
function `ledighed case` calls, and `GET /cases/{cpr}` in-process), one adviser's worklist,
the tick over every open case and a projection rebuild, timed at a baseline size and at the
full size in the same store, printed as one table beside the goals.

The members are those of the demo's generator (`infra/demo/demo_data._Year`, good messages
only), drawn member by member; every `--chunk` members' messages are sorted by day of
arrival and written to a file of their own, so no more than one cohort is ever held in
memory. Advisers have a fixed caseload (`--members-per-adviser`): each group of members
gets its own five advisers, so one adviser's cases are as many at any scale, as in a fund.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

from infra import bootstrap as compose
from infra import projections
from infra.application import Ledighed
from infra.demo.demo_data import _Year
from infra.ingest import Report, file_records
from infra.progress import bar as progress_bar
from infra.reads import case_dicts, worklist
from infra.settings import Settings as AppSettings
from infra.store.store import Store
from infra.tick import tick
from tools.bench import DEFAULT_PG_URL, postgres_target, sqlite_target, stored_events

BATCH_SIZE = 2000
CASE_P99_RATIO = 1.5  # goal: p99 at the full size within 1.5x of the baseline's
CASE_P99_MS = 10.0  # goal: one case read in-process under 10 ms at p99
WORKLIST_P99_MS = 50.0  # goal: one adviser's worklist under 50 ms at p99
TOKEN = "bench-scale-auditor"


# --- the members, streamed --------------------------------------------------------------


@dataclass
class Cohort:
    path: Path
    members: int
    messages: int


def write_cohorts(
    directory: Path, members: int, chunk: int, per_adviser: int, seed: int, year: int
) -> Iterator[Cohort]:
    """The year's members in cohorts of `chunk`, each cohort's messages in arrival order
    in a JSON-lines file of its own, message ids numbered across every cohort."""
    gen = _Year(seed, year)
    number, no = 0, 0
    while no < members:
        size = min(chunk, members - no)
        for _ in range(size):
            no += 1
            before = len(gen.items)
            gen.member(no)
            if per_adviser:  # the member's advisers: the five of its group
                group = (no - 1) // (5 * per_adviser)
                for _, _, msg in gen.items[before:]:
                    if "adviser" in msg:
                        msg["adviser"] = f"{msg['adviser']}-{group:03d}"
        gen.items.sort(key=lambda item: (item[0], item[1]))  # by day of arrival, stable
        path = directory / f"cohort-{no:07d}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for _, _, msg in gen.items:
                number += 1
                msg["message_id"] = f"scale-{number:08d}"
                out.write(json.dumps(msg, ensure_ascii=False) + "\n")
        yield Cohort(path, size, len(gen.items))
        gen.items.clear()


# --- the measurements ---------------------------------------------------------------------


def percentile(timings: Sequence[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Point:
    """The reads timed at one size of the store (milliseconds)."""

    members: int
    events: int
    case_ms: list[float] = field(default_factory=list)
    api_ms: list[float] = field(default_factory=list)
    worklist_ms: list[float] = field(default_factory=list)
    worklist_rows: list[int] = field(default_factory=list)
    whole_worklist_ms: list[float] = field(default_factory=list)


def _timed(call: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - start) * 1000


def measure_reads(
    url: str,
    point: Point,
    cprs: Sequence[str],
    advisers: Sequence[str],
    day: date,
    reads: int,
    seed: int,
) -> None:
    """Case reads for `reads` members drawn from `cprs` (function and API), each of
    `advisers`' worklist a few times, and the whole worklist a few times: on a store of its
    own, as `ledighed case` or `ledighed serve` opens one, not the filling one (which keeps
    the aggregates it ingested in memory, and so the garbage collector's passes longer)."""
    gc.collect()
    store = compose.store(url)
    try:
        _measure_reads(store, point, cprs, advisers, day, reads, seed)
    finally:
        store.close()


def _measure_reads(
    store: Store,
    point: Point,
    cprs: Sequence[str],
    advisers: Sequence[str],
    day: date,
    reads: int,
    seed: int,
) -> None:
    from fastapi.testclient import TestClient

    from infra.http.api import create_app

    settings = AppSettings(
        db_url="unused",
        api_tokens=f"{TOKEN}=auditor:bench",
        api_rate_per_s=1e9,
        api_rate_burst=10**9,
    )
    rules = settings.rule_settings()
    rng = random.Random(seed)
    sample = [rng.choice(cprs) for _ in range(reads)]
    client = TestClient(create_app(settings, store))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    params = {"as_of": day.isoformat()}
    for cpr in sample[:5]:  # warm up (connections, caches of code)
        case_dicts(store, cpr, day, rules)
        client.get(f"/cases/{cpr}", params=params, headers=headers)
    for cpr in _each(sample, f"case reads at {point.members:,}"):
        cases, ms = _timed(lambda cpr=cpr: case_dicts(store, cpr, day, rules))
        point.case_ms.append(ms)
        response, ms = _timed(
            lambda cpr=cpr: client.get(f"/cases/{cpr}", params=params, headers=headers)
        )
        point.api_ms.append(ms)
        assert response.status_code in (200, 404), response.text
        assert (response.status_code == 200) == bool(cases), cpr
    rounds = max(1, reads // max(1, len(advisers)))
    for _ in _each(range(rounds), "adviser worklists"):
        for adviser in advisers:
            rows, ms = _timed(lambda a=adviser: worklist(store, day, rules, a))
            point.worklist_ms.append(ms)
            point.worklist_rows.append(len(rows))
    for _ in range(3):
        _, ms = _timed(lambda: worklist(store, day, rules))
        point.whole_worklist_ms.append(ms)


@dataclass
class Fill:
    messages: int = 0
    events: int = 0
    seconds: float = 0.0
    generate_seconds: float = 0.0


def fill(store: Store, cohorts: Iterator[Cohort], until: int, done: int, into: Fill) -> int:
    """Generate and ingest cohorts until `until` members are in; the members now in."""
    rules = AppSettings(db_url="unused").rule_settings()
    while done < until:
        start = time.perf_counter()
        cohort = next(cohorts)
        into.generate_seconds += time.perf_counter() - start
        desc = f"ingest members {done + 1:,}-{done + cohort.members:,}"
        with (
            cohort.path.open("rb") as lines,
            progress_bar(total=cohort.messages, desc=desc, unit=" msgs") as bar,
        ):
            start = time.perf_counter()
            records = file_records(lines, "scale")
            report: Report = Ledighed(store, rules=rules).ingest(records, BATCH_SIZE, bar)
            into.seconds += time.perf_counter() - start
        into.messages += cohort.messages
        into.events += report.events
        cohort.path.unlink()
        done += cohort.members
    return done


@dataclass
class Tick:
    seconds: float
    statements: int
    exits: int


def _each(items: Sequence[Any], desc: str) -> Iterator[Any]:
    """The items, with a progress bar (infra/progress.py: a line every few seconds in a log)."""
    with progress_bar(total=len(items), desc=desc, unit="") as bar:
        for item in items:
            yield item
            bar.update(1)


def measure_tick(store: Store, day: date) -> Tick:
    """The tick on the programme's end over every open case, counting the SQL statements."""
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        rules = AppSettings(db_url="unused").rule_settings()
        start = time.perf_counter()
        report = tick(store, day, rules)
        seconds = time.perf_counter() - start
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return Tick(seconds, statements, report.exits)


def measure_rebuild(store: Store) -> tuple[float, int]:
    """Both read models rebuilt from the log, with their progress bars; seconds, events."""
    start = time.perf_counter()
    projections.rebuild(store, quiet=False)
    return time.perf_counter() - start, store.log_head()


# --- the table ----------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _p99(full: Sequence[float], base: Sequence[float]) -> str:
    """p99 (p50) at the full size, its ratio to the baseline's p99, the baseline's."""
    p99, p99_base = percentile(full, 0.99), percentile(base, 0.99)
    return (
        f"{_ms(p99)} (p50 {_ms(percentile(full, 0.5))}); {p99 / p99_base:.2f}x "
        f"baseline {_ms(p99_base)} (p50 {_ms(percentile(base, 0.5))})"
    )


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(
    store_name: str,
    base: Point,
    full: Point,
    filled: Fill,
    ticked: Tick,
    rebuilt: tuple[float, int],
) -> str:
    case_base, case_full = percentile(base.case_ms, 0.99), percentile(full.case_ms, 0.99)
    api_base, api_full = percentile(base.api_ms, 0.99), percentile(full.api_ms, 0.99)
    work_full = percentile(full.worklist_ms, 0.99)
    rows = [
        (
            "case read (`ledighed case`'s read) p99",
            _p99(full.case_ms, base.case_ms),
            f"<= {CASE_P99_RATIO}x, < {CASE_P99_MS:.0f} ms",
            _met(case_full <= CASE_P99_RATIO * case_base and case_full < CASE_P99_MS),
        ),
        (
            "GET /cases/{cpr} in-process p99",
            _p99(full.api_ms, base.api_ms),
            f"<= {CASE_P99_RATIO}x, < {CASE_P99_MS:.0f} ms",
            _met(api_full <= CASE_P99_RATIO * api_base and api_full < CASE_P99_MS),
        ),
        (
            "one adviser's worklist p99",
            _p99(full.worklist_ms, base.worklist_ms),
            f"< {WORKLIST_P99_MS:.0f} ms",
            _met(work_full < WORKLIST_P99_MS),
        ),
        (
            "tick over every open case",
            f"{ticked.seconds:,.1f} s, {ticked.statements:,} SQL statements, "
            f"{ticked.exits:,} exits",
            "one pass, not a query a case",
            _met(ticked.statements < max(10, ticked.exits)),
        ),
        (
            "projection rebuild (progress bar)",
            f"{rebuilt[0]:,.1f} s, {rebuilt[1] / rebuilt[0]:,.0f} events/s",
            "runs, with its bar",
            "yes",
        ),
        (
            "whole worklist p50 (context)",
            f"{_ms(percentile(full.whole_worklist_ms, 0.5))} "
            f"({_ms(percentile(base.whole_worklist_ms, 0.5))} at baseline)",
            "-",
            "-",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    heads = ("figure", "measured", "goal", "met")
    widths = [max(w, len(h)) for w, h in zip(widths, heads, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rate = filled.messages / filled.seconds if filled.seconds else 0.0
    rows_per = sum(full.worklist_rows) / max(1, len(full.worklist_rows))
    lines = [
        f"== bench-scale: reads at a national scale ({store_name}, {os.cpu_count()} cores) ==",
        f"members: {full.members:,} (baseline {base.members:,}); events stored: "
        f"{full.events:,} (baseline {base.events:,})",
        f"fill: {filled.messages:,} messages generated in {filled.generate_seconds:,.1f} s, "
        f"ingested in {filled.seconds:,.1f} s ({rate:,.0f} messages/s, "
        f"{filled.events:,} events), batches of {BATCH_SIZE}",
        f"samples: {len(full.case_ms)} case reads a size, {len(full.worklist_ms)} adviser "
        f"worklists ({rows_per:,.1f} rows each on average)",
        "",
        line(heads),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows),
    ]
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------


def _cprs(store: Store) -> list[str]:
    return sorted(cpr for cpr in store.cprs().values() if cpr is not None)


def _advisers(store: Store, count: int, seed: int) -> list[str]:
    """Up to `count` advisers of the baseline's members (so the same ones at both sizes)."""
    from sqlalchemy import select

    from projections.tables import worklist_advisers

    with store.engine.connect() as conn:
        names = sorted(set(conn.execute(select(worklist_advisers.c.adviser)).scalars()))
    return random.Random(seed).sample(names, min(count, len(names)))


def run(args: argparse.Namespace) -> str:
    target = sqlite_target(Path(args.sqlite)) if args.sqlite else postgres_target(args.pg_url)
    day = date(args.year, args.as_of_month, 1)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, target("scale") as url:
        store = compose.store(url)
        try:
            cohorts = write_cohorts(
                Path(tmp), args.members, args.chunk, args.members_per_adviser, args.seed, args.year
            )
            filled = Fill()
            done = fill(store, cohorts, args.baseline_members, 0, filled)
            base = Point(done, stored_events(store))
            cprs = _cprs(store)
            advisers = _advisers(store, args.advisers, args.seed)
            store.forget()  # the aggregates it ingested out of memory
            measure_reads(url, base, cprs, advisers, day, args.reads, args.seed)
            done = fill(store, cohorts, args.members, done, filled)
            full = Point(done, stored_events(store))
            # the baseline's members again, and as many of the rest
            everyone = _cprs(store)
            store.forget()  # the aggregates it ingested out of memory
            measure_reads(url, full, everyone, advisers, day, args.reads, args.seed + 1)
            rebuilt = measure_rebuild(store)
            ticked = measure_tick(store, date(2023, 12, 31))
        finally:
            store.close()
    name = "SQLite" if args.sqlite else "PostgreSQL"
    return table(name, base, full, filled, ticked, rebuilt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--baseline-members", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="members a cohort file")
    parser.add_argument("--members-per-adviser", type=int, default=250, help="0: five in all")
    parser.add_argument("--reads", type=int, default=500, help="case reads at each size")
    parser.add_argument("--advisers", type=int, default=20, help="advisers whose worklist")
    parser.add_argument("--as-of-month", type=int, default=10, help="reads as of its 1st")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--pg-url", default=os.environ.get("LEDIGHED_BENCH_PG", DEFAULT_PG_URL))
    parser.add_argument("--sqlite", metavar="DIR", help="a SQLite file in DIR, not PostgreSQL")
    args = parser.parse_args(argv)
    if args.baseline_members > args.members:
        parser.error("--baseline-members must not exceed --members")
    if args.baseline_members % args.chunk:  # the baseline is whole cohorts
        args.chunk = args.baseline_members
    print(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
