"""Records/s from the inbound topics into the store: the service's consumer beside a baseline;
then goal 6, a handover's latency at steady rates (tools/bench_latency.py)."""

from __future__ import annotations

import argparse
import cProfile
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import (
    MetaData,
    Table,
    create_engine,
    insert,
)
from sqlalchemy.engine import make_url

from consumers.inbound import InboundConsumer
from infra import bootstrap as compose
from infra.demo.demo_data import generate_lines
from infra.demo.playback import route
from infra.kafka.broker import default_topics, ensure_topics
from infra.runtime.service import StoreSink
from infra.settings import Settings
from tools.bench import (
    DEFAULT_PG_URL,
    TOPICS,
    Target,
    event_shaped_table,
    postgres_target,
    sqlite_target,
)
from tools.bench_latency import Latency, measure_latency

BATCH_SIZE = 2000
AIM = 0.5
MAX_POLL_INTERVAL_MS = 6000  # short group timeouts: a group joins in seconds on Tansu
SESSION_TIMEOUT_MS = 6000
STALL_S = 120.0  # give up when no record arrives for this long
TOPIC_FIELDS = (
    "topic_members",
    "topic_payments",
    "topic_addresses",
    "topic_jobnet",
    "topic_adviser",
    "topic_handovers",
)
NAMESPACE = uuid.UUID("5d2c7a52-0c4f-4a5e-9d55-6b1f3f0e2a11")


@dataclass
class Run:
    """One measured path: records consumed, rows/events stored, polls, seconds, join time."""

    path: str
    records: int
    events: int
    batches: int
    seconds: float
    join_s: float
    polling_s: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


# --- the topics ---------------------------------------------------------------------------


def bench_settings(bootstrap: str, batch_size: int) -> Settings:
    """Settings whose topics and consumer group carry a random suffix (a shared cluster)."""
    suffix = secrets.token_hex(4)
    defaults = Settings.model_fields
    values: dict[str, Any] = {f: f"{defaults[f].default}-bench-{suffix}" for f in TOPIC_FIELDS}
    return Settings(
        **values,
        kafka_bootstrap=bootstrap,
        kafka_group=f"ledighed-bench-{suffix}",
        kafka_max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        kafka_session_timeout_ms=SESSION_TIMEOUT_MS,
        batch_size=batch_size,
        # The year replayed is 2021: a calendar inside the trial, or each batch would also
        # end its cases by R16 (work a service in the trial years does not do).
        today=date(2021, 12, 31),
    )


def produce(bootstrap: str, settings: Settings, lines: Sequence[str]) -> Counter[str]:
    """Send every line to its topic; per topic, how many the broker acknowledged (all, or
    this raises). Acknowledgements are counted because Tansu's end offsets are not record
    counts (ListOffsets answers a batch's base offset)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        client_id="ledighed-bench-producer",
    )
    try:
        futures = []
        for line in lines:
            topic, key = route(line, settings)
            futures.append((topic, producer.send(topic, key=key, value=line.encode())))
        producer.flush(timeout=120)
        return Counter(topic for topic, future in futures if future.get(timeout=10))
    finally:
        producer.close(timeout=10)


# --- the measurements ---------------------------------------------------------------------


class _TimedPoll:
    """A KafkaConsumer that notes when its first poll that returned records returned, and
    how long it spent in poll() after that."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        self.created_at = time.perf_counter()
        self.first_records_at: float | None = None
        self.polling_s = 0.0  # in poll() after the first records

    def poll(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        polled = self._consumer.poll(*args, **kwargs)
        end = time.perf_counter()
        if self.first_records_at is not None:
            self.polling_s += end - start
        elif polled:
            self.first_records_at = end
        return polled

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


def _until_done(step: Callable[[], int], total: int, what: str) -> int:
    """Call `step` until it has handled `total` records; how many calls returned records."""
    done = batches = 0
    last_progress = time.monotonic()
    while done < total:
        n = step()
        if n:
            done += n
            batches += 1
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_S:
            raise RuntimeError(f"{what}: {done:,} of {total:,} records after {STALL_S:g} s idle")
    if done != total:
        raise RuntimeError(f"{what}: {done:,} records handled, {total:,} produced")
    return batches


def measure_service(
    target: Target, bootstrap: str, settings: Settings, total: int, profile: Path | None
) -> Run:
    """The service's own consumer: `bootstrap.kafka_consumer`, `InboundConsumer`, `StoreSink`."""
    with target("service") as url:
        ledighed = compose.application(settings.model_copy(update={"db_url": url}))
        sink = StoreSink(ledighed, ledighed.settings)
        timed = _TimedPoll(compose.kafka_consumer(settings, bootstrap))
        inbound = InboundConsumer(
            cast(KafkaConsumer, timed), sink, settings.inbound_topics, settings.batch_size
        )
        profiler = cProfile.Profile() if profile else None
        try:
            with profiler or nullcontext():
                batches = _until_done(lambda: inbound.poll_once(timeout_ms=500), total, "service")
            end = time.perf_counter()
        finally:
            inbound.close()
            ledighed.close()
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile)
    totals = sink.totals
    handled = totals.accepted + totals.duplicates + len(totals.rejected)
    if handled != total:
        raise RuntimeError(f"service: {handled:,} records accounted for, {total:,} produced")
    assert timed.first_records_at is not None
    return Run(
        "service (InboundConsumer + StoreSink)",
        total,
        totals.events,
        batches,
        end - timed.first_records_at,
        timed.first_records_at - timed.created_at,
        timed.polling_s,
    )


