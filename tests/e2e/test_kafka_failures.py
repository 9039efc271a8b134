"""The service under failure: a killed process, rule-breaking records, a frozen broker, dropped
database connections, two instances in one group, a rebalance in the middle of a stream and
partitions that come back to an instance after another one applied their messages.

Every test runs the real service (`ledighed run` as a process, or `Service` in a thread)
against the session's local broker, with topics and a consumer group of its own. A member's
messages all go to one topic (key = CPR: one partition), so their order is fixed; the members
are spread over the five inbound topics (a consumer accepts any type on any topic).

Today is after 2023-12-31, so the service's daily tick (R16) ends every case still in the
trial when a service starts. Where a test compares outcomes, it starts its services and waits
for their first tick before it produces anything, so that the tick finds no case.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from infra.reads import case_dicts, handovers
from infra.runtime.service import Service
from infra.settings import Settings
from infra.store.store import Store
from tests.kafka_helpers import (
    LogCounter,
    ServiceThreads,
    counting_log,
    hours,
    produce,
    produce_all,
    read_topic,
    read_until,
    registration,
    wait_for,
)

pytestmark = pytest.mark.kafka

LEDIGHED = Path(sys.executable).with_name("ledighed")
AS_OF = date(2021, 12, 31)

Stream = list[tuple[str, dict[str, Any]]]
"""(topic, message) pairs in the order they are produced."""


# --- input ------------------------------------------------------------------------------------


def cpr_of(i: int) -> str:
    """Member i's CPR: born 1985-01-01 (the 7th digit 1: the 1900s)."""
    return f"0101851{i:03d}"


def message(tag: str, i: int, name: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"message_id": f"{tag}-{i}-{name}", "type": type_, "cpr": cpr_of(i), **fields}


def member_start(tag: str, i: int, reach_threshold: bool) -> list[dict[str, Any]]:
    """A registration on 2021-03-01, an adviser, a booked and held cv_and_job meeting, a
    profile, and hours: 410.00 by May (exit 2021-05-31, R8) or 200.00 (still in the trial)."""
    cpr = cpr_of(i)
    paid = [("2021-03", 160.33), ("2021-04", 160.33), ("2021-05", 89.34)]
    return [
        registration(f"{tag}-{i}-reg", cpr),
        message(
            tag, i, "adv", "adviser_assigned", adviser=f"adv-{i % 3}", assigned_on="2021-03-02"
        ),
        message(tag, i, "book", "meeting_booked", kind="cv_and_job", on="2021-03-15"),
        message(tag, i, "held", "meeting_held", kind="cv_and_job", held_on="2021-03-15"),
        message(tag, i, "prof", "profile_assessed", assessed_on="2021-03-12", result="short"),
        *(
            hours(f"{tag}-{i}-h{month}", month, h, cpr)
            for month, h in (paid if reach_threshold else [("2021-03", 100), ("2021-04", 100)])
        ),
    ]


def member_more(tag: str, i: int, reached: bool) -> list[dict[str, Any]]:
    """More for a member: 2 x 160.33 more hours when it had 200 (exit 2021-06-30), or a
    change of a-kasse on 2021-05-10 that moves an exit of 2021-05-31 earlier (a revision)."""
    cpr = cpr_of(i)
    if not reached:
        return [
            hours(f"{tag}-{i}-h2021-05", "2021-05", 160.33, cpr),
            hours(f"{tag}-{i}-h2021-06", "2021-06", 160.33, cpr),
        ]
    return [message(tag, i, "akasse", "akasse_changed", changed_on="2021-05-10")]


def on_topics(settings: Settings, by_member: dict[int, list[dict[str, Any]]]) -> Stream:
    """Each member's messages on one inbound topic (member i on topic i mod 5), interleaved
    round robin between members so that every partition gets a steady stream."""
    topics = settings.inbound_topics
    queues = {i: list(ms) for i, ms in by_member.items()}
    stream: Stream = []
    while any(queues.values()):
        for i, queue in queues.items():
            if queue:
                stream.append((topics[i % len(topics)], queue.pop(0)))
    return stream


def reaches(i: int) -> bool:
    return i % 5 != 0


def expected_exit(i: int, more_applied: bool) -> tuple[str, str] | None:
    """The (reason, effective_on) of member i's live handover, applied in order."""
    if not reaches(i):
        return ("hours_threshold", "2021-06-30") if more_applied else None
    if more_applied:
        return ("changed_akasse", "2021-05-10")
    return ("hours_threshold", "2021-05-31")


