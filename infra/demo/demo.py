"""`ledighed demo`: a generated year of messages played through the service, and the outcome."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

from tqdm import tqdm

from domain.untrusted import DEFAULT_LIMITS
from infra import bootstrap as compose
from infra.application import Ledighed, Report
from infra.demo.demo_data import generate_lines, write_jsonl
from infra.demo.playback import play
from infra.runtime.service import Service
from infra.settings import Settings

DEMO_YEAR = 2021
DEMO_CHUNK = 100  # messages played before waiting for them to be applied: about a day's


def run_demo(
    settings: Settings,
    *,
    members: int,
    seed: int,
    directory: Path,
    kafka: bool = True,
    db_url: str | None = None,
) -> int:
    """Generate a year, run it through the service (or `ingest` with kafka=False) and
    summarise; the store is made anew unless --db names one."""
    directory.mkdir(parents=True, exist_ok=True)
    messages_file = directory / "messages.jsonl"
    if db_url is None:  # the demo's own store, made anew (LEDIGHED_DB_URL is not used)
        db_file = directory.resolve() / "ledighed.db"
        for stale in directory.glob("ledighed.db*"):
            stale.unlink()
        db_url = f"sqlite:///{db_file}"
    settings = settings.model_copy(update={"db_url": db_url})
    lines = generate_lines(seed=seed, members=members, year=DEMO_YEAR)
    write_jsonl(lines, messages_file)
    print(f"generated {len(lines)} messages for {members} members in {DEMO_YEAR}: {messages_file}")
    started = time.perf_counter()
    if kafka:
        report = _through_the_service(settings, lines)
    else:
        report = _ingest_file(settings, messages_file, len(lines))
    seconds = time.perf_counter() - started
    ledighed = compose.application(settings)
    try:
        _summary(ledighed, report, seconds, db_url)
    finally:
        ledighed.close()
    return 0


def _ingest_file(settings: Settings, messages_file: Path, total: int) -> Report:
    ledighed = compose.application(settings)
    try:
        with (
            open(messages_file, encoding="utf-8") as stream,
            tqdm(total=total, unit=" msgs", desc="ingest", file=sys.stderr) as progress,
        ):
            records = ledighed.file_records(stream, messages_file.name)
            report = ledighed.ingest(records, 2000, progress, limits=DEFAULT_LIMITS)
        ledighed.catch_up()
        return report
    finally:
        ledighed.close()


def _through_the_service(settings: Settings, lines: list[str]) -> Report:
    """The service on a local broker: a producer plays the year onto the upstream topics
    while bars show it being applied and the read models and the feed filling."""
    broker = None if settings.kafka_bootstrap else compose.local_broker().start()
    bootstrap = settings.kafka_bootstrap or (broker.bootstrap if broker else "")
    settings = settings.model_copy(
        update={
            "kafka_bootstrap": bootstrap,
            "kafka_max_poll_interval_ms": 10_000,
            "kafka_session_timeout_ms": 10_000,
        }
    )
    print(
        f"local broker on {bootstrap}; the service consumes, the publisher feeds "
        f"{settings.topic_handovers}",
        file=sys.stderr,
    )
    try:
        compose.create_topics(settings, bootstrap)
        service = Service(settings, bootstrap, report_every_s=3600)
        runner = threading.Thread(target=service.run, name="service", daemon=True)
        runner.start()
        producer = compose.kafka_producer(bootstrap, client_id="ledighed-demo-upstream")
        print("the consumer group is joining (a few seconds) ...", file=sys.stderr)
        with tqdm(total=len(lines), desc="applied", unit=" msgs", file=sys.stderr) as applied:
            # A day's traffic at a time, as it would come: each topic is read on its own, so
            # a year sent at once would be read topic by topic, out of the order it happened.
            for start in range(0, len(lines), DEMO_CHUNK):
                sent = start + play(lines[start : start + DEMO_CHUNK], settings, producer)
                deadline = time.monotonic() + 120
                while service.consumer.applied < sent and time.monotonic() < deadline:
                    time.sleep(0.05)
                applied.update(service.consumer.applied - applied.n)
                applied.set_postfix(_live_view(service), refresh=False)
            while not _outbox_empty(service) and time.monotonic() < deadline:
                time.sleep(0.2)
            applied.set_postfix(_live_view(service), refresh=True)
        producer.close()
        service.stop()
        runner.join(timeout=60)
        return service.sink.totals
    finally:
        if broker is not None:
            broker.stop()


def _live_view(service: Service) -> dict[str, int]:
    return {
        **service.ledighed.live_counts(),
        "published": service.publisher.handovers_published,
        "dead_letters": service.publisher.dead_letters_published,
    }


def _outbox_empty(service: Service) -> bool:
    return not service.unpublished_handovers(1)


DEMO_UI_TOKENS = "demo-anna=adviser:anna,demo-ida=auditor:ida"
"""Tokens for trying the pages on the demo's store (said at the end of the demo; not secret)."""


def _summary(ledighed: Ledighed, report: Report, seconds: float, db_url: str) -> None:
    day = date(DEMO_YEAR, 12, 31)
    views = ledighed.case_views(day)
    statuses: Counter[str] = Counter(v.status for v in views)
    exits: Counter[str] = Counter(v.exit.reason for v in views if v.exit is not None)
    tasks = ledighed.worklist(day)
    overdue = Counter(_task_kind(t["task"]) for t in tasks if t["overdue"])
    feed = ledighed.handovers()
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
    print(f"           (overdue: {counts(overdue)})")
    handed_over = len({h["case_id"] for h in feed})
    print(
        f"handovers: {handed_over} cases handed over, {len(feed)} feed messages "
        f"({counts(feed_types)})"
    )
    some = next(
        (h["cpr"] for h in feed if h["type"] == "handover_revised"),
        feed[0]["cpr"] if feed else None,
    )
    print()
    print("where to look next (reads default to today: the demo's year needs --as-of):")
    db = f"--db {db_url}"
    command = _command()
    print(f"  {command} worklist {db} --as-of {day} --adviser anna")
    print(f"  {command} handovers {db} --json")
    if some:
        print(f"  {command} case {some} {db} --as-of {day}")
        print(f"  {command} explain {some} {db} --as-of {day}")
        print(f"  {command} history {some} {db} --json")
        print(f"  {command} timeline {some} {db} --as-of {day} --svg case.svg")
    print("the pages for advisers and auditors (a browser on this machine):")
    print(f"  LEDIGHED_API_TOKENS={DEMO_UI_TOKENS} {command} serve {db} --port 8000")
    print(
        f"  then open http://127.0.0.1:8000/ui/worklist?as_of={day} and sign in with the "
        "token demo-anna (the adviser anna; demo-ida: an auditor)"
    )
    if report.rejected:
        first = report.rejected[0]
        print(
            f"dead letters: {len(report.rejected)}, e.g. {first['message_id']}: "
            f"{first['error'][:120]}"
        )


def _command() -> str:
    """How to call this program again from here: the virtualenv's script, by its path."""
    script = Path(sys.argv[0])
    if script.name != "ledighed":
        return "ledighed"
    try:
        return str(script.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(script.resolve())


def _task_kind(task: str) -> str:
    """`meeting:joint` stays as it is; `holiday:<request_id>` counts as `holiday`."""
    return task if task.startswith("meeting:") else task.split(":")[0]