def baseline_table(metadata: MetaData) -> Table:
    return event_shaped_table("bench_baseline_events", metadata)


def measure_baseline(target: Target, bootstrap: str, settings: Settings, total: int) -> Run:
    """kafka-python with the same consumer options in a new group; each poll's records go
    into one SQLAlchemy Core executemany INSERT in one transaction (one event-sized row per
    record: uuid, version, a ~30-character topic, the value's bytes), then the offsets are
    committed to Kafka, as the service does."""
    metadata = MetaData()
    table = baseline_table(metadata)
    versions: Counter[uuid.UUID] = Counter()
    with target("baseline") as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        group = f"{settings.kafka_group}-baseline"
        timed = _TimedPoll(
            compose.kafka_consumer(
                settings, bootstrap, group_id=group, client_id="ledighed-bench-baseline"
            )
        )
        timed.subscribe(settings.inbound_topics)

        def step() -> int:
            polled = timed.poll(timeout_ms=500, max_records=settings.batch_size)
            rows: list[dict[str, Any]] = []
            offsets: dict[TopicPartition, OffsetAndMetadata] = {}
            for tp, records in polled.items():
                for r in records:
                    originator = uuid.uuid5(NAMESPACE, (r.key or b"").hex() or f"{tp}:{r.offset}")
                    versions[originator] += 1
                    rows.append(
                        {
                            "originator_id": originator,
                            "originator_version": versions[originator],
                            "topic": TOPICS[len(rows) % len(TOPICS)],
                            "state": r.value,
                        }
                    )
                    offsets[tp] = OffsetAndMetadata(r.offset + 1, "", -1)
            if not rows:
                return 0
            with engine.begin() as conn:
                conn.execute(insert(table), rows)
            timed.commit(offsets)
            return len(rows)

        try:
            batches = _until_done(step, total, "baseline")
            end = time.perf_counter()
        finally:
            timed.close(autocommit=False)
            engine.dispose()
    assert timed.first_records_at is not None
    return Run(
        "baseline (kafka-python + Core insert)",
        total,
        total,
        batches,
        end - timed.first_records_at,
        timed.first_records_at - timed.created_at,
        timed.polling_s,
    )