def live_handovers(feed: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Per CPR the last handover of the feed (the one not replaced): reason, effective_on."""
    return {h["cpr"]: (h["reason"], h["effective_on"]) for h in feed}


def ids(stream: Stream) -> set[str]:
    return {m["message_id"] for _, m in stream}


# --- the store ----------------------------------------------------------------------------------


@dataclass
class StalledBatch:
    """A batch of the service held inside its transaction (Db.batch_stalled)."""

    conn: Connection
    holder_pid: int
    before: int
    """Messages processed before the batch: what the store must show if it is lost."""

    def drop_connections(self) -> int:
        """Terminate every other connection to the database: the service's, mid-batch."""
        killed = self.conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND pid <> :holder"
            ),
            {"holder": self.holder_pid},
        ).scalar()
        return int(killed or 0)


class Db:
    """Direct reads of the service's PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url, pool_pre_ping=True)

    def scalar(self, sql: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def processed_count(self) -> int:
        """Messages accepted so far (0 until the service has created its tables)."""
        if self.scalar("SELECT to_regclass('ledighed_processed_messages')") is None:
            return 0
        return int(self.scalar("SELECT count(*) FROM ledighed_processed_messages"))

    def processed(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT message_hash FROM ledighed_processed_messages"))
            return [r[0] for r in rows]

    def dead_letters(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM ledighed_dead_letters ORDER BY id"))
            return [dict(r._mapping) for r in rows]

    @contextlib.contextmanager
    def batch_stalled(self, timeout_s: float = 20) -> Iterator[StalledBatch]:
        """Hold the service inside a batch's transaction for the time of the `with` block.

        A lock on the offsets table stalls the next batch at its `DELETE` of the offsets,
        after it inserted its message ids and before its events; the block runs once a
        batch waits there, and the lock goes when it ends.
        """
        with (
            self.engine.connect() as holder,
            self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other,
        ):
            holder.execute(text("LOCK TABLE ledighed_source_offsets IN ACCESS EXCLUSIVE MODE"))
            stalled = StalledBatch(
                other, holder.execute(text("SELECT pg_backend_pid()")).scalar_one(), 0
            )
            stalled.before = self.processed_count()
            deadline = time.monotonic() + timeout_s
            while not other.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' "
                    "AND query LIKE 'DELETE FROM ledighed_source_offsets%'"
                )
            ).scalar():
                if time.monotonic() > deadline:
                    pytest.fail(f"no batch reached its offsets within {timeout_s:g} s")
                time.sleep(0.005)
            yield stalled
            holder.rollback()

    def close(self) -> None:
        self.engine.dispose()


def assert_applied_exactly_once(db: Db, good: set[str]) -> None:
    """Every good message processed once, and every event stored once: per aggregate the
    versions are 1..n, and no aggregate has two events of one type from one message.
    Read through the store: message ids are kept as keyed hashes, and sealed in events."""
    processed = db.processed()
    store = Store(db.url)
    try:
        assert len(processed) == len(set(processed)) == len(good)
        assert set(processed) == {store.secrets.message_hash(m) for m in good}
        versions: dict[Any, list[int]] = defaultdict(list)
        per_source: Counter[tuple[Any, str, str]] = Counter()
        sources: set[str] = set()
        for _, event in store.notifications():
            originator, version = event.originator_id, event.originator_version
            versions[originator].append(version)
            source = getattr(event, "source", None) or {}
            message_id = str(source.get("message_id"))
            per_source[(originator, type(event).__qualname__, message_id)] += 1
            sources.add(message_id)
    finally:
        store.close()
    gaps = {o: sorted(v) for o, v in versions.items() if sorted(v) != list(range(1, len(v) + 1))}
    assert not gaps, f"aggregates whose versions are not 1..n: {gaps}"
    twice = [key for key, n in per_source.items() if n > 1]
    assert not twice, f"events stored twice: {twice[:5]}"
    assert good <= sources, f"messages without events: {sorted(good - sources)[:5]}"


def feed_of(db_url: str) -> list[dict[str, Any]]:
    """`ledighed handovers`' list, read in process."""
    store = Store(db_url)
    try:
        return handovers(store)
    finally:
        store.close()


