"""The event store (eventsourcing + SQLAlchemy); the unit of work that saves one batch on it
is infra/store/unit_of_work.py (which imports this module, never the other way round)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding
from eventsourcing.utils import get_topic, register_topic
from sqlalchemy import Engine, select

from domain.case import Case
from domain.member import Member
from domain.untrusted import DEFAULT_MAX_MESSAGE_BYTES
from infra.store import key_check, migrations, tables
from infra.store.key_check import Access
from infra.store.secrets import Secrets, for_store
from infra.store.shredding import KeyRing, SealingMapper, open_row

# Event classes renamed or moved since a release stored them: the old topic and the class
# that reads it now (tests/integration/test_event_versions.py holds every stored topic).
RENAMED_EVENT_TOPICS: dict[str, type] = {}
for _old_topic, _event_class in RENAMED_EVENT_TOPICS.items():
    register_topic(_old_topic, _event_class)


class DateAsISO(Transcoding):
    """Dates in events as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LedighedApplication(Application[UUID]):
    """The event-sourced application: cases and members in one store."""

    name = "Ledighed"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def __init__(self, env: dict[str, str], secrets: Secrets | None = None) -> None:
        self._given_secrets = secrets  # checked against the store by `Store` (key_check)
        super().__init__(env)

    def construct_mapper(self) -> Mapper[UUID]:
        """Personal fields of each new event sealed with its aggregate's key (crypto-shredding)."""
        url = self.env.get("SQLALCHEMY_URL")
        if url is None:  # not a SQL store (the tests' in-memory one): nothing to seal
            return super().construct_mapper()
        self.secrets: Secrets = self._given_secrets or for_store(url)
        self.ring = KeyRing(self.secrets, lambda: self.recorder.datastore.engine)  # type: ignore[attr-defined]
        return SealingMapper(self.construct_transcoder(), self.ring)


def sqlalchemy_url(db_url: str) -> str:
    """Accept `postgresql://` and `sqlite:///file` as users write them."""
    if db_url.startswith("postgresql://") or db_url.startswith("postgres://"):
        return "postgresql+psycopg://" + db_url.split("://", 1)[1]
    return db_url


