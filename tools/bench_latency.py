"""Goal 6 of issue 9: how long a record that decides a handover takes to be on the handover
topic, with the records produced at a steady rate to a running `ledighed run`.

The service runs as an operator runs it, a process of its own (`ledighed run` on a fresh
PostgreSQL database and fresh topics). This process produces a demo year, sized to last
`seconds` at `rate`, one record every 1/rate s, noting when each was handed to the
producer, and reads the handover topic as records arrive, noting when each handover
message arrived. Which record decided a handover the store says: the `HandedOver` event's
source (the inbound message it was decided on). A handover's latency is its arrival less
its record's hand-over to the producer; handovers decided by no record (a tick) are
counted apart. Both clocks are this process's `perf_counter`.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from domain.case import Case
from infra import bootstrap as compose
from infra.demo.demo_data import generate_lines
from infra.demo.playback import route
from infra.kafka.broker import default_topics, ensure_topics
from infra.settings import Settings

LINES_PER_MEMBER = 11.7  # a demo year's messages a member (35,100 for 3,000)
START_WAIT_S = 120.0  # for the service to start and be assigned its partitions
DRAIN_WAIT_S = 600.0  # for the service to apply and publish everything produced
AIMS_MS = {500: 100.0, 2000: 1000.0}  # goal 6: p99 at these steady rates
SERVICE_FIELDS = (
    "topic_members",
    "topic_payments",
    "topic_addresses",
    "topic_jobnet",
    "topic_adviser",
    "topic_handovers",
    "kafka_group",
    "kafka_max_poll_interval_ms",
    "kafka_session_timeout_ms",
    "batch_size",
)


@dataclass
class Latency:
    """One steady rate's run: what was asked and done, and the handovers' latencies."""

    rate: float  # records/s asked
    sent_per_s: float  # records/s the producer kept up
    records: int
    handovers: int  # decided by a record and published
    by_tick: int  # decided by no record (not timed)
    p50_ms: float
    p99_ms: float
    max_ms: float
    drain_s: float  # after the last record was produced, until all was published

    @property
    def aim_ms(self) -> float | None:
        return AIMS_MS.get(round(self.rate))

    def line(self) -> str:
        aim = f"; aim p99 ≤ {self.aim_ms:,.0f} ms" if self.aim_ms is not None else ""
        return (
            f"{self.rate:,.0f} records/s asked ({self.sent_per_s:,.0f} kept up), "
            f"{self.records:,} records: {self.handovers:,} handovers decided by a record, "
            f"p50 {self.p50_ms:,.0f} ms, p99 {self.p99_ms:,.0f} ms, max {self.max_ms:,.0f} ms "
            f"({self.by_tick} by a tick, not timed; all published {self.drain_s:.1f} s after "
            f"the last record){aim}"
        )


def members_for(rate: float, seconds: float) -> int:
    """Members whose demo year lasts about `seconds` at `rate` records/s."""
    return max(10, round(rate * seconds / LINES_PER_MEMBER))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (p99 of 50 values is the largest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


class HandoverWatcher:
    """Reads the handover topic from its start on a thread; when each message id arrived."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.arrived: dict[str, float] = {}
        self._stop = threading.Event()
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            client_id="ledighed-bench-latency",
        )
        parts = self._consumer.partitions_for_topic(topic) or set()
        if not parts:
            raise RuntimeError(f"the topic {topic} has no partitions")
        assigned = [TopicPartition(topic, p) for p in sorted(parts)]
        self._consumer.assign(assigned)
        self._consumer.seek_to_beginning(*assigned)
        self._thread = threading.Thread(target=self._run, name="handover-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            polled = self._consumer.poll(timeout_ms=50)
            now = time.perf_counter()
            for records in polled.values():
                for record in records:
                    message_id = json.loads(record.value)["message_id"]
                    self.arrived.setdefault(message_id, now)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._consumer.close(autocommit=False)


class ServiceProcess:
    """`ledighed run` in a process of its own, its settings in the environment."""

    def __init__(self, settings: Settings, url: str, today: str, bootstrap: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
        env.update(
            {f"LEDIGHED_{name.upper()}": str(getattr(settings, name)) for name in SERVICE_FIELDS}
        )
        env.update(
            {
                "LEDIGHED_DB_URL": url,
                "LEDIGHED_KAFKA_BOOTSTRAP": bootstrap,
                "LEDIGHED_TODAY": today,  # the year's start: no R16 before the records say so
            }
        )
        self.assigned = threading.Event()
        self.tail: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, name="service-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.tail = [*self.tail[-20:], line]
            if "partitions assigned" in line:
                self.assigned.set()

    def wait_assigned(self) -> None:
        deadline = time.monotonic() + START_WAIT_S
        while not self.assigned.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the service did not start:\n" + "\n".join(self.tail))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)


def produce_steadily(
    bootstrap: str, settings: Settings, lines: Sequence[str], rate: float
) -> tuple[dict[str, float], dict[tuple[str, int], int], float]:
    """One record every 1/rate s; (message id → when handed to the producer, each
    partition's next offset, seconds it took)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="ledighed-bench-steady"
    )
    sent: dict[str, float] = {}
    futures = []
    try:
        start = time.perf_counter()
        for i, line in enumerate(lines):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            topic, key = route(line, settings)
            message_id = _message_id(line)
            now = time.perf_counter()
            futures.append(producer.send(topic, key=key, value=line.encode()))
            if message_id is not None:
                sent.setdefault(message_id, now)
        seconds = time.perf_counter() - start
        producer.flush(timeout=120)
        ends: dict[tuple[str, int], int] = {}
        for future in futures:
            meta = future.get(timeout=10)
            where = (meta.topic, meta.partition)
            ends[where] = max(ends.get(where, 0), meta.offset + 1)
    finally:
        producer.close(timeout=10)
    return sent, ends, seconds


def _message_id(line: str) -> str | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    message_id = value.get("message_id") if isinstance(value, dict) else None
    return message_id if isinstance(message_id, str) else None


def _decided_by(url: str) -> dict[str, str | None]:
    """Each handover message id → the inbound message id it was decided on (None: a tick)."""
    store = compose.store(url)
    try:
        return {
            event.message_id: (event.source or {}).get("message_id")
            for _, event in store.notifications(Case.HandedOver)  # type: ignore[attr-defined]
        }
    finally:
        store.close()


def measure_latency(
    target: Any, bootstrap: str, settings: Settings, rate: float, seconds: float, seed: int
) -> Latency:
    """One steady rate on fresh topics (`settings`' names) and a fresh database."""
    year = 2021
    lines = generate_lines(seed=seed, members=members_for(rate, seconds), year=year)
    ensure_topics(bootstrap, default_topics(settings))
    with target(f"latency-{rate:g}") as url:
        compose.store(url).close()  # the schema, before the service opens it
        watcher = HandoverWatcher(bootstrap, settings.topic_handovers)
        service = ServiceProcess(settings, url, f"{year}-01-01", bootstrap)
        try:
            service.wait_assigned()
            sent, ends, produce_s = produce_steadily(bootstrap, settings, lines, rate)
            produced_at = time.perf_counter()
            store = compose.store(url)
            try:
                _wait_drained(store, settings.kafka_group, ends, watcher, service)
            finally:
                store.close()
            drain_s = time.perf_counter() - produced_at
        finally:
            service.stop()
            watcher.close()
        decided = _decided_by(url)
    latencies = [
        (watcher.arrived[handover] - sent[source]) * 1000
        for handover, source in decided.items()
        if source is not None and source in sent and handover in watcher.arrived
    ]
    if not latencies:
        raise RuntimeError(f"{rate:g} records/s: no handover was decided by a record")
    return Latency(
        rate=rate,
        sent_per_s=len(lines) / produce_s,
        records=len(lines),
        handovers=len(latencies),
        by_tick=sum(1 for source in decided.values() if source is None),
        p50_ms=statistics.median(latencies),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies),
        drain_s=drain_s,
    )


def _wait_drained(
    store: Any,
    group: str,
    ends: dict[tuple[str, int], int],
    watcher: HandoverWatcher,
    service: ServiceProcess,
) -> None:
    """Until the store has applied every record produced and the watcher has seen every
    handover the store holds."""
    from sqlalchemy import func, select

    from projections.tables import handover_feed

    deadline = time.monotonic() + DRAIN_WAIT_S
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError("the service stopped:\n" + "\n".join(service.tail))
        stored = store.stored_offsets(group, ends)
        if all(stored.get(where, 0) >= end for where, end in ends.items()):
            with store.engine.connect() as conn:
                feed = conn.execute(select(func.count()).select_from(handover_feed)).scalar_one()
            if len(watcher.arrived) >= feed:
                return
        time.sleep(0.2)
    raise RuntimeError(f"not drained after {DRAIN_WAIT_S:g} s:\n" + "\n".join(service.tail))