def assert_feed_on_topic(
    bootstrap: str, topic: str, feed: list[dict[str, Any]], timeout_s: float = 30
) -> list[Any]:
    """Every feed message reaches the topic, as in the feed, keyed by its case; per case the
    first delivery of each message comes in feed order (n = 1, 2, ...); repeats allowed."""
    by_id = {h["message_id"]: h for h in feed}

    def delivered(records: list[Any]) -> bool:
        return set(by_id) <= {json.loads(r.value)["message_id"] for r in records}

    records = read_until(bootstrap, topic, delivered, timeout_s)
    published = [json.loads(r.value) for r in records]
    missing = set(by_id) - {p["message_id"] for p in published}
    assert not missing, f"{len(missing)} of {len(by_id)} feed messages not on {topic}"
    assert {p["message_id"] for p in published} == set(by_id)
    firsts: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    seen: set[str] = set()
    for record, handover in zip(records, published, strict=True):
        assert handover == by_id[handover["message_id"]]
        assert record.key == handover["case_id"].encode()
        partitions[handover["case_id"]].add(record.partition)
        if handover["message_id"] not in seen:
            seen.add(handover["message_id"])
            firsts[handover["case_id"]].append(int(handover["message_id"].rsplit(":", 1)[1]))
    assert all(len(p) == 1 for p in partitions.values())
    out_of_order = {c: ns for c, ns in firsts.items() if ns != list(range(1, len(ns) + 1))}
    assert not out_of_order, f"handovers out of order per case: {out_of_order}"
    return records