class Store:
    """The store: the application (event store) plus the registry and message tables."""

    def __init__(self, db_url: str, access: Access = "create") -> None:
        """Open the store; raises migrations.StoreNotMigrated for a store whose schema is
        not this release's, and key_check.KeysRefused for a key file that is missing or not
        the store's, before anything is made or written. `access`: what the opening may do
        (a read never makes a key file; see key_check.Access)."""
        self.url = sqlalchemy_url(db_url)
        found = key_check.probe(self.url)
        if found.schema is not None:
            migrations.refuse(found.schema, db_url)
        # A store the probe found at this release's schema has every table: neither the
        # library's create_table (its reflection) nor the migrations' check runs again, which
        # halves the cost of opening a store (each command opens one).
        at_head = found.schema is not None and found.schema.at_head
        secrets = key_check.keys_for(self.url, found, access)
        self.app = LedighedApplication(
            env={
                "PERSISTENCE_MODULE": "infra.store.persistence:Factory",
                "SQLALCHEMY_URL": self.url,
                "CREATE_TABLE": "n" if at_head else "y",
            },
            secrets=secrets,
        )
        self.datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        engine = self.datastore.engine
        assert engine is not None
        self.engine: Engine = engine
        # A failed statement's message (and so any log of it) never shows its parameters:
        # they hold CPRs, names and sealed data (issue 26).
        self.engine.hide_parameters = True
        self.events_table = self.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        self.secrets = self.app.secrets
        self.ring = self.app.ring
        self.app.recorder.secrets = self.secrets  # type: ignore[attr-defined]  # the chain's key
        # The project's tables come from the migrations: a new store is made at this
        # release's schema, one that is behind or ahead is refused (`ledighed migrate`).
        try:
            if not at_head:
                migrations.check(self.engine, db_url, self.secrets)
            if access != "read":  # the fingerprints of keys not yet recorded (a new store's)
                with self.engine.begin() as conn:
                    key_check.record(conn, self.secrets, self.url)
        except BaseException:
            self.close()
            raise
        # Aggregates as the last committed batch left them, so that a long ingest loads each
        # case once. A stale entry (another writer saved the case meanwhile) makes the save
        # fail on the event store's unique version; the batch is then retried without it.
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self.cache_size = 50_000  # Settings.cache_aggregates (infra/bootstrap.py)
        # A batch's events go to the read models that are caught up in the batch's own
        # transaction, from memory (infra/ingest.py); off, only a catch-up applies them.
        self.project_inline = True
        # A dead letter keeps at most this many bytes of a message (the message size limit,
        # LEDIGHED_MAX_MESSAGE_BYTES, which the application sets): one over it is kept cut.
        self.dead_letter_bytes = DEFAULT_MAX_MESSAGE_BYTES

    def cached(self, aggregate_id: UUID) -> Aggregate | None:
        aggregate = self._cache.get(aggregate_id)
        if aggregate is not None:
            self._cache.move_to_end(aggregate_id)
        return aggregate

    def remember(self, aggregates: Iterable[Aggregate]) -> None:
        for aggregate in aggregates:
            self._cache[aggregate.id] = aggregate
            self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def forget(self) -> None:
        """Drop every cached aggregate (after a failed batch, whose changes were not saved)."""
        self._cache.clear()

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()

    # --- reads --------------------------------------------------------------------------

    def member_ids(self, cprs: Iterable[str]) -> dict[str, UUID]:
        """Member ids by CPR, for the CPRs known to the registry."""
        wanted = list(set(cprs))
        found: dict[str, UUID] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted, 500):
                rows = conn.execute(
                    select(tables.members.c.cpr, tables.members.c.member_id).where(
                        tables.members.c.cpr.in_(chunk)
                    )
                )
                found.update({cpr: UUID(member_id) for cpr, member_id in rows})
        return found

    def cprs(self, member_ids: Iterable[UUID] | None = None) -> dict[UUID, str | None]:
        """The CPR by member id (None once erased): of these members, or of every member."""
        query = select(tables.members.c.member_id, tables.members.c.cpr)
        if member_ids is not None:
            query = query.where(tables.members.c.member_id.in_({str(m) for m in member_ids}))
        with self.engine.connect() as conn:
            return {UUID(member_id): cpr for member_id, cpr in conn.execute(query)}

    def processed(self, message_ids: Iterable[str]) -> set[str]:
        """Which of these message ids were accepted before."""
        by_hash = {self.secrets.message_hash(m): m for m in set(message_ids)}
        seen: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(list(by_hash), 500):
                column = tables.processed_messages.c.message_hash
                found = conn.execute(select(column).where(column.in_(chunk))).scalars()
                seen.update(by_hash[h] for h in found)
        return seen

    def member(self, member_id: UUID) -> Member:
        return self.app.repository.get(member_id)  # type: ignore[no-any-return]

    def case(self, case_id: UUID) -> Case:
        return self.app.repository.get(case_id)  # type: ignore[no-any-return]

    def cases_of(self, cpr: str, known_at: datetime | None = None) -> list[Case]:
        """The member's cases, oldest first (the case's own events only, no scan of the log);
        with `known_at`, as they stood with only the events recorded by then."""
        member_id = self.member_ids([cpr]).get(cpr)
        if member_id is None:
            return []
        if known_at is None:
            return [self.case(case_id) for case_id in self.member(member_id).case_ids]
        member = self.known(member_id, known_at)
        if member is None:
            return []
        cases = (self.known(case_id, known_at) for case_id in member.case_ids)
        return [case for case in cases if case is not None]

    def known(self, aggregate_id: UUID, known_at: datetime) -> Any:
        """The aggregate from the events recorded by `known_at` (None if it did not exist)."""
        aggregate = None
        for event in self.app.events.get(aggregate_id):
            if event.timestamp > known_at:
                break
            aggregate = event.mutate(aggregate)
        return aggregate

    def events_of(self, aggregate_id: UUID) -> list[Any]:
        return list(self.app.events.get(aggregate_id))

    def notifications(self, *event_classes: type[Any], start: int = 1) -> Iterator[tuple[int, Any]]:
        """Stored events of these classes across all cases, in the order they were recorded."""
        topics = [get_topic(cls) for cls in event_classes]  # none: every event
        position = start
        while True:
            page = self.app.recorder.select_notifications(position, 1000, topics=topics)
            for notification in page:
                yield notification.id, self.app.mapper.to_domain_event(notification)
            if len(page) < 1000:
                return
            position = page[-1].id + 1

    def read_page(
        self, after: int, limit: int, topics: Sequence[str], stop: int | None = None
    ) -> list[tuple[int, Any]]:
        """Up to `limit` stored events after notification `after` (up to `stop`) with these
        topics (all if none), each with its notification id: a page for the projections."""
        page = self.app.recorder.select_notifications(
            after, limit, stop, topics=topics, inclusive_of_start=False
        )
        return [(n.id, self.app.mapper.to_domain_event(n)) for n in page]

    def log_head(self) -> int:
        """The id of the last notification in the log (0: none yet)."""
        return self.app.recorder.max_notification_id() or 0

    def replay(self, cls: type[Aggregate], known_at: datetime | None = None) -> list[Aggregate]:
        """Every aggregate of a class, rebuilt in one pass over the log (for reads of all
        cases; one case alone is read by its own events); with `known_at`, from the events
        recorded by then."""
        aggregates: dict[UUID, Any] = {}
        for _, event in self.notifications():
            if known_at is not None and event.timestamp > known_at:
                continue
            aggregate = aggregates.get(event.originator_id)
            if aggregate is None and event.originator_version != 1:
                continue  # an aggregate that began before `start`
            aggregates[event.originator_id] = event.mutate(aggregate)
        return [a for a in aggregates.values() if isinstance(a, cls)]

    def case_ids(self) -> list[UUID]:
        """Every case's id, in the order the cases opened."""
        return [event.originator_id for _, event in self.notifications(Case.Opened)]  # type: ignore[attr-defined]

    def erase_member(self, cpr: str, retention_days: int | None = None) -> bool:
        """Erase a member's personal data without rewriting the log: the CPR and birth date
        leave the registry, and the keys of the member's aggregates and of its CPR's dead
        letters are deleted (crypto-shredding), so what they sealed (message, payment and
        request ids, notes, rejected messages) is gone; the worklist's rows of the member's
        cases are written again without it. False: nothing of that CPR was kept.
        With `retention_days`, dead letters of no known member older than that expire too."""
        from projections.tables import upsert, worklist_cases
        from projections.worklist import case_row

        member_id = self.member_ids([cpr]).get(cpr)
        member_key = str(member_id) if member_id is not None else None
        rows: list[dict[str, Any]] = []
        if member_id is not None:
            # The cases as they read once the keys are gone, computed before the keys are
            # deleted (in one transaction with the deletion, and on SQLite without a second
            # connection reading beside a write).
            with self.engine.connect() as conn:
                key_ids = list(
                    conn.execute(
                        select(tables.keys.c.key_id).where(tables.keys.c.member_id == member_key)
                    ).scalars()
                )
            self.ring.suppress(key_ids)
            try:
                member = self.app.repository.get(member_id)
                cases = [self.app.repository.get(case_id) for case_id in member.case_ids]
                rows = [row for row in map(case_row, cases) if row is not None]
            finally:
                self.ring.unsuppress(key_ids)
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")  # no old bytes left in the file
            found = self.ring.erase(conn, member_key, cpr)
            result = conn.execute(
                tables.members.update()
                .where(tables.members.c.cpr == cpr)
                .values(
                    cpr=None,
                    birth_date=None,
                    binding=None,
                    binding_key_id=None,
                    erased_at=datetime.now(UTC),
                )
            )
            upsert(conn, worklist_cases, rows)
            if retention_days is not None:
                self.ring.expire_orphans(conn, retention_days)
        self.forget()  # cached aggregates hold what the keys opened
        return bool(result.rowcount or found)

    def expire_dead_letters(self, retention_days: int) -> int:
        """Delete the own keys of dead letters of no known member older than the retention."""
        with self.engine.begin() as conn:
            return self.ring.expire_orphans(conn, retention_days)

    def member_cases(self, member_id: UUID, known_at: datetime | None = None) -> list[Case]:
        """A member's cases by its opaque id (erased members too), oldest first."""
        try:
            member = self.member(member_id) if known_at is None else self.known(member_id, known_at)
        except Exception:
            return []
        if member is None or not isinstance(member, Member):
            return []
        if known_at is None:
            return [self.case(case_id) for case_id in member.case_ids]
        cases = (self.known(case_id, known_at) for case_id in member.case_ids)
        return [case for case in cases if case is not None]

    def dead_letters(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.dead_letters).order_by(tables.dead_letters.c.id))
            return [open_row(self.ring, row._mapping) for row in rows]

    def stored_offsets(
        self, group: str, partitions: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        """The next offset to apply per (topic, partition), as the last saved batch left it."""
        wanted = set(partitions)
        offsets = tables.source_offsets
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(offsets.c.topic, offsets.c.partition, offsets.c.next_offset).where(
                    offsets.c.consumer_group == group
                )
            )
            return {(t, p): n for t, p, n in rows if (t, p) in wanted}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
