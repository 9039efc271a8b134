"""Ingest throughput on SQLite and PostgreSQL: batched (as `ledighed ingest` runs it, read
models included), eventsourcing's own loop of one save() per message, one message a
transaction through our pipeline, a raw floor; the read models' catch-up and rebuild against
reading the log alone; what returning the notification ids costs the event store's insert;
and one table of every goal of issue 9 beside its reference."""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.utils import Environment
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    create_engine,
    insert,
)
from sqlalchemy.engine import URL, make_url

from domain.params import Settings
from infra import bootstrap as compose
from infra import projections
from infra.application import Ledighed
from infra.demo.demo_data import generate_lines
from infra.ingest import Report, file_records
from infra.progress import bar as progress_bar
from infra.store.bulk import bulk_insert
from infra.store.persistence import BatchApplicationRecorder, Factory
from infra.store.store import Store

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH_SIZE = 2000
IDS_BATCH = 4600  # events a transaction in the ids measurement: a 2,000-message batch's
IDS_REPEATS = 5
READ_SAMPLE = 200
AIM = 10.0  # goal 1: batched ingest against eventsourcing's one-save() loop
FLOOR_AIM = 0.25  # goal 1: batched events/s against the raw floor's rows/s
PROJECTION_AIM = 0.5  # goal 4: catch-up and rebuild against reading the log alone
TOPICS = (  # event topics as the store writes them (~30 characters)
    "domain.case:Case.HoursPaid",
    "domain.case:Case.MeetingHeld",
    "domain.case:Case.MeetingBooked",
    "domain.member:Member.CaseOpened",
)

Target = Callable[[str], AbstractContextManager[str]]
"""A fresh, empty database for one measurement (by label), yielding its SQLAlchemy URL."""


@dataclass
class Run:
    """One measured path: how many messages and events (or rows) in how many seconds."""

    path: str
    messages: int | None
    events: int
    seconds: float

    @property
    def messages_per_s(self) -> float | None:
        return None if self.messages is None else self.messages / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


@dataclass
class Reads:
    """`cases_of` timings on one store: how many events it held, median and p95 in ms."""

    store: str
    events: int
    members: int
    events_read: float
    median_ms: float
    p95_ms: float


# --- the databases ------------------------------------------------------------------------


def sqlite_target(directory: Path) -> Target:
    @contextmanager
    def database(label: str) -> Iterator[str]:
        yield f"sqlite:///{directory / label}.db"

    return database


