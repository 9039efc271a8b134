"""`ledighed demo`: a generated year of messages played through the service, and the outcome."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from domain.untrusted import DEFAULT_LIMITS
from infra import bootstrap as compose
from infra.application import Ledighed, Report
from infra.demo.demo_data import generate_lines, write_jsonl
from infra.demo.playback import play
from infra.progress import Counters, bar
from infra.runtime.service import Service
from infra.settings import Settings

DEMO_YEAR = 2021
DEMO_CHUNK = 100  # messages played before waiting for them to be applied: about a day's
DEMO_DAY = date(DEMO_YEAR, 12, 31)
"""The day the live counters and the summary count cases on: the year's last."""
LIVE_EVERY_S = 1.0  # how often the live counters are counted again (each a pass over the cases)
STATUSES = ("in_trial", "ended", "outside_trial", "notice_period")
"""The case statuses, in this order on the live counters and in the summary alike."""


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
    # The service lives in the demo's year (R16 would end every case it touches today).
    settings = settings.model_copy(update={"db_url": db_url, "today": settings.today or DEMO_DAY})
    lines = generate_lines(seed=seed, members=members, year=DEMO_YEAR)
    write_jsonl(lines, messages_file)
    print(f"generated {len(lines)} messages for {members} members in {DEMO_YEAR}: {messages_file}")
    started = time.perf_counter()
    published: int | None = None
    if kafka:
        report, published = _through_the_service(settings, lines)
    else:
        report = _ingest_file(settings, messages_file, len(lines))
    seconds = time.perf_counter() - started
    ledighed = compose.application(settings)
    try:
        print()
        print(_pace(report, seconds, kafka))
        for line in summary(ledighed, report, published):
            print(line)
        _next_steps(ledighed, report, db_url)
    finally:
        ledighed.close()
    return 0


def _pace(report: Report, seconds: float, kafka: bool) -> str:
    total = report.accepted + report.duplicates + len(report.rejected)
    rate = f"{total / seconds:,.0f} messages/s"
    if kafka:
        return (
            f"played back in {seconds:.1f} s: {rate}, the playback's pace ({DEMO_CHUNK} messages, "
            "about a day's, then a wait until they are applied), not the system's speed "
            "(`make bench` measures that)"
        )
    return (
        f"ingested in {seconds:.1f} s ({rate}, {report.events / seconds:,.0f} events/s, "
        "read models included)"
    )


def _ingest_file(settings: Settings, messages_file: Path, total: int) -> Report:
    ledighed = compose.application(settings)
    try:
        with (
            open(messages_file, encoding="utf-8") as stream,
            bar(total=total, unit=" msgs", desc="ingest") as progress,
        ):
            records = ledighed.file_records(stream, messages_file.name)
            report = ledighed.ingest(records, 2000, progress, limits=DEFAULT_LIMITS)
        ledighed.catch_up()
        return report
    finally:
        ledighed.close()


def _through_the_service(settings: Settings, lines: list[str]) -> tuple[Report, int]:
    """The service on a local broker: a producer plays the year onto the upstream topics
    while a bar shows it being applied and the live counters (the summary's, counted from
    the read models) the cases and the feed filling. What was applied, and how many
    handovers were published."""
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
        with bar(total=len(lines), desc="playback (paced)", unit=" msgs") as applied:
            counters = Counters(applied)
            counted_at = 0.0
            # A day's traffic at a time, as it would come: each topic is read on its own, so
            # a year sent at once would be read topic by topic, out of the order it happened.
            for start in range(0, len(lines), DEMO_CHUNK):
                sent = start + play(lines[start : start + DEMO_CHUNK], settings, producer)
                deadline = time.monotonic() + 120
                while service.consumer.applied < sent and time.monotonic() < deadline:
                    time.sleep(0.05)
                if time.monotonic() - counted_at >= LIVE_EVERY_S:
                    counters.show(_live_counters(service))
                    counted_at = time.monotonic()
                applied.update(service.consumer.applied - applied.n)
            while not _outbox_empty(service) and time.monotonic() < deadline:
                time.sleep(0.2)
            service.catch_up()  # the read models hold every applied message
            counters.show(_live_counters(service), refresh=True)
            applied.refresh()
            counters.close()
        producer.close()
        service.stop()
        runner.join(timeout=60)
        return service.sink.totals, service.publisher.handovers_published
    finally:
        if broker is not None:
            broker.stop()


def live_counters(ledighed: Ledighed, report: Report, published: int | None) -> list[str]:
    """The summary's first three counts, under its names, from the read models as far as
    they have got: cases by status on DEMO_DAY, messages, feed messages."""
    statuses, feed = ledighed.statuses_on(DEMO_DAY)
    return [_cases_line(statuses), _messages_line(report), _feed_line(feed, published)]


def _live_counters(service: Service) -> list[str]:
    return live_counters(
        service.ledighed, service.sink.totals, service.publisher.handovers_published
    )


def _cases_line(statuses: Mapping[str, int]) -> str:
    return f"cases on {DEMO_DAY}: " + ", ".join(f"{s} {statuses[s]}" for s in STATUSES)


def _messages_line(report: Report) -> str:
    return (
        f"messages: {report.accepted} accepted, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected"
    )


def _feed_line(feed: int, published: int | None) -> str:
    sent = "" if published is None else f", {published} published"
    return f"handovers: {feed} feed messages{sent}"


def _outbox_empty(service: Service) -> bool:
    return not service.unpublished_handovers(1)


DEMO_UI_TOKENS = "demo-anna=adviser:anna,demo-ida=auditor:ida"
"""Tokens for trying the pages on the demo's store (said at the end of the demo; not secret)."""


def summary(ledighed: Ledighed, report: Report, published: int | None) -> list[str]:
    """The outcome, from the log: the live counters' three counts first, under the same
    names (cases by status on DEMO_DAY, messages, feed messages), then what they add up to."""
    day = DEMO_DAY
    views = ledighed.case_views(day)
    exits = Counter(v.exit.reason for v in views if v.exit is not None)
    tasks = ledighed.worklist(day)
    overdue = Counter(_task_kind(t["task"]) for t in tasks if t["overdue"])
    feed = ledighed.handovers()
    feed_types = Counter(h["type"] for h in feed)

    def counts(counter: Counter[Any]) -> str:
        return ", ".join(f"{k} {n}" for k, n in counter.most_common()) or "none"

    handed_over = len({h["case_id"] for h in feed})
    return [
        _cases_line(Counter(v.status for v in views)),
        _messages_line(report) + " (the rejected kept in the dead letters)",
        _feed_line(len(feed), published) + f" ({counts(feed_types)}) for {handed_over} cases",
        f"exits: {counts(exits)}",
        f"worklist on {day}: {len(tasks)} open tasks, {sum(overdue.values())} overdue "
        f"({counts(overdue)})",
    ]


def _next_steps(ledighed: Ledighed, report: Report, db_url: str) -> None:
    day = DEMO_DAY
    feed = ledighed.handovers()
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
        print(f"  {command} timeline {some} {db} --as-of {day} --svg /tmp/case.svg")
    print("the pages for advisers and auditors (a browser on this machine):")
    # The server lives on the demo's day: past the programme end a recorded meeting would
    # also end its case by R16 (RULES.md), which the demo's year does not mean.
    print(
        f"  LEDIGHED_TODAY={day} LEDIGHED_API_TOKENS={DEMO_UI_TOKENS} "
        f"{command} serve {db} --port 8000"
    )
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
