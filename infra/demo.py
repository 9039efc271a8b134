"""`ledighed demo`: a generated year of an a-kasse's messages, ingested, and what came of it."""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from tqdm import tqdm

from domain.view import case_view
from infra.demo_data import generate_lines, write_jsonl
from infra.ingest import file_records, ingest
from infra.reads import all_cases, handovers, worklist
from infra.settings import DEFAULT_DB_URL, Settings
from infra.store import Store

DEMO_YEAR = 2021


def run_demo(settings: Settings, *, members: int, seed: int, directory: Path) -> int:
    """Generate, ingest and summarise; the store is made anew unless --db names one."""
    directory.mkdir(parents=True, exist_ok=True)
    messages_file = directory / "messages.jsonl"
    db_url = settings.db_url
    if db_url == DEFAULT_DB_URL:
        db_file = directory / "ledighed.db"
        for stale in directory.glob("ledighed.db*"):
            stale.unlink()
        db_url = f"sqlite:///{db_file}"
    lines = generate_lines(seed=seed, members=members, year=DEMO_YEAR)
    write_jsonl(lines, messages_file)
    print(f"generated {len(lines)} messages for {members} members in {DEMO_YEAR}: {messages_file}")

    store = Store(db_url)
    rules = settings.rule_settings()
    try:
        started = time.perf_counter()
        with (
            open(messages_file, encoding="utf-8") as stream,
            tqdm(total=len(lines), unit=" msgs", desc="ingest", file=sys.stderr) as progress,
        ):
            report = ingest(store, rules, file_records(stream, messages_file.name), 2000, progress)
        seconds = time.perf_counter() - started
        _summary(store, report, seconds, rules, db_url)
    finally:
        store.close()
    return 0


def _summary(store: Store, report: object, seconds: float, rules: object, db_url: str) -> None:
    from infra.ingest import Report

    assert isinstance(report, Report)
    day = date(DEMO_YEAR, 12, 31)
    cases = all_cases(store)
    views = [case_view(case.facts, day, rules) for case in cases]  # type: ignore[arg-type]
    statuses = Counter(v.status for v in views)
    exits = Counter(v.exit.reason for v in views if v.exit is not None)
    tasks = worklist(store, day, rules)  # type: ignore[arg-type]
    overdue = Counter(_task_kind(t["task"]) for t in tasks if t["overdue"])
    feed = handovers(store)
    feed_types = Counter(h["type"] for h in feed)

    def counts(counter: Counter[str]) -> str:
        return ", ".join(f"{k} {n}" for k, n in counter.most_common()) or "none"

    print()
    total = report.accepted + report.duplicates + len(report.rejected)
    print(
        f"ingested in {seconds:.1f} s ({total / seconds:,.0f} messages/s, "
        f"{report.events / seconds:,.0f} events/s)"
    )
    print(
        f"messages:  {report.accepted} accepted, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected (kept in the dead letters)"
    )
    print(f"cases on {day}:  {counts(statuses)}")
    print(f"exits:     {counts(exits)}")
    print(f"worklist on {day}:  {len(tasks)} open tasks, {sum(overdue.values())} overdue")
    print(f"           ({counts(overdue)})")
    print(f"handovers: {len(feed)} published ({counts(feed_types)})")
    some = next(
        (h["cpr"] for h in feed if h["type"] == "handover_revised"),
        feed[0]["cpr"] if feed else None,
    )
    print()
    print("where to look next:")
    db = f"--db {db_url}"
    print(f"  ledighed worklist {db} --as-of {day} --adviser anna")
    print(f"  ledighed handovers {db} --json")
    if some:
        print(f"  ledighed case {some} {db} --as-of {day}")
        print(f"  ledighed history {some} {db}")
    if report.rejected:
        first = report.rejected[0]
        print(f"  rejected lines, e.g. line {first['line']}: {first['error']}")


def _task_kind(task: str) -> str:
    """`meeting:joint` stays as it is; `holiday:<request_id>` counts as `holiday`."""
    return task if task.startswith("meeting:") else task.split(":")[0]