# --- the report ---------------------------------------------------------------------------


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(name: str, runs: Sequence[Run]) -> str:
    header = (
        "path",
        "records",
        "events/rows",
        "polls",
        "seconds",
        "in poll()",
        "records/s",
        "events/s",
    )
    rows = [
        (
            run.path,
            _num(run.records),
            _num(run.events),
            _num(run.batches),
            _num(run.seconds, 2),
            _num(run.polling_s, 2),
            _num(run.records_per_s),
            _num(run.events_per_s),
        )
        for run in runs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    out = [f"== {name} ==", line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append(
        "seconds: from the return of the first poll that returned records to the end of the "
        "last applied batch; the group join before it is excluded ("
        + ", ".join(f"{run.path.split(' ')[0]} {run.join_s:.1f} s" for run in runs)
        + "); in poll(): of those seconds, waiting in KafkaConsumer.poll()"
    )
    return "\n".join(out)


def verdict(service: Run, baseline: Run) -> str:
    ratio = service.records_per_s / baseline.records_per_s
    mark = "meets" if ratio >= AIM else "below"
    return f"service / baseline: {ratio:.2f}x records/s (aim ≥ {AIM:g}x): {mark} the aim"


# --- the run ------------------------------------------------------------------------------


@contextmanager
def cluster(bootstrap: str | None) -> Iterator[str]:
    if bootstrap:
        yield bootstrap
        return
    with compose.local_broker() as broker:
        print(f"local broker on {broker.bootstrap} (pid {broker.pid})", file=sys.stderr)
        yield broker.bootstrap


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to use")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="records per poll")
    parser.add_argument("--kafka", help="HOST:PORT of a cluster to use (default: start one)")
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="SQLite files instead of PostgreSQL, for both paths (quick runs)",
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the service path here")
    parser.add_argument(
        "--latency-rates",
        default="500,2000",
        help="goal 6: steady records/s to measure a handover's latency at, comma-separated "
        "('' for none)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=20.0,
        help="goal 6: how long each steady rate is produced for (the year is sized to it)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    run = measure(args)
    print()
    print(run.report)
    return 0


@dataclass
class KafkaRun:
    """What this module measured: goal 2's two paths and goal 6's rates, and its report."""

    store: str
    service: Run
    baseline: Run
    latencies: list[Latency]
    report: str

    def goal_rows(self) -> list[tuple[str, ...]]:
        """Rows of issue 9's goals table (tools.bench)."""
        ratio = self.service.records_per_s / self.baseline.records_per_s
        rows = [
            (
                "2 Kafka -> store vs kafka-python + Core",
                self.store,
                f"{self.service.records_per_s:,.0f} records/s",
                f"{self.baseline.records_per_s:,.0f} records/s",
                f"{ratio:.2f}x",
                f">= {AIM:g}x",
                "yes" if ratio >= AIM else "no",
            )
        ]
        for lat in self.latencies:
            aim = lat.aim_ms
            rows.append(
                (
                    f"6 handover on its topic at {lat.rate:,.0f} records/s, p99",
                    self.store,
                    f"{lat.p99_ms:,.0f} ms (p50 {lat.p50_ms:,.0f}; {lat.handovers:,} handovers)",
                    f"kept up {lat.sent_per_s:,.0f} records/s",
                    "-",
                    f"<= {aim:,.0f} ms" if aim is not None else "-",
                    ("yes" if lat.p99_ms <= aim else "no") if aim is not None else "",
                )
            )
        return rows


def measure(args: argparse.Namespace) -> KafkaRun:
    """Goal 2 (the backlog through the service beside the baseline), then goal 6."""

    lines = generate_lines(seed=args.seed, members=args.members)
    with (
        cluster(args.kafka) as bootstrap,
        tempfile.TemporaryDirectory(prefix="ledighed-bench-kafka-") as directory,
    ):
        settings = bench_settings(bootstrap, args.batch_size)
        ensure_topics(bootstrap, default_topics(settings))
        start = time.perf_counter()
        counts = produce(bootstrap, settings, lines)
        produced_s = time.perf_counter() - start
        total = sum(counts.values())
        if total != len(lines):
            raise RuntimeError(f"{len(lines):,} lines sent, {total:,} acknowledged")
        print(
            f"demo year: seed {args.seed}, {args.members:,} members, {total:,} records produced "
            f"in {produced_s:.1f} s, key = CPR ("
            + ", ".join(f"{topic.split('-bench-')[0]} {n:,}" for topic, n in sorted(counts.items()))
            + f"); {args.batch_size:,} records a poll at most",
            flush=True,
        )
        target: Target
        if args.sqlite:
            target, where = sqlite_target(Path(directory)), "SQLite file"
        else:
            target = postgres_target(args.pg_url)
            where = f"PostgreSQL ({make_url(args.pg_url).render_as_string(hide_password=True)})"
        print(f"service path on {bootstrap} ...", file=sys.stderr, flush=True)
        service = measure_service(target, bootstrap, settings, total, args.profile)
        print(f"baseline on {bootstrap} ...", file=sys.stderr, flush=True)
        baseline = measure_baseline(target, bootstrap, settings, total)
        latencies = []
        for rate in [float(r) for r in args.latency_rates.split(",") if r.strip()]:
            print(f"latency at {rate:,.0f} records/s ...", file=sys.stderr, flush=True)
            latencies.append(
                measure_latency(
                    target,
                    bootstrap,
                    bench_settings(bootstrap, args.batch_size),
                    rate,
                    args.latency_seconds,
                    args.seed,
                )
            )
    report = [
        table(
            f"Kafka ({'given cluster' if args.kafka else 'local Tansu'}) → {where}",
            [service, baseline],
        ),
        f"service: {service.events / service.records:.2f} events a record; a message read "
        "before its member's registration (another topic read ahead of the members topic) "
        "is kept, then applied: the order the partitions are read in changes this",
        "",
        verdict(service, baseline),
    ]
    if latencies:
        report += [
            "",
            f"== goal 6: a handover's latency, `ledighed run` on {where}, records produced "
            f"steadily for about {args.latency_seconds:g} s ==",
            *(lat.line() for lat in latencies),
            "latency: from a record's hand-over to the producer (linger 5 ms) to its handover "
            "read from the handover topic; the record is the HandedOver event's source",
        ]
    if args.profile:
        report.append(f"profile of the service path: {args.profile}")
    store = "SQLite" if args.sqlite else "PostgreSQL"
    return KafkaRun(store, service, baseline, latencies, "\n".join(report))


if __name__ == "__main__":
    sys.exit(main())