def _libpq_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_target(admin_url: str) -> Target:
    """Each measurement gets its own database `ledighed_bench_<hex>`, dropped afterwards."""
    import psycopg

    admin = make_url(admin_url)

    @contextmanager
    def database(label: str) -> Iterator[str]:
        name = f"ledighed_bench_{secrets.token_hex(6)}"
        with psycopg.connect(_libpq_dsn(admin), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = admin.set(database=name).render_as_string(hide_password=False)
            # A PostgreSQL store makes no keys of its own: as an operator would, `keys init`
            # (the config dir's key file, made once and then shared by every bench database).
            from infra.bootstrap import init_keys

            init_keys(url)
            yield url
        finally:
            with psycopg.connect(_libpq_dsn(admin), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return database


# --- the measurements ---------------------------------------------------------------------


def _ingest(store: Store, lines: Sequence[str], batch_size: int, desc: str) -> tuple[Report, float]:
    rules = Settings()
    with progress_bar(total=len(lines), desc=desc, unit=" msgs") as bar:
        start = time.perf_counter()
        report = Ledighed(store, rules=rules).ingest(file_records(lines, "bench"), batch_size, bar)
        seconds = time.perf_counter() - start
    return report, seconds


def _messages(lines: Sequence[str]) -> int:
    return sum(1 for line in lines if line.strip())


def stored_events(store: Store) -> int:
    return store.app.recorder.max_notification_id() or 0


def time_reads(store: Store, label: str, seed: int) -> Reads:
    """`cases_of` for up to READ_SAMPLE random members: the case's own events, from the store."""
    cprs = sorted(cpr for cpr in store.cprs().values() if cpr is not None)
    sample = random.Random(seed).sample(cprs, min(READ_SAMPLE, len(cprs)))
    timings, events_read = [], []
    for cpr in sample:
        start = time.perf_counter()
        cases = store.cases_of(cpr)
        timings.append((time.perf_counter() - start) * 1000)
        assert cases, cpr
        member = store.member(cases[0].member_id)  # untimed: how many events the read replayed
        events_read.append(member.version + sum(case.version for case in cases))
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return Reads(
        label,
        stored_events(store),
        len(sample),
        statistics.mean(events_read),
        statistics.median(timings),
        p95,
    )


@dataclass
class Projections:
    """The read models on the batched store: the log read alone beside a rebuild of both
    models and the catch-up after a batched ingest without inline projection (before)."""

    events: int
    read_s: float
    rebuild_s: float
    catch_up_events: int
    catch_up_s: float

    @property
    def rebuild_ratio(self) -> float:
        """Rebuild speed as a share of reading the log (the same log, events/s)."""
        return self.read_s / self.rebuild_s

    @property
    def catch_up_ratio(self) -> float:
        return (self.catch_up_events / self.catch_up_s) / (self.events / self.read_s)


def read_log(store: Store) -> tuple[int, float]:
    """Every stored event, decoded, a page at a time as the projections read it."""
    start = time.perf_counter()
    after = events = 0
    while page := store.read_page(after, 1000, []):
        events += len(page)
        after = page[-1][0]
    return events, time.perf_counter() - start


def measure_batched(
    target: Target, lines: Sequence[str], seed: int
) -> tuple[Run, Reads, Run, Projections]:
    """`ledighed ingest` as it runs (batches with inline projection, then the catch-up it
    leaves nothing for), and the same ingest with the read models caught up from the log
    afterwards (the way before inline projection); rebuild and log read on the first."""
    with target("batched-catch-up") as url:
        store = compose.store(url)
        store.project_inline = False
        try:
            report, seconds = _ingest(store, lines, BATCH_SIZE, "batched, catch-up after")
            start = time.perf_counter()
            caught_up = sum(projections.catch_up(store).values())
            catch_up_s = time.perf_counter() - start
        finally:
            store.close()
    before = Run(
        "ingest, then catch-up reading the log (before)",
        _messages(lines),
        report.events,
        seconds + catch_up_s,
    )
    with target("batched") as url:
        store = compose.store(url)
        try:
            report, seconds = _ingest(store, lines, BATCH_SIZE, "batched")
            start = time.perf_counter()
            projections.catch_up(store)
            seconds += time.perf_counter() - start
            assert report.events == stored_events(store)
            reads = time_reads(store, "after batched", seed)
            events, read_s = read_log(store)
            start = time.perf_counter()
            projections.rebuild(store, quiet=True)
            rebuild_s = time.perf_counter() - start
            read_s = min(read_s, read_log(store)[1])  # the faster of two reads: the stricter
        finally:
            store.close()
    run = Run(f"batched ({BATCH_SIZE} msgs/tx, inline)", _messages(lines), report.events, seconds)
    return run, reads, before, Projections(events, read_s, rebuild_s, caught_up, catch_up_s)


class Tally(Aggregate):
    """The trivial aggregate of the library's own loop: one event a message."""

    @event("Registered")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def add(self, message: int) -> None:
        self.count += 1
        self.last = message


class TallyApplication(Application[uuid.UUID]):
    name = "Tally"


def measure_library_loop(target: Target, messages: int) -> Run:
    """eventsourcing's one-`save()`-per-message loop, the library's own SQLAlchemy store,
    a trivial aggregate per member (one for every 8 messages, kept in memory): each message
    triggers one event and is saved alone. The reference of goal 1."""
    with target("library") as url:
        app = TallyApplication(
            env={
                "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                "SQLALCHEMY_URL": url,
                "CREATE_TABLE": "y",
            }
        )
        try:
            aggregates: list[Tally] = []
            start = time.perf_counter()
            for i in range(messages):
                if i % 8 == 0:
                    aggregates.append(Tally())
                else:
                    aggregates[i // 8].add(i)
                app.save(aggregates[i // 8])
            seconds = time.perf_counter() - start
        finally:
            app.close()
    return Run("eventsourcing loop: one save() a message", messages, messages, seconds)


def measure_single_save(target: Target, lines: Sequence[str], seed: int) -> tuple[Run, Reads]:
    """The same code path with one message per transaction, and no aggregate kept between
    transactions: each message loads its member and case from the store and saves them
    with one `app.save()` in its own transaction."""
    with target("single") as url:
        store = compose.store(url)
        store.cache_size = 0  # remember() then keeps nothing: every batch loads from the store
        store.forget()
        try:
            report, seconds = _ingest(store, lines, 1, "one save() per message")
            reads = time_reads(store, "after one-save()", seed)
        finally:
            store.close()
    return Run("one save() per message", _messages(lines), report.events, seconds), reads


def _payload(rng: random.Random, i: int) -> bytes:
    """An event-shaped JSON state of about 300 bytes."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2021-03-04T10:11:12.131415+00:00"},
        "month": {"_type_": "date_iso", "_data_": "2021-02-01"},
        "hours": str(round(rng.uniform(1, 160.33), 2)),
        "source": {"message_id": f"demo-{i:06d}", "topic": "bench", "partition": None},
    }
    text = json.dumps(state, separators=(",", ":"))
    return (text[:-1] + ',"pad":"' + "x" * max(0, 290 - len(text)) + '"}').encode()


def measure_floor(target: Target, rows: int, seed: int) -> Run:
    """SQLAlchemy Core: one transaction, one executemany INSERT of `rows` event-shaped rows
    into a fresh table shaped like the event table (autoincrement id, unique id+version)."""
    rng = random.Random(seed)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(max(1, rows // 8))]
    params = [
        {
            "originator_id": ids[i % len(ids)],
            "originator_version": i // len(ids) + 1,
            "topic": TOPICS[i % len(TOPICS)],
            "state": _payload(rng, i),
        }
        for i in range(rows)
    ]
    metadata = MetaData()
    table = event_shaped_table("bench_floor_events", metadata)
    with target("floor") as url:
        engine = create_engine(url)
        try:
            metadata.create_all(engine)
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(insert(table), params)
            seconds = time.perf_counter() - start
        finally:
            engine.dispose()
    return Run("raw floor (Core executemany)", None, rows, seconds)


class _NoIds(BatchApplicationRecorder):
    """The batch insert as it was before it returned ids: COPY (executemany) and nothing back."""

    def _insert_rows(
        self, conn: Connection, table: Table, rows: list[dict[str, object]]
    ) -> list[int]:
        bulk_insert(conn, table, rows)
        return []


class _Returning(BatchApplicationRecorder):
    """The ids from one multi-row `INSERT … RETURNING` (SQLAlchemy's insertmanyvalues)."""

    def _insert_rows(
        self, conn: Connection, table: Table, rows: list[dict[str, object]]
    ) -> list[int]:
        query = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(query, rows).scalars())


ID_PATHS: dict[str, type[ApplicationRecorder]] = {
    "no ids back (COPY / executemany; before)": _NoIds,
    "ids back: reserved + COPY / executemany + max(id) (now)": BatchApplicationRecorder,
    "ids back: INSERT … RETURNING": _Returning,
    "the library's recorder (ORM, one flush; no hash chain)": SQLAlchemyApplicationRecorder,
}


def _recorder(url: str, recorder_class: type[ApplicationRecorder]) -> ApplicationRecorder:
    class _Factory(Factory):
        application_recorder_class = recorder_class  # type: ignore[assignment]

    env = Environment("Ledighed", {"SQLALCHEMY_URL": url, "CREATE_TABLE": "y"})
    return _Factory(env).application_recorder()


def measure_ids(target: Target, events: int, seed: int) -> list[Run]:
    """The event store's insert with and without the notification ids back: `events`
    event-shaped stored events in transactions of IDS_BATCH, into a fresh store per run,
    through each recorder class of ID_PATHS (the median of IDS_REPEATS runs; the library's
    recorder once). Each path writes the hash chain too, but the library's recorder."""
    rng = random.Random(seed)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(max(1, events // 8))]
    stored = [
        StoredEvent(ids[i % len(ids)], i // len(ids) + 1, TOPICS[i % len(TOPICS)], _payload(rng, i))
        for i in range(events)
    ]
    # Round robin over the paths, so that a busy moment of the machine falls on all alike.
    timings: dict[str, list[float]] = {path: [] for path in ID_PATHS}
    for repeat in range(IDS_REPEATS):
        for number, (path, recorder_class) in enumerate(ID_PATHS.items()):
            if recorder_class is SQLAlchemyApplicationRecorder and repeat:
                continue  # the slow reference: once is enough
            with target(f"ids-{number}-{repeat}") as url:  # a fresh store each time
                recorder = _recorder(url, recorder_class)
                try:
                    start = time.perf_counter()
                    for first in range(0, len(stored), IDS_BATCH):
                        recorder.insert_events(stored[first : first + IDS_BATCH])
                    timings[path].append(time.perf_counter() - start)
                finally:
                    recorder.datastore.engine.dispose()  # type: ignore[attr-defined]
    return [Run(path, None, events, statistics.median(t)) for path, t in timings.items()]


def ids_table(name: str, runs: Sequence[Run]) -> str:
    before = runs[0]
    width = max(len(run.path) for run in runs)
    out = [f"== {name}: the cost of returning notification ids ({IDS_BATCH:,} events a tx) =="]
    out += [
        f"{run.path:<{width}}  {run.events:>7,} events  {run.seconds:6.2f} s  "
        f"{run.events_per_s:>8,.0f} events/s  {run.seconds / before.seconds:5.2f}x the time"
        for run in runs
    ]
    return "\n".join(out)


# --- the report ---------------------------------------------------------------------------


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def event_shaped_table(name: str, metadata: MetaData) -> Table:
    """Shaped like the event table: autoincrement id, unique (originator_id, version)."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("originator_id", Uuid(), nullable=False),
        Column("originator_version", BigInteger().with_variant(Integer(), "sqlite")),
        Column("topic", Text(), nullable=False),
        Column("state", LargeBinary(), nullable=False),
        Index(f"{name}_index", "originator_id", "originator_version", unique=True),
    )


def table(name: str, runs: Sequence[Run], reads: Sequence[Reads]) -> str:
    batched, single, floor = runs[:3]
    header = ("path", "messages", "events", "seconds", "messages/s", "events/s")
    rows = [
        (
            run.path,
            _num(run.messages),
            _num(run.events),
            _num(run.seconds, 2),
            _num(run.messages_per_s),
            _num(run.events_per_s),
        )
        for run in runs
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    assert batched.messages_per_s is not None and single.messages_per_s is not None
    out = [f"== {name} ==", line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out += [
        "",
        f"batched / one save() per message: {batched.messages_per_s / single.messages_per_s:.1f}x "
        f"messages/s, {batched.events_per_s / single.events_per_s:.1f}x events/s",
        f"batched / raw floor: {batched.events_per_s / floor.events_per_s:.2f}x "
        "(events/s against rows/s)",
        "",
        f"read one case (cases_of, {READ_SAMPLE} random members at most):",
    ]
    out += [
        f"  {r.store:<18} {r.events:>8,} events in store  {r.members:>4} members  "
        f"{r.events_read:5.1f} events read/call  median {r.median_ms:.2f} ms  p95 {r.p95_ms:.2f} ms"
        for r in reads
    ]
    return "\n".join(out)


def verdict(name: str, runs: Sequence[Run]) -> str:
    batched, library = runs[0], runs[3]
    assert batched.messages_per_s is not None and library.messages_per_s is not None
    ratio = batched.messages_per_s / library.messages_per_s
    return (
        f"{name}: batched is {ratio:.1f}x the one-save() path "
        f"(eventsourcing's loop, a trivial aggregate; aim ≥ {AIM:g}x)"
    )


@dataclass
class Goals:
    """One store's figures for the goals' table."""

    name: str
    runs: list[Run]
    projections: Projections


def goals_table(stores: Sequence[Goals], kafka_rows: Sequence[tuple[str, ...]] = ()) -> str:
    """Every goal of issue 9 measured here, its figure beside its reference and aim; with
    `kafka_rows`, goals 2 and 6 as tools.bench_kafka measured them."""
    header = ("goal", "store", "figure", "reference", "ratio", "aim", "met")
    rows = []
    for goals in stores:
        batched, _single, floor, library, before = goals.runs
        assert batched.messages_per_s is not None and library.messages_per_s is not None
        assert before.messages_per_s is not None
        p = goals.projections
        ratio = batched.messages_per_s / library.messages_per_s
        rows.append(
            (
                "1 ingest vs one-save() loop",
                goals.name,
                f"{batched.messages_per_s:,.0f} msgs/s",
                f"{library.messages_per_s:,.0f} msgs/s",
                f"{ratio:.1f}x",
                f">= {AIM:g}x",
                _met(ratio >= AIM),
            )
        )
        ratio = batched.events_per_s / floor.events_per_s
        rows.append(
            (
                "1 ingest vs Core floor",
                goals.name,
                f"{batched.events_per_s:,.0f} events/s",
                f"{floor.events_per_s:,.0f} rows/s",
                f"{ratio:.0%}",
                f">= {FLOOR_AIM:.0%}",
                _met(ratio >= FLOOR_AIM),
            )
        )
        ratio = batched.messages_per_s / before.messages_per_s
        rows.append(
            (
                "1 inline projection vs catch-up after",
                goals.name,
                f"{batched.messages_per_s:,.0f} msgs/s",
                f"{before.messages_per_s:,.0f} msgs/s",
                f"{ratio:.2f}x",
                "(before/after)",
                "",
            )
        )
        for what, ratio, figure in (
            ("4 rebuild vs reading the log", p.rebuild_ratio, p.events / p.rebuild_s),
            ("4 catch-up vs reading the log", p.catch_up_ratio, p.catch_up_events / p.catch_up_s),
        ):
            rows.append(
                (
                    what,
                    goals.name,
                    f"{figure:,.0f} events/s",
                    f"{p.events / p.read_s:,.0f} events/s",
                    f"{ratio:.0%}",
                    f">= {PROJECTION_AIM:.0%}",
                    _met(ratio >= PROJECTION_AIM),
                )
            )
    rows.append(
        (
            "3 a second writer on a SQLite file",
            "SQLite",
            "refused at start",
            "-",
            "-",
            "clear message",
            "yes (test)",
        )
    )
    rows += kafka_rows
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = [f"== issue 9's goals on this machine ({os.cpu_count()} cores) =="]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    kafka = (
        "goals 2 (Kafka → PostgreSQL) and 6 (latency) by tools.bench_kafka, in this run"
        if kafka_rows
        else "goals 2 (Kafka → PostgreSQL) and 6 (latency): `make bench` (tools.bench --kafka)"
    )
    out.append(
        f"{kafka}; goal 3 (two instances) by `make bench-scale-out`; 5 (national scale): not "
        "measured (see README)"
    )
    return "\n".join(out)


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def bench_store(name: str, target: Target, lines: Sequence[str], sample: int, seed: int) -> Goals:
    print(f"{name}: ingesting {len(lines):,} lines ...", file=sys.stderr)
    batched, batched_reads, before, read_models = measure_batched(target, lines, seed)
    single, single_reads = measure_single_save(target, lines[:sample], seed)
    floor = measure_floor(target, batched.events, seed)
    library = measure_library_loop(target, single.messages or sample)
    runs = [batched, single, floor, library, before]
    print(table(name, runs, [batched_reads, single_reads]), flush=True)
    print(flush=True)
    print(
        f"read models: the log read alone {read_models.events:,} events in "
        f"{read_models.read_s:.2f} s; rebuild of both {read_models.rebuild_s:.2f} s "
        f"({read_models.rebuild_ratio:.0%} of the log's speed); catch-up after an ingest "
        f"without inline projection {read_models.catch_up_events:,} events in "
        f"{read_models.catch_up_s:.2f} s ({read_models.catch_up_ratio:.0%})",
        flush=True,
    )
    print(flush=True)
    if not os.environ.get("LEDIGHED_BENCH_SKIP_IDS"):
        print(ids_table(name, measure_ids(target, batched.events, seed)), flush=True)
        print(flush=True)
    return Goals(name.split(" ")[0], runs, read_models)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument(
        "--single-save-sample",
        type=int,
        default=2000,
        help="messages (the year's first) for the one-save()-per-message path",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to use")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--kafka",
        action="store_true",
        help="then tools.bench_kafka (goals 2 and 6, a local broker), its figures in the table",
    )
    args = parser.parse_args(argv)

    lines = generate_lines(seed=args.seed, members=args.members)
    print(
        f"demo year: seed {args.seed}, {args.members:,} members, {_messages(lines):,} messages; "
        f"one-save() path on the first {min(args.single_save_sample, len(lines)):,}",
        flush=True,
    )
    print(flush=True)
    verdicts = []
    stores = []
    with tempfile.TemporaryDirectory(prefix="ledighed-bench-") as directory:
        goals = bench_store(
            "SQLite", sqlite_target(Path(directory)), lines, args.single_save_sample, args.seed
        )
        stores.append(goals)
        verdicts.append(verdict("SQLite", goals.runs))
    if args.skip_postgres:
        print("PostgreSQL: skipped (--skip-postgres)", flush=True)
    else:
        where = make_url(args.pg_url).render_as_string(hide_password=True)
        name = f"PostgreSQL ({where})"
        goals = bench_store(
            name, postgres_target(args.pg_url), lines, args.single_save_sample, args.seed
        )
        stores.append(goals)
        verdicts.append(verdict("PostgreSQL", goals.runs))
    kafka_rows: list[tuple[str, ...]] = []
    if args.kafka:
        from tools import bench_kafka

        print("Kafka: goals 2 and 6 (tools.bench_kafka) ...", file=sys.stderr, flush=True)
        kafka_args = ["--members", str(args.members), "--seed", str(args.seed)]
        kafka = bench_kafka.measure(
            bench_kafka.arguments().parse_args([*kafka_args, "--pg-url", args.pg_url])
        )
        print()
        print(kafka.report, flush=True)
        kafka_rows = kafka.goal_rows()
    print()
    for line in verdicts:
        print(line)
    print()
    print(goals_table(stores, kafka_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