def wait_processed(db: Db, count: int, timeout_s: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert alive(), "the service stopped"
        if db.processed_count() >= count:
            return
        time.sleep(0.2)
    pytest.fail(f"after {timeout_s:g} s only {db.processed_count()} of {count} processed")


def mid_stream(db: Db, total: int, timeout_s: float = 30) -> int:
    """Return as soon as some but not all of `total` messages are in the store."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = db.processed_count()
        if 0 < done < total:
            return done
        assert done < total, "the stream was applied before the test could step in"
        time.sleep(0.005)
    pytest.fail(f"nothing applied within {timeout_s:g} s")


Warnings = LogCounter


@pytest.fixture
def service_warnings() -> Iterator[Warnings]:
    """The service's warnings (logger `ledighed` and below), by message."""
    with counting_log(logging.WARNING) as handler:
        yield handler


def start_ready(services: ServiceThreads, settings: Settings) -> Service:
    """Start a service and return once it has partitions and ran its first daily tick."""
    service = services.start(settings)
    wait_for(
        lambda: service.last_tick is not None and bool(service.consumer.consumer.assignment()),
        timeout_s=30,
        what="the service to join its group and tick",
    )
    return service


# --- 1. kill -9 in the middle of a batch ----------------------------------------------------------


def _service_env(settings: Settings, batch_size: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDIGHED_")}
    env.update(
        LEDIGHED_TOPIC_MEMBERS=settings.topic_members,
        LEDIGHED_TOPIC_PAYMENTS=settings.topic_payments,
        LEDIGHED_TOPIC_ADDRESSES=settings.topic_addresses,
        LEDIGHED_TOPIC_JOBNET=settings.topic_jobnet,
        LEDIGHED_TOPIC_ADVISER=settings.topic_adviser,
        LEDIGHED_TOPIC_HANDOVERS=settings.topic_handovers,
        LEDIGHED_KAFKA_GROUP=settings.kafka_group,
        LEDIGHED_KAFKA_MAX_POLL_INTERVAL_MS="6000",
        LEDIGHED_KAFKA_SESSION_TIMEOUT_MS="6000",
        LEDIGHED_BATCH_SIZE=str(batch_size),
    )
    if settings.today is not None:
        env["LEDIGHED_TODAY"] = settings.today.isoformat()
    return env


class ServiceProcess:
    """`ledighed run` as a child process, its log in a file."""

    def __init__(self, settings: Settings, db_url: str, log: Path, batch_size: int) -> None:
        self.argv = [
            str(LEDIGHED),
            "run",
            "--kafka",
            settings.kafka_bootstrap or "",
            "--db",
            db_url,
        ]
        self.env = _service_env(settings, batch_size)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout_s: float = 30) -> int:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)

    def cleanup(self) -> None:
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def wait(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Return once `condition()` holds; fail (with the log) if the service ends first."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if not self.alive() or time.monotonic() > deadline:
                state = "ended" if not self.alive() else f"after {timeout_s:g} s"
                pytest.fail(f"no {what}: the service {state}; its log:\n{self.log_tail(40)}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.postgres
def test_kill_9_mid_batch_then_restart_applies_every_message_once_and_publishes_the_feed(
    kafka_settings: Settings, fresh_postgres_url: str, tmp_path: Path
) -> None:
    settings = kafka_settings
    first = on_topics(settings, {i: member_start("k", i, reaches(i)) for i in range(50)})
    more = on_topics(
        settings,
        {
            **{i: member_more("k", i, reaches(i)) for i in range(50) if i % 5 in (0, 1)},
            **{i: member_start("k", i, reaches(i)) for i in range(50, 60)},
        },
    )
    good = ids(first) | ids(more)
    assert len(good) == len(first) + len(more) > 400
    db = Db(fresh_postgres_url)
    service = ServiceProcess(settings, fresh_postgres_url, tmp_path / "service.log", 50)
    try:
        produce_all(settings.kafka_bootstrap or "", first)
        service.start()
        # Once a batch is in the store, kill the service inside the next batch's transaction.
        service.wait(lambda: db.processed_count() > 0, 60, "the first batch")
        with db.batch_stalled() as batch:
            service.kill()
        assert 0 < batch.before < len(first), "killed too late to test anything"
        assert db.processed_count() == batch.before  # the batch in hand left nothing

        produce_all(settings.kafka_bootstrap or "", more)
        service.start()
        service.wait(lambda: db.processed_count() >= len(good), 90, "end of the stream")
        feed = json.loads(
            subprocess.run(
                [str(LEDIGHED), "handovers", "--json", "--db", fresh_postgres_url],
                check=True,
                capture_output=True,
                timeout=60,
            ).stdout
        )
        assert_feed_on_topic(settings.kafka_bootstrap or "", settings.topic_handovers, feed)
        assert service.terminate() == 0, service.log_tail()
    finally:
        service.cleanup()
    assert_applied_exactly_once(db, good)
    assert db.dead_letters() == []
    # Each member's live handover is the in-order one. Members at 200 hours when the restarted
    # service ticked ended by R16 first; their June hours then revised that exit.
    live = live_handovers(feed)
    for i in range(60):
        expected = expected_exit(i, more_applied=i < 50 and i % 5 in (0, 1))
        got = live.get(cpr_of(i))
        if expected is None:
            assert got in (None, ("programme_ended", "2023-12-31")), (i, got)
        else:
            assert got == expected, (i, got)
    db.close()


# --- 2. a record that breaks a rule -------------------------------------------------------------


def test_a_valid_record_that_breaks_a_rule_goes_to_the_dlq_and_later_records_apply(
    kafka_settings: Settings, services: ServiceThreads, tmp_path: Path
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/dlq.db"})
    cpr = cpr_of(7)
    # Valid JSON, each breaking a rule: a month above 160.33 hours (R8, refused as it is read),
    # March's total passing 160.33 (R8, refused by the case) and a meeting reported held
    # twice (R4). A booking before S would not do: with no case open on its day it is kept
    # in the member's record (CONTRACT.md); nor would a holiday decision before its request:
    # it is parked until the request arrives.
    breaking = [
        hours("r-2", "2021-03", 160.34, cpr),
        hours("r-4", "2021-03", 0.01, cpr),
        message("r", 7, "again", "meeting_held", kind="cv_and_job", held_on="2021-03-12"),
    ]
    good = [
        registration("r-1", cpr),
        hours("r-3", "2021-03", 160.33, cpr),
        message("r", 7, "held", "meeting_held", kind="cv_and_job", held_on="2021-03-10"),
        hours("r-5", "2021-04", 150, cpr),
    ]
    topic = settings.topic_payments  # any type on any topic: one partition, in this order
    produce(
        settings,
        topic,
        [good[0], breaking[0], good[1], breaking[1], good[2], breaking[2], good[3]],
    )
    service = services.start(settings)
    dead = read_topic(settings, f"{topic}.dlq", 3)
    wait_for(lambda: service.sink.totals.accepted == 4, what="the four good records")

    assert [json.loads(d.value) for d in dead] == breaking  # unchanged, in order
    assert {d.key for d in dead} == {cpr.encode()}  # the original key (the member's CPR)
    headers = [dict(d.headers) for d in dead]
    assert [h["error_field"] for h in headers] == [b"hours", b"hours", b"kind"]
    assert b"more than 160.33 hours" in headers[0]["error"]
    assert headers[1]["error"].startswith(b"R8: hours for 2021-03 would total 160.34")
    assert headers[2]["error"].startswith(b"R4: cv_and_job was already held on 2021-03-10")
    assert {h["source_topic"] for h in headers} == {topic.encode()}
    assert len({h["source_partition"] for h in headers}) == 1
    assert [int(h["source_offset"]) for h in headers] == [1, 3, 5]
    # The records after the refused ones, on the same partition, were applied.
    (case,) = case_dicts(service.ledighed.store, cpr, AS_OF, settings.rule_settings())
    assert case["hours_paid"] == 310.33
    assert [(m["kind"], m["held_on"]) for m in case["meetings"] if m["held_on"]] == [
        ("cv_and_job", "2021-03-10")
    ]
    assert len(service.ledighed.store.dead_letters()) == 3
    assert services.errors == []


# --- 3. the broker stops answering ---------------------------------------------------------------


@pytest.mark.postgres
def test_a_frozen_broker_is_waited_out_and_everything_is_applied_and_published(
    kafka_broker: Any,
    kafka_settings: Settings,
    fresh_postgres_url: str,
    services: ServiceThreads,
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": fresh_postgres_url, "batch_size": 50})
    before = on_topics(settings, {i: member_start("b", i, reaches(i)) for i in range(30)})
    after = on_topics(
        settings,
        {
            **{i: member_more("b", i, reaches(i)) for i in range(30) if i % 5 in (0, 1)},
            **{i: member_start("b", i, reaches(i)) for i in range(30, 40)},
        },
    )
    good = ids(before) | ids(after)
    db = Db(fresh_postgres_url)
    start_ready(services, settings)
    produce_all(settings.kafka_bootstrap or "", before)
    mid_stream(db, len(before))
    # Frozen while it applies the stream and publishes its first handovers.
    kafka_broker.pause()
    try:
        paused_at = time.monotonic()
        while time.monotonic() - paused_at < 8:
            assert services.alive(), f"the service crashed: {services.errors}"
            time.sleep(0.25)
    finally:
        kafka_broker.resume()
    assert services.alive(), f"the service crashed: {services.errors}"
    produce_all(settings.kafka_bootstrap or "", after)
    wait_processed(db, len(good), 60, services.alive)
    assert_applied_exactly_once(db, good)
    assert db.dead_letters() == []
    assert_feed_on_topic(settings.kafka_bootstrap or "", settings.topic_handovers, feed_of(db.url))
    assert services.errors == []
    db.close()


# --- 4. PostgreSQL drops the service's connections ------------------------------------------------


@pytest.mark.postgres
def test_dropped_database_connections_mid_batch_skip_nothing(
    kafka_settings: Settings,
    fresh_postgres_url: str,
    services: ServiceThreads,
    service_warnings: Warnings,
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": fresh_postgres_url, "batch_size": 40})
    stream = on_topics(
        settings,
        {i: member_start("d", i, reaches(i)) + member_more("d", i, reaches(i)) for i in range(60)},
    )
    good = ids(stream)
    db = Db(fresh_postgres_url)
    start_ready(services, settings)
    produce_all(settings.kafka_bootstrap or "", stream)
    for _ in range(3):
        with db.batch_stalled() as batch:
            assert batch.drop_connections() > 0
        before = batch.before
        assert before < len(good), "the stream was applied before the test could step in"
        # Nothing of the dropped batch was saved; tried again, it is.
        assert db.processed_count() == before
        wait_for(
            lambda before=before: db.processed_count() > before,
            what="the dropped batch, tried again",
        )
    assert service_warnings.seen["batch failed, retrying"] >= 3, service_warnings.seen
    wait_processed(db, len(good), 60, services.alive)
    assert_applied_exactly_once(db, good)
    assert db.dead_letters() == []
    assert_feed_on_topic(settings.kafka_bootstrap or "", settings.topic_handovers, feed_of(db.url))
    assert services.alive() and services.errors == []
    db.close()


# --- 5. two instances in one group ---------------------------------------------------------------


@pytest.fixture
def second_postgres_url() -> Iterator[str]:
    """A second fresh database for the same test (see tests/conftest.py)."""
    from tests.conftest import _create_database, _database_url, _drop_database

    admin, name = _create_database()
    try:
        yield _database_url(admin, name)
    finally:
        _drop_database(admin, name)


def outcome(db_url: str, cprs: list[str]) -> dict[str, Any]:
    """Per CPR: the handover feed without case ids, and the case as of 2021-12-31 without its id."""
    store = Store(db_url)
    try:
        feed: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for h in handovers(store):
            feed[h["cpr"]].append(
                (h["type"], h["reason"], h["effective_on"], h["held"], h["jobcenter_must"])
            )
        cases = {}
        for cpr in cprs:
            (case,) = case_dicts(store, cpr, AS_OF, Settings().rule_settings())
            cases[cpr] = {k: v for k, v in case.items() if k != "case_id"}
        return {"handovers": dict(feed), "cases": cases}
    finally:
        store.close()


@pytest.mark.postgres
def test_two_instances_in_one_group_share_the_partitions_and_end_as_one_instance_would(
    kafka_settings: Settings,
    fresh_postgres_url: str,
    second_postgres_url: str,
    services: ServiceThreads,
) -> None:
    from infra.kafka.broker import ensure_topics

    pair = kafka_settings.model_copy(update={"db_url": fresh_postgres_url, "batch_size": 30})
    members = range(60)
    stream = on_topics(
        pair,
        {i: member_start("t", i, reaches(i)) + member_more("t", i, reaches(i)) for i in members},
    )
    good = ids(stream)
    a = services.start(pair)
    b = services.start(pair)

    def shared() -> bool:
        mine = [s.consumer.consumer.assignment() for s in (a, b)]
        return (
            all(s.last_tick is not None for s in (a, b))
            and all(mine)
            and not (mine[0] & mine[1])
            and len(mine[0] | mine[1]) == 15
        )

    wait_for(shared, timeout_s=40, what="both instances to share the 15 partitions")
    produce_all(pair.kafka_bootstrap or "", stream)
    db = Db(fresh_postgres_url)
    wait_processed(db, len(good), 60, services.alive)
    # The counters move after the batch's commit to Kafka, a moment after the store's.
    wait_for(
        lambda: a.consumer.applied + b.consumer.applied == len(stream),
        what="both instances' counters",
    )
    assert a.consumer.applied > 0 and b.consumer.applied > 0
    assert_applied_exactly_once(db, good)
    assert db.dead_letters() == []
    pair_feed = feed_of(fresh_postgres_url)
    assert_feed_on_topic(pair.kafka_bootstrap or "", pair.topic_handovers, pair_feed)

    # The same input read by one instance of another group into another database.
    single = pair.model_copy(
        update={
            "db_url": second_postgres_url,
            "kafka_group": pair.kafka_group + "-single",
            "topic_handovers": pair.topic_handovers + "-single",
        }
    )
    ensure_topics(single.kafka_bootstrap or "", {single.topic_handovers: 3})
    one = services.start(single)
    single_db = Db(second_postgres_url)
    wait_processed(single_db, len(good), 60, services.alive)
    wait_for(lambda: one.consumer.applied == len(stream), what="the single instance's counter")
    cprs = [cpr_of(i) for i in members]
    assert outcome(fresh_postgres_url, cprs) == outcome(second_postgres_url, cprs)
    assert len(pair_feed) == 48 + 48 + 12  # by May, their revisions, in June
    db.close()
    single_db.close()


# --- 6. one member's order across a rebalance ---------------------------------------------------


def ordered_member(tag: str, i: int) -> list[dict[str, Any]]:
    """A member whose messages only work in order: a short-notice holiday request by message
    (pending, R14) and then its approval, which needs the pending request; and two payments
    for March that only fit under 160.33 if each counts once."""
    cpr = cpr_of(i)
    return [
        registration(f"{tag}-{i}-reg", cpr),
        message(
            tag,
            i,
            "hol",
            "holiday_requested",
            request_id=f"hol-{i}",
            requested_on="2021-04-01",
            first_day="2021-04-06",
            last_day="2021-04-09",
            channel="message",
        ),
        hours(f"{tag}-{i}-h1", "2021-03", 100, cpr),
        message(
            tag,
            i,
            "dec",
            "holiday_decided",
            request_id=f"hol-{i}",
            decided_on="2021-04-02",
            approved=True,
        ),
        hours(f"{tag}-{i}-h2", "2021-03", 60.33, cpr),
    ]


@pytest.mark.postgres
def test_a_members_messages_keep_their_order_while_a_second_instance_joins(
    kafka_settings: Settings, fresh_postgres_url: str, services: ServiceThreads
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": fresh_postgres_url, "batch_size": 10})
    members = range(45)
    by_member = {i: ordered_member("o", i) for i in members}
    halves = [
        on_topics(settings, {i: ms[:2] for i, ms in by_member.items()}),
        on_topics(settings, {i: ms[2:] for i, ms in by_member.items()}),
    ]
    good = ids(halves[0]) | ids(halves[1])
    db = Db(fresh_postgres_url)
    a = start_ready(services, settings)
    alone = set(a.consumer.consumer.assignment())
    produce_all(settings.kafka_bootstrap or "", halves[0])
    # The first instance applies every registration and holiday request ...
    wait_for(lambda: db.processed_count() == len(halves[0]), what="the first half")
    # ... and the second joins while the rest comes: a rebalance in the middle of the stream.
    b = services.start(settings)
    # The rest in order, a chunk every 0.5 s: before, during and after the rebalance.
    rest = halves[1]
    chunk = len(rest) // 10 + 1
    for start in range(0, len(rest), chunk):
        produce_all(settings.kafka_bootstrap or "", rest[start : start + chunk])
        time.sleep(0.5)
    wait_for(lambda: bool(b.consumer.consumer.assignment()), timeout_s=30, what="the rebalance")
    wait_processed(db, len(good), 60, services.alive)

    # Partitions moved from the first instance to the second, which applied the rest of the
    # messages of their members: decisions on requests that the first instance had applied.
    assert len(alone) == 15 and set(a.consumer.consumer.assignment()) < alone
    assert b.consumer.applied > 0
    assert db.dead_letters() == []
    assert_applied_exactly_once(db, good)
    store = Store(fresh_postgres_url)
    try:
        for i in members:
            (case,) = case_dicts(store, cpr_of(i), AS_OF, settings.rule_settings())
            assert case["hours_paid"] == 160.33
            assert [(h["request_id"], h["status"]) for h in case["holidays"]] == [
                (f"hol-{i}", "approved")
            ]
    finally:
        store.close()
    assert services.errors == []
    db.close()


def test_a_partition_that_comes_back_is_applied_from_the_store_not_from_a_stale_cache(
    kafka_settings: Settings, tmp_path: Path, services: ServiceThreads
) -> None:
    """While a second instance owned some partitions, it opened new cases for their members;
    when it leaves, the first instance gets them back and must see those cases (its cache
    still holds the members as they were before)."""
    settings = kafka_settings.model_copy(
        update={"db_url": f"sqlite:///{tmp_path}/bounce.db", "batch_size": 20}
    )
    members = range(45)

    def phase(name: str, make: Callable[[int, str], dict[str, Any]]) -> Stream:
        return on_topics(settings, {i: [make(i, f"bounce-{i}-{name}")] for i in members})

    ended = on_topics(
        settings,
        {
            i: [
                registration(f"bounce-{i}-reg", cpr_of(i)),
                message("bounce", i, "dereg", "deregistered", deregistered_on="2021-04-01"),
            ]
            for i in members
        },
    )
    again = phase("reg2", lambda i, m: registration(m, cpr_of(i), registered_on="2021-06-01"))
    paid = phase("h7", lambda i, m: hours(m, "2021-07", 100, cpr_of(i)))
    bootstrap = settings.kafka_bootstrap or ""

    a = start_ready(services, settings)
    produce_all(bootstrap, ended)
    wait_for(lambda: a.consumer.applied == len(ended), what="the first cases, ended")
    b = start_ready(services, settings)
    wait_for(lambda: len(a.consumer.consumer.assignment()) < 15, what="the rebalance")
    produce_all(bootstrap, again)  # the second instance opens the new cases of its members
    wait_for(
        lambda: a.consumer.applied + b.consumer.applied == len(ended) + len(again),
        what="the new cases",
    )
    assert b.consumer.applied > 0
    services.stop(b)
    wait_for(lambda: len(a.consumer.consumer.assignment()) == 15, what="the partitions back")
    produce_all(bootstrap, paid)
    total = len(ended) + len(again) + len(paid)
    wait_for(lambda: a.consumer.applied + b.consumer.applied == total, what="the payments")

    store = Store(settings.db_url)
    try:
        hours_by_case = {
            cpr_of(i): [
                c["hours_paid"]
                for c in case_dicts(store, cpr_of(i), AS_OF, Settings().rule_settings())
            ]
            for i in members
        }
    finally:
        store.close()
    misplaced = {cpr: h for cpr, h in hours_by_case.items() if h != [0, 100]}
    assert not misplaced, f"July's hours not on the member's new case: {misplaced}"
    assert services.errors == []


# --- 7. a member dropped from its group in the middle of a batch -------------------------------


class Lines(logging.Handler):
    """The service's log lines of every level (logger `ledighed` and below), by message."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[record.getMessage()] += 1


def committed_in_kafka(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The group's committed offsets as a lag tool reads them: librdkafka's admin client."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    (future,) = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
    listed = future.result(timeout=30)
    return {(tp.topic, tp.partition): tp.offset for tp in listed.topic_partitions if tp.offset >= 0}


def stored_in(db: Db, group: str) -> dict[tuple[str, int], int]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT topic, partition, next_offset FROM ledighed_source_offsets "
                "WHERE consumer_group = :group"
            ),
            {"group": group},
        )
        return {(t, p): n for t, p, n in rows}


@pytest.mark.postgres
def test_a_member_dropped_from_its_group_mid_batch_brings_kafkas_offsets_up_to_the_stores(
    kafka_settings: Settings, fresh_postgres_url: str, services: ServiceThreads
) -> None:
    """The batch outlasts max_poll_interval_ms (held at its offsets' lock): the member is
    dropped, the batch is saved, its commit to Kafka fails; once the member is back, Kafka's
    committed offsets equal the store's, with nothing more produced to carry them."""
    settings = kafka_settings.model_copy(update={"db_url": fresh_postgres_url})
    lines = Lines()
    logger = logging.getLogger("ledighed")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    db = Db(fresh_postgres_url)
    try:
        start_ready(services, settings)
        stream = on_topics(settings, {i: member_start("d", i, reaches(i)) for i in range(15)})
        produce_all(settings.kafka_bootstrap or "", stream)
        with db.batch_stalled():
            # Past max_poll_interval_ms, the client leaves the group for this member.
            time.sleep(settings.kafka_max_poll_interval_ms / 1000 + 3)
        wait_processed(db, len(stream), 60, services.alive)
        assert lines.seen["kafka commit failed, tried again after the next poll"] >= 1
        stored = stored_in(db, settings.kafka_group)
        assert sum(stored.values()) == len(stream)
        wait_for(
            lambda: (
                committed_in_kafka(settings.kafka_bootstrap or "", settings.kafka_group) == stored
            ),
            what="Kafka's committed offsets to equal the store's",
        )
        assert services.alive() and services.errors == []
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
        db.close()


# --- 8. /health says when the service is stuck --------------------------------------------------


def test_health_says_when_records_wait_and_nothing_is_applied(
    kafka_settings: Settings,
    tmp_path: Path,
    services: ServiceThreads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 26: /health reported lag 0 while nothing was applied. With the store failing
    (every batch retried with back-off) and records waiting, /health is a 503 `stalled`
    after the stall time, /metrics says so, and both are well again once it applies."""
    import sqlalchemy.exc
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from infra.http.api import create_app

    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/h.db"})
    service = start_ready(services, settings)
    service.stall_after_s = 2.0
    client = TestClient(create_app(settings, service.ledighed, service.live_status))

    def stalled() -> float:
        metrics = text_string_to_metric_families(client.get("/metrics").text)
        (family,) = [f for f in metrics if f.name == "ledighed_service_stalled"]
        return family.samples[0].value

    wait_for(
        lambda: client.get("/health").json()["service"].get("partitions_assigned", 0) > 0,
        what="a report with the partitions",
        timeout_s=30,
    )
    assert client.get("/health").status_code == 200

    def store_away(*_: Any, **__: Any) -> Any:
        raise sqlalchemy.exc.OperationalError("INSERT", {}, ConnectionError("the store is away"))

    monkeypatch.setattr(service.ledighed, "apply_consumed", store_away)
    produce(settings, settings.topic_members, [registration("st-1", "0101901234")])
    wait_for(lambda: client.get("/health").status_code == 503, what="a 503", timeout_s=30)
    body = client.get("/health").json()
    assert body["status"] == "stalled" and body["db"] == "ok"
    assert body["service"]["problem"].startswith("stalled: records wait")
    assert stalled() == 1
    monkeypatch.undo()  # the store is back: the retry applies the waiting record
    wait_for(lambda: client.get("/health").status_code == 200, what="a 200", timeout_s=30)
    assert "problem" not in client.get("/health").json()["service"] and stalled() == 0
    assert service.sink.totals.accepted == 1
    assert services.alive(), services.errors


def test_health_says_when_no_partition_is_assigned(
    kafka_settings: Settings,
    tmp_path: Path,
    services: ServiceThreads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 26: 90 s with no partition assigned looked healthy. A member of the group that
    holds none says so (200: an extra instance is idle, not broken)."""
    from fastapi.testclient import TestClient

    from infra.http.api import create_app

    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/u.db"})
    service = start_ready(services, settings)
    client = TestClient(create_app(settings, service.ledighed, service.live_status))
    assert "problem" not in client.get("/health").json()["service"]
    # The member holds no partition (as in a group with more members than partitions; the
    # client itself is left alone: it is the service thread's): past the stall time, /health
    # says so.
    monkeypatch.setattr(service.consumer, "assigned", lambda: 0)
    service.stall_after_s = 0.5
    wait_for(
        lambda: client.get("/health").json()["service"].get("partitions_assigned") == 0,
        what="no partition",
        timeout_s=30,
    )
    answer = client.get("/health")
    assert answer.status_code == 200 and answer.json()["status"] == "unassigned"
    assert "no inbound partition assigned" in answer.json()["service"]["problem"]
