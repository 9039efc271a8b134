"""The application: one method per use case, as in the eventsourcing library's examples
(`BankAccounts.deposit_funds`). The entry points (infra/cli.py, infra/http, infra/ui,
infra/runtime, infra/demo) call only these methods, never the store.

It holds the store (`infra/store`: the eventsourcing `Application` on SQLAlchemy, with the
registry and message tables), the settings and the clock, all three handed in by the
composition root (infra/bootstrap.py). The work itself stays in the modules it delegates
to: infra/ingest.py (a batch through parse → CaseService → one unit of work), infra/tick.py,
infra/reads.py and infra/timeline.py (the queries), infra/projections.py (the read models)
and infra/dead_letters.py. What lives here once is the retry on a version conflict: another
writer saved one of the same aggregates (or message ids) meanwhile, and the work is done
again from the stored state.

Longer than the house's ~300 lines on purpose: it is the one list of what the system does,
each use case a few lines that delegate, and splitting it would split that list.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from sqlalchemy import ColumnElement, Engine, and_, case, func, literal, or_, select, text

from consumers.records import InboundRecord
from domain.case import Case
from domain.facts import facts_from_json
from domain.member import Member
from domain.messages import InboundMessage, InvalidMessage
from domain.params import Settings as RuleSettings
from domain.untrusted import DEFAULT_LIMITS, Limits
from domain.view import CaseView, case_view
from infra import dead_letters, projections, reads
from infra.clock import SYSTEM_CLOCK, Clock
from infra.ingest import Report, apply_batch, apply_messages, batches, file_records
from infra.settings import Settings
from infra.store import access_log, key_check, migrations, tables
from infra.store.hashchain import verify, verify_registry
from infra.store.key_check import KeysRefused
from infra.store.migrations import SchemaState, StoreNotMigrated
from infra.store.persistence import SQLITE_BUSY_TIMEOUT_S
from infra.store.store import Store, sqlalchemy_url
from infra.tick import TickReport, tick
from infra.timeline import hours_counted, timeline_svg
from infra.timeline_draw import EN, Words
from projections import handovers as feed
from projections.runner import Projection
from projections.tables import handover_feed, handover_published, worklist_cases

# What the entry points need of the application's vocabulary, from here (never infra.store).
__all__ = [
    "CONFLICT_ATTEMPTS",
    "DEAD_LETTER_STATUSES",
    "PROJECTIONS",
    "SQLITE_BUSY_TIMEOUT_S",
    "KeysRefused",
    "Ledighed",
    "Report",
    "StoreNotMigrated",
    "StoreSchema",
    "TickReport",
    "sqlalchemy_url",
]

log = logging.getLogger("ledighed.publisher")

PROJECTIONS = projections.NAMES
DEAD_LETTER_STATUSES = dead_letters.STATUSES

CONFLICT_ATTEMPTS = 10
"""How often work is done again after a version conflict before it is given up on: another
writer busy with the same members may win a few times in a row, each wait a little longer."""

T = TypeVar("T")


def dead_letter_source(topics: Sequence[str], roles: Sequence[str]) -> ColumnElement[str]:
    """A dead letter's source as a label of bounded values: the inbound topic of a Kafka
    record (`other` for a topic no longer consumed), `http:ROLE` for a posted message (never
    the poster's name), `tick` for the daily tick's, `file` for a file's line (never its
    name)."""
    letters = tables.dead_letters
    topic = letters.c.source["topic"].as_string()
    from_kafka = letters.c.dlq_topic.is_not(None)
    whens: list[tuple[ColumnElement[bool], str | ColumnElement[str]]] = [
        (and_(from_kafka, topic.in_(list(topics))), topic),
        (from_kafka, "other"),
    ]
    whens += [
        (or_(topic == f"http:{role}", topic.startswith(f"http:{role}:")), f"http:{role}")
        for role in roles
    ]
    whens += [(topic.startswith("http:"), "http"), (topic == "tick", "tick")]
    return case(*whens, else_=literal("file"))


class Ledighed:
    """The case engine's use cases over one store."""

    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rules: RuleSettings | None = None,
        read_models: Sequence[Projection] | None = None,
    ) -> None:
        """`read_models`: the projection objects `catch_up` drives, kept for the
        application's life (so that a running service's worklist keeps the cases it has
        seen); without them each catch-up makes its own."""
        self.store = store
        self.settings = settings or Settings()
        self.clock = clock
        self.rules = rules or self.settings.rule_settings()
        self.read_models = list(read_models) if read_models is not None else None
        self.handovers_refused = 0  # outbox rows refused since start: not their event's

    def close(self) -> None:
        self.store.close()

    def today(self) -> date:
        """"Today" as the clock says: the reads' default day and the tick's."""
        return self.clock.today()

    # --- messages in --------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], T], attempts: int = CONFLICT_ATTEMPTS) -> T:
        """`attempt()`, done again from the stored state after a version conflict, after a
        short random wait so that two writers stop meeting in step. An attempt that fails
        leaves nothing saved and the store's cache dropped (infra/ingest.py)."""
        for number in range(1, attempts + 1):
            try:
                return attempt()
            except IntegrityError:
                self.store.forget()
                if number == attempts:
                    raise
                time.sleep(random.uniform(0, 0.02 * number))
        raise AssertionError("unreachable")

    def apply_retrying(
        self,
        records: Sequence[InboundRecord],
        report: Report,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        """A batch of records (a file's, a dead letter's) applied and saved in one
        transaction, again on a version conflict; only the saved attempt counts in `report`."""

        def attempt() -> Report:
            attempt_report = Report()
            apply_batch(self.store, self.rules, records, attempt_report, limits=limits)
            return attempt_report

        report.add(self._retrying(attempt))

    def apply_consumed(
        self,
        records: Sequence[InboundRecord],
        offsets: dict[tuple[str, int], int],
        group: str,
    ) -> Report:
        """A consumer group's batch, saved in one transaction with each partition's next
        offset. One attempt: a failure (a conflict too) is raised, and the consumer applies
        the batch again from the offsets the store has (`resume`). Past the programme end by
        the clock, the batch's cases are ended by R16 as that day's tick (RULES.md)."""
        report = Report()  # a failed attempt counts nothing
        apply_batch(
            self.store,
            self.rules,
            records,
            report,
            offsets,
            group,
            self.settings.limits(),
            calendar_day=self.clock.today(),
        )
        return report

    def resume(
        self, group: str, partitions: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        """The next offset per partition as the store has it, the cached aggregates dropped:
        while this instance did not own a partition, another one may have changed its
        members."""
        self.store.forget()
        return self.stored_offsets(group, partitions)

    def stored_offsets(
        self, group: str, partitions: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        return self.store.stored_offsets(group, partitions)

    def ingest(
        self,
        records: Iterable[InboundRecord],
        batch_size: int | None = None,
        progress: Any = None,
        report: Report | None = None,
        limits: Limits | None = None,
    ) -> Report:
        """Apply every record in file order, `batch_size` messages to a transaction; into
        `report` if given (it then holds what was saved also when a batch fails)."""
        report = Report() if report is None else report
        limits = self.settings.limits() if limits is None else limits
        for batch in batches(records, batch_size or self.settings.batch_size):
            self.apply_retrying(batch, report, limits)
            if progress is not None:
                progress.update(len(batch))
        return report

    @staticmethod
    def file_records(lines: Iterable[bytes | str], name: str) -> Iterable[InboundRecord]:
        """A JSON-lines file's records (infra/ingest.py: blank lines skipped)."""
        return file_records(lines, name)

    def post(self, record: InboundRecord, message: InboundMessage | InvalidMessage) -> Report:
        """One message parsed already (what a caller checked of it is what is applied), or
        the reason it is invalid (a dead letter); again on a version conflict. Past the
        programme end by the clock, its cases are ended by R16 as the consumer's are."""

        def attempt() -> Report:
            report = Report()
            day = self.clock.today()
            apply_messages(self.store, self.rules, [(record, message)], report, day)
            return report

        return self._retrying(attempt)

    def record_read(
        self, member_id: UUID, reader: str, role: str, what: str, source: dict[str, Any]
    ) -> None:
        """A read of one member's case into the member's audit trail (a CaseRead event, no
        CPR in it), dated by the clock; again on a version conflict."""

        def attempt() -> None:
            member: Member = self.store.app.repository.get(member_id)
            member.record_read(reader, role, what, self.clock.today(), source)
            self.store.app.save(member)
            self.store.remember([member])  # the batch path's cache must not keep an older copy

        self._retrying(attempt)

    def record_access(self, **entry: Any) -> int:
        """A read of personal data into the access log (`infra/store/access_log.record`)."""
        return access_log.record(self.store.engine, self.store.secrets, **entry)

    def tick(self, on: date | None = None) -> TickReport:
        """The calendar's decisions for the day (R16, parked messages given up on; the clock's
        day by default), then dead letters of no known member past their retention expire."""
        report = tick(self.store, on or self.clock.today(), self.rules, clock=self.clock)
        self.store.expire_dead_letters(self.settings.dead_letter_retention_days)
        return report

    def latest_message_day(self, window: int = 1000) -> date | None:
        """The latest effective day among the log's last `window` events, reads left out (a
        CaseRead is dated by the clock, not by a message); None: no such event."""
        head = self.store.log_head()
        page = self.store.read_page(max(0, head - window), window, [])
        days = [
            e.effective_on
            for _, e in page
            if not isinstance(e, Member.CaseRead)  # type: ignore[attr-defined]
            and isinstance(getattr(e, "effective_on", None), date)
        ]
        return max(days, default=None)

    def erase_member(self, cpr: str) -> bool:
        """The member's personal data erased (crypto-shredding); False: none was kept."""
        return self.store.erase_member(cpr, self.settings.dead_letter_retention_days)

    # --- dead letters -------------------------------------------------------------------

    def dead_letters(
        self,
        status: str = "open",
        topic: str | None = None,
        day: date | None = None,
        members: list[UUID] | None = None,
    ) -> list[dict[str, Any]]:
        """The dead letters; their members' ids into `members` if given (the access log)."""
        return dead_letters.listing(self.store, status, topic, day, members)

    def dead_letter_raw(self, letter_id: int, members: list[UUID] | None = None) -> bytes | None:
        return dead_letters.raw_bytes(self.store, letter_id, members)

    def retry_dead_letters(self, letter_ids: list[int] | None) -> dict[str, list[int]]:
        """Open dead letters applied again (None: every open one), each with the retry."""
        return dead_letters.retry(
            self.store, lambda record, report: self.apply_retrying([record], report), letter_ids
        )

    # --- read models --------------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], Any] | None = None) -> dict[str, int]:
        """Every read model brought up to the log; events applied by name."""
        return projections.catch_up(self.store, progress=progress, chosen=self.read_models)

    def rebuild_projections(
        self, names: Iterable[str] | None = None, quiet: bool = False
    ) -> dict[str, int]:
        return projections.rebuild(self.store, names, quiet=quiet)

    def projection_status(self) -> list[dict[str, Any]]:
        return projections.status(self.store)

    def unpublished_handovers(self, limit: int) -> list[dict[str, Any]]:
        """The outbox: feed messages not yet acknowledged by the broker, in feed order."""
        with self.store.engine.connect() as conn:
            rows = feed.unpublished(conn, limit)
        refused = projections.refused_handovers(self.store, rows)
        for row in refused:
            # Not sent (a row edited behind the projection's back, say): `audit verify`
            # lists it, and `projections rebuild handovers` makes it again from its event.
            log.error("handover refused: its outbox row does not match its event", extra=row)
        self.handovers_refused += len(refused)
        unsent = {r["position"] for r in refused}
        rows = [row for row in rows if row.position not in unsent]
        cprs = self.store.cprs(UUID(row.member_id) for row in rows)
        return [
            reads.feed_message(r.case_id, r.payload, cprs.get(UUID(r.member_id))) for r in rows
        ]

    def mark_handovers_published(self, message_ids: Sequence[str]) -> None:
        with self.store.engine.begin() as conn:
            feed.mark_published(conn, message_ids)

    # --- queries ------------------------------------------------------------------------

    def member_id(self, cpr: str) -> UUID | None:
        """The member's opaque id (None: no member with this CPR)."""
        return self.store.member_ids([cpr]).get(cpr)

    def cases(
        self,
        cpr: str | None,
        day: date,
        known_at: datetime | None = None,
        member_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        """The member's cases opened by `day`, oldest first, as case objects."""
        return reads.case_dicts(self.store, cpr, day, self.rules, known_at, member_id)

    def history(
        self,
        cpr: str | None,
        day: date | None = None,
        known_at: datetime | None = None,
        member_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        return reads.history(self.store, cpr, day, known_at, member_id)

    def worklist(
        self, day: date, adviser: str | None = None, known_at: datetime | None = None
    ) -> list[dict[str, Any]]:
        return reads.worklist(self.store, day, self.rules, adviser, known_at)

    def worklist_of_members(
        self, day: date, adviser: str | None = None, known_at: datetime | None = None
    ) -> list[tuple[UUID, dict[str, Any]]]:
        """The worklist's rows, each with its member's id (for the access log)."""
        return reads.worklist_of_members(self.store, day, self.rules, adviser, known_at)

    def worklist_shown(
        self, day: date, adviser: str | None = None
    ) -> list[tuple[UUID, dict[str, Any]]]:
        """The worklist's rows with the case's status, municipality and days overdue (the
        pages'), each with its member's id."""
        return reads.worklist_shown(self.store, day, self.rules, adviser)

    def worklist_advisers(self) -> list[str]:
        """The advisers the store's worklist knows, by name."""
        return reads.worklist_advisers(self.store)

    def handovers(self, known_at: datetime | None = None) -> list[dict[str, Any]]:
        return reads.handovers(self.store, known_at)

    def handovers_of_members(
        self, known_at: datetime | None = None
    ) -> list[tuple[UUID, dict[str, Any]]]:
        """The feed's messages, each with its member's id (for the access log)."""
        return reads.handovers_of_members(self.store, known_at)

    def explain(
        self, cpr: str, day: date, known_at: datetime | None = None
    ) -> dict[str, Any] | None:
        return reads.explain(self.store, cpr, day, self.rules, known_at)

    def timeline_svg(
        self, cpr: str, day: date, known_at: datetime | None = None, say: Words = EN
    ) -> str | None:
        """The case's timeline, in the command line's English unless other words are given."""
        return timeline_svg(self.store, cpr, day, self.rules, known_at, say)

    def hours_counted(self, cpr: str, day: date) -> Decimal | None:
        """R8: the latest case's hours counted in the trial as of the day, to its exit."""
        cases = [c for c in self.store.cases_of(cpr) if c.facts.opened_on <= day]
        return hours_counted(case_view(cases[-1].facts, day, self.rules)) if cases else None

    def latest_case_handovers(self, cpr: str, day: date) -> list[dict[str, Any]]:
        """The latest case's handover messages that took effect by the day (as the timeline)."""
        cases = [c for c in self.store.cases_of(cpr) if c.facts.opened_on <= day]
        if not cases:
            return []
        return [
            {"message_id": h["message_id"], "type": h["type"], "replaces": h["replaces"],
             **h["content"]}
            for h in cases[-1].handovers
            if h["content"]["effective_on"] <= day.isoformat()
        ]  # fmt: skip

    def case_views(self, day: date) -> list[CaseView]:
        """Every case as of the day (one pass over the log)."""
        cases: list[Case] = reads.all_cases(self.store)
        return [case_view(case.facts, day, self.rules) for case in cases]

    def access_log(self, member_id: UUID | None = None, **query: Any) -> list[dict[str, Any]]:
        """The access log's entries, oldest first (`infra/store/access_log.entries`: of one
        member, by one reader, in a time span, after an entry, at most `limit`)."""
        return access_log.entries(self.store.engine, member_id=member_id, **query)

    def verify_audit(self) -> dict[str, Any]:
        """`audit verify`: every aggregate's hash chain (events checked, the first break of
        each) and every registry row against its binding to the member (members checked,
        each member whose row does not match) and the handover feed against its events
        (rows checked, each row that differs, is extra or missing) and the access log's
        chain (entries checked, each entry whose link fails, and a head not sealed)."""
        engine, secrets = self.store.engine, self.store.secrets
        checked, breaks = verify(engine, self.store.events_table, secrets)
        members, registry = verify_registry(engine, secrets)
        rows, feed_breaks = projections.verify_feed(self.store)
        entries, log_breaks = access_log.verify(engine, secrets)
        return {
            "events_checked": checked,
            "breaks": [b.as_dict() for b in breaks],
            "members_checked": members,
            "registry_breaks": registry,
            "feed_rows_checked": rows,
            "feed_breaks": feed_breaks,
            "access_log_checked": entries,
            "access_log_breaks": log_breaks,
        }

    def log_head(self) -> int:
        return self.store.log_head()

    def ping(self) -> None:
        """Raises when the store does not answer."""
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def counts(self, roles: Sequence[str] = ()) -> dict[str, Any]:
        """The store's numbers for /metrics: dead letters (open ones by source), handovers the
        broker acknowledged, the log's head. A few rows read whatever the number of dead
        letters: the open ones are counted by the database, grouped by `dead_letter_source`."""
        letters = tables.dead_letters
        source = dead_letter_source(self.settings.inbound_topics, roles)
        with self.store.engine.connect() as conn:
            dead = conn.execute(select(func.count()).select_from(letters)).scalar()
            sent = conn.execute(select(func.count()).select_from(handover_published)).scalar()
            open_by_source = conn.execute(
                select(source, func.count())
                .where(letters.c.status == "open")
                .group_by(source)
                .order_by(source)
            ).all()
        return {
            "dead_letters": dead or 0,
            "handovers_published": sent or 0,
            "open_by_source": {str(label): count for label, count in open_by_source},
            "log_head": self.log_head(),
        }

    def statuses_on(self, day: date) -> tuple[Counter[str], int]:
        """The read models as far as they have got (the demo's live counters): cases by
        status on the day, and the handover feed's length."""
        with self.store.engine.connect() as conn:
            facts = conn.execute(select(worklist_cases.c.facts)).scalars().all()
            feed = conn.scalar(select(func.count()).select_from(handover_feed)) or 0
        statuses = Counter(case_view(facts_from_json(f), day, self.rules).status for f in facts)
        return statuses, feed

    def store_url(self) -> str:
        """The store's URL (with its password: say it only through `hide_password`)."""
        return self.store.url


class StoreSchema:
    """`ledighed migrate`: the store's schema before the store can open (a store behind
    this release's schema is refused by `Store`)."""

    def __init__(self, engine: Engine, db_url: str | None = None) -> None:
        self.engine = engine
        self.db_url = db_url or engine.url.render_as_string(hide_password=False)

    def state(self) -> SchemaState:
        return migrations.state(self.engine)

    def upgrade(self) -> tuple[str | None, str]:
        """Every migration the store lacks applied, with the store's own keys (checked
        against it first; made only for a store that has nothing sealed yet); (from, to)."""
        secrets = key_check.keys_for(self.db_url, key_check.probe(self.db_url), "create")
        return migrations.upgrade(self.engine, secrets=secrets)

    def close(self) -> None:
        self.engine.dispose()
