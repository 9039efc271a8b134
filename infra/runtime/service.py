"""`ledighed run`: consumers, projections, the publisher and the daily tick in one process."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import make_url

from consumers.inbound import Backoff, InboundConsumer
from consumers.records import InboundRecord
from infra import bootstrap as compose
from infra.application import Ledighed, Report
from infra.clock import Clock
from infra.failures import describe
from infra.settings import Settings

log = logging.getLogger("ledighed.service")

# Records waiting with nothing applied for this long (or no partition assigned) is a stall
# that /health reports; longer than any batch a healthy service takes, retries included.
STALL_AFTER_S = 60.0

"""How long the service waits for the brokers when it starts (kafka-python waits 30 s):
an address with no broker behind it is a mistake to say at once."""


@dataclass
class StoreSink:
    """The consumer's sink: the application's batch path, with the partitions' next offsets."""

    ledighed: Ledighed
    settings: Settings
    totals: Report = field(default_factory=Report)
    retrying: bool = False

    def apply(self, records: Sequence[InboundRecord], offsets: dict[tuple[str, int], int]) -> None:
        if self.retrying:
            # A failed attempt may have saved some records one at a time (a batch isolating
            # a fault, infra/ingest.py) with their offsets: apply only those after them.
            saved = self.ledighed.stored_offsets(
                self.settings.kafka_group, {(r.topic, r.partition or 0) for r in records}
            )
            records = [
                r for r in records if (r.offset or 0) >= saved.get((r.topic, r.partition or 0), 0)
            ]
        self.retrying = True
        report = self.ledighed.apply_consumed(records, offsets, self.settings.kafka_group)
        self.retrying = False
        self.totals.add(report)
        if report.programme_ended:
            log.info(
                "tick for the batch's cases",
                extra={
                    "on": self.ledighed.clock.today().isoformat(),
                    "exits": report.programme_ended,
                },
            )

    def positions(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        # Called on every assignment. While this instance did not own a partition, another
        # one may have changed its members (say, opened a new case); a cached member would
        # still send the next message to the old case, and nothing conflicts when no write
        # touches the stale member. So resume from the store's state, as from its offsets.
        return self.ledighed.resume(self.settings.kafka_group, partitions)


@dataclass
class FollowUp:
    """One follow-up step with a back-off of its own that postpones it, never sleeps."""

    name: str
    run: Callable[[], Any]
    due_at: float = 0.0
    backoff: Backoff = field(init=False)

    def __post_init__(self) -> None:
        self.backoff = Backoff(sleep=self._postpone)

    def _postpone(self, seconds: float) -> None:
        self.due_at = time.monotonic() + seconds

    def attempt(self) -> None:
        if time.monotonic() < self.due_at:
            return
        try:
            self.run()
        except Exception as error:  # no traceback: it could show SQL with CPR numbers bound
            log.warning(
                "follow-up step failed, trying again later",
                extra={
                    "step": self.name,
                    "error": describe(error),
                    "retry_in_s": self.backoff.wait(),
                },
            )
        else:
            self.backoff.reset()


class Service:
    """The running service; `run()` returns when `stop()` was called (SIGTERM/SIGINT)."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        report_every_s: float = 5.0,
        clock: Clock | None = None,
        stall_after_s: float = STALL_AFTER_S,
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.report_every_s = report_every_s
        self.stall_after_s = stall_after_s
        # When the service last made progress (applied a record, or had none waiting), and
        # whether it is in a retry's back-off now: /health says when it is stuck.
        self.started_at = self.progress_at = time.monotonic()
        self.backing_off = False
        self.stopping = threading.Event()
        self.ledighed = compose.application(settings, at=clock)
        self.clock = self.ledighed.clock
        self.sink = StoreSink(self.ledighed, settings)
        self.consumer = InboundConsumer(
            compose.kafka_consumer(settings, bootstrap),
            self.sink,
            settings.inbound_topics,
            settings.batch_size,
            backoff=Backoff(sleep=self._pause),
            should_stop=self.stopping.is_set,
        )
        self.publisher = compose.publisher(settings, bootstrap, self.ledighed)
        # Each follow-up step fails on its own: one that fails waits its own back-off, while
        # the others and the consumption go on (a DLQ the broker refuses never stops R16).
        self.follow_ups = [
            FollowUp("catch-up", self.catch_up),
            FollowUp("publish handovers", lambda: self.publisher.publish_handovers(500)),
            FollowUp("publish dead letters", lambda: self.publisher.publish_dead_letters(500)),
            FollowUp("daily tick", self.daily_tick),
        ]
        self.last_tick: date | None = None
        # The latest progress numbers, for the HTTP API's /health and /metrics (another thread).
        self.status: dict[str, Any] = {}

    def stop(self, *_: Any) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> None:
        db = make_url(self.ledighed.store_url()).render_as_string(hide_password=True)
        log.info("service started", extra={"kafka": self.bootstrap, "db": db})
        last_report = time.monotonic()
        applied_at_report = 0
        try:
            while not self.stopping.is_set():
                self.consumer.poll_once(timeout_ms=500)
                self.backing_off = False
                self.follow_up()
                now = time.monotonic()
                if now - last_report >= self.report_every_s:
                    rate = (self.consumer.applied - applied_at_report) / (now - last_report)
                    self.report(rate)
                    last_report, applied_at_report = now, self.consumer.applied
        finally:
            self.close()
        log.info("service stopped", extra={"applied": self.consumer.applied})

    def follow_up(self) -> None:
        """Projections, publisher and tick after each batch, each on its own. They resume
        from what the store says, so a step that fails (the database or the broker away, a
        record the broker refuses) is logged and tried again after its own back-off, never
        holding up the other steps nor the consumer, which goes on retrying its own way."""
        for step in self.follow_ups:
            step.attempt()

    def _pause(self, seconds: float) -> None:
        """A back-off's sleep that a stop cuts short."""
        self.backing_off = True
        self.stopping.wait(seconds)

    def catch_up(self) -> None:
        """Projections follow the log (the handover projection fills the outbox)."""
        self.ledighed.catch_up()

    def unpublished_handovers(self, limit: int) -> list[dict[str, Any]]:
        """The outbox: feed messages not yet acknowledged by the broker, in feed order."""
        return self.ledighed.unpublished_handovers(limit)

    def daily_tick(self) -> None:
        """R16 once a day: at start and whenever the date changes."""
        today = self.clock.today()
        if self.last_tick == today:
            return
        # Dead letters of no known member stay readable for the retention, then expire.
        result = self.ledighed.tick(today)
        self.last_tick = today
        if result.exits:
            log.info("tick", extra={"on": today.isoformat(), **result.as_dict()})

    def report(self, rate: float) -> None:
        lag = self.consumer.lag()
        if rate > 0 or lag == 0:
            self.progress_at = time.monotonic()
        self.status = {
            # None (left out of /metrics) when the broker did not say; never a number.
            "consumer_lag": lag if lag >= 0 else None,
            "partitions_assigned": self.consumer.assigned(),
            "records_per_s": round(rate, 1),
            "applied": self.consumer.applied,
            "accepted": self.sink.totals.accepted,
            "duplicates": self.sink.totals.duplicates,
            "rejected": len(self.sink.totals.rejected),
            "events": self.sink.totals.events,
            "handovers_published": self.publisher.handovers_published,
            "handovers_refused": self.ledighed.handovers_refused,
            "dead_letters_published": self.publisher.dead_letters_published,
        }
        log.info("progress", extra=self.status)

    def live_status(self) -> dict[str, Any]:
        """The latest progress numbers and, when the service is stuck, `problem`: records
        wait (or a batch is in a retry's back-off) and nothing was applied for
        `stall_after_s`, or no partition has been assigned for that long. Read by /health
        from another thread, so only from fields the loop sets whole."""
        status = dict(self.status)
        now = time.monotonic()
        idle_s = now - self.progress_at
        waiting = self.backing_off or (status.get("consumer_lag") or 0) > 0
        if waiting and idle_s > self.stall_after_s:
            status["problem"] = (
                f"stalled: records wait and nothing was applied for {idle_s:.0f} s"
                " (the log says why: the store or the broker away, a batch retried)"
            )
        elif status.get("partitions_assigned", 0) == 0 and now - self.started_at > (
            self.stall_after_s
        ):
            status["problem"] = (
                f"unassigned: no inbound partition assigned after {now - self.started_at:.0f} s"
                " (the group may have more members than partitions, or cannot be joined)"
            )
        return status

    def close(self) -> None:
        try:
            self.publisher.publish()
        except Exception as error:  # no traceback: it could show SQL with CPR numbers bound
            log.warning(
                "final publish failed; the outbox keeps the rest",
                extra={"error": describe(error)},
            )
        self.consumer.close()
        self.publisher.producer.close(timeout=5)
        self.ledighed.close()
