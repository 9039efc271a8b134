"""The eventsourcing library's own recorder, factory and application test cases, run against
the project's persistence module (infra.store.persistence) on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.tests.application import ApplicationTestCase, ExampleApplicationTestCase
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)
from eventsourcing.utils import Environment, clear_topic_cache
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import inspect

from infra.store.hashchain import verify
from infra.store.persistence import (
    BatchAggregateRecorder,
    BatchApplicationRecorder,
    BatchProcessRecorder,
    Factory,
)
from infra.store.tables import event_hashes

MODULE = "infra.store.persistence"

# The library's factory test defines its tracking record class again for a second tracking
# recorder; SQLAlchemy says so, harmlessly.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This declarative base already contains a class:sqlalchemy.exc.SAWarning"
)


# --- the two stores -----------------------------------------------------------------------


class OnSQLiteFile:
    """A fresh SQLite file for each test."""

    url: str

    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path}/contract.db"


@pytest.mark.postgres
class OnPostgres:
    """A fresh PostgreSQL database for each test (fails, never skips, when the server is
    down, unless LEDIGHED_SKIP_POSTGRES=1: see tests/conftest.py)."""

    url: str

    @pytest.fixture(autouse=True)
    def _database(self, fresh_postgres_url: str) -> None:
        self.url = fresh_postgres_url


class MadeByTheFactory:
    """Recorders as the library's factory makes them from the environment, with the
    project's persistence module: nothing created beforehand but by the recorders."""

    url: str

    def factory(self) -> Factory:
        env = Environment(
            "Ledighed",
            {"PERSISTENCE_MODULE": MODULE, "SQLALCHEMY_URL": self.url, "CREATE_TABLE": "y"},
        )
        factory = InfrastructureFactory.construct(env)
        assert isinstance(factory, Factory)
        self.factories = [*getattr(self, "factories", []), factory]
        return factory

    def tearDown(self) -> None:
        for factory in getattr(self, "factories", []):
            factory.datastore.engine.dispose()
        super().tearDown()  # type: ignore[misc]


# --- aggregate recorders ------------------------------------------------------------------


class AggregateRecorderCases(MadeByTheFactory):
    def create_recorder(self) -> AggregateRecorder:
        recorder = self.factory().aggregate_recorder()
        assert type(recorder) is BatchAggregateRecorder
        return recorder

    def test_the_hash_chain_is_written_beside_the_events(self) -> None:
        recorder = self.create_recorder()
        originator = uuid4()
        recorder.insert_events([_event(1, originator), _event(2, originator)])
        engine = recorder.datastore.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert len(conn.execute(event_hashes.select()).all()) == 2


class SnapshotRecorderCases(MadeByTheFactory):
    def create_recorder(self) -> AggregateRecorder:
        return self.factory().aggregate_recorder("snapshots")


class AggregateCasesOnApplicationRecorder(MadeByTheFactory):
    def create_recorder(self) -> AggregateRecorder:
        return self.factory().application_recorder()

    def test_insert_and_select(self) -> None:
        pytest.skip(
            "does not apply: it asserts insert_events returns None (the aggregate recorder's "
            "contract); an application recorder returns the ids, checked by "
            "ApplicationRecorderTestCase.test_insert_select"
        )


class TestAggregateRecorderSQLite(OnSQLiteFile, AggregateRecorderCases, AggregateRecorderTestCase):
    pass


class TestAggregateRecorderPostgres(OnPostgres, AggregateRecorderCases, AggregateRecorderTestCase):
    pass


class TestSnapshotRecorderSQLite(OnSQLiteFile, SnapshotRecorderCases, AggregateRecorderTestCase):
    pass


class TestSnapshotRecorderPostgres(OnPostgres, SnapshotRecorderCases, AggregateRecorderTestCase):
    pass


class TestAggregateCasesOnApplicationRecorderSQLite(
    OnSQLiteFile, AggregateCasesOnApplicationRecorder, AggregateRecorderTestCase
):
    pass


class TestAggregateCasesOnApplicationRecorderPostgres(
    OnPostgres, AggregateCasesOnApplicationRecorder, AggregateRecorderTestCase
):
    pass


# --- the application recorder -------------------------------------------------------------


class ApplicationRecorderCases(MadeByTheFactory):
    def create_recorder(self) -> ApplicationRecorder:
        recorder = self.factory().application_recorder()
        assert type(recorder) is BatchApplicationRecorder
        return recorder


class TestApplicationRecorderSQLite(
    OnSQLiteFile, ApplicationRecorderCases, ApplicationRecorderTestCase[ApplicationRecorder]
):
    pass  # subscribe() is PostgreSQL's only (LISTEN/NOTIFY): the library's own SQLite lacks it


class TestApplicationRecorderPostgres(
    OnPostgres, ApplicationRecorderCases, ApplicationRecorderTestCase[ApplicationRecorder]
):
    def test_insert_subscribe(self) -> None:
        # The library's subscription waits without a bound, and on Python 3.11 a failure in
        # its pull thread cannot wake it (Queue.shutdown is 3.13's): run it in a daemon
        # thread (its own threads inherit that) so that a hang fails here, never the run.
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.optional_test_insert_subscribe()
            except BaseException as error:  # handed to the test's thread
                errors.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=120)
        if thread.is_alive():
            pytest.fail("subscribe() received nothing within 120 s (LISTEN/NOTIFY)")
        if errors:
            raise errors[0]


class NonInterleavingCases(MadeByTheFactory):
    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()


class TestNonInterleavingSQLite(
    OnSQLiteFile, NonInterleavingCases, NonInterleavingNotificationIDsBaseCase
):
    pass


class TestNonInterleavingPostgres(
    OnPostgres, NonInterleavingCases, NonInterleavingNotificationIDsBaseCase
):
    pass


# --- tracking and process recorders -------------------------------------------------------


class TrackingRecorderCases(MadeByTheFactory):
    def create_recorder(self) -> TrackingRecorder:
        return self.factory().tracking_recorder()


class TestTrackingRecorderSQLite(OnSQLiteFile, TrackingRecorderCases, TrackingRecorderTestCase):
    pass


class TestTrackingRecorderPostgres(OnPostgres, TrackingRecorderCases, TrackingRecorderTestCase):
    pass


class ProcessRecorderCases(MadeByTheFactory):
    def create_recorder(self) -> ProcessRecorder:
        recorder = self.factory().process_recorder()
        assert type(recorder) is BatchProcessRecorder
        return recorder


class TestProcessRecorderSQLite(OnSQLiteFile, ProcessRecorderCases, ProcessRecorderTestCase):
    pass


class TestProcessRecorderPostgres(OnPostgres, ProcessRecorderCases, ProcessRecorderTestCase):
    pass


# --- the factory --------------------------------------------------------------------------


class TrackingRecorderSubclass(SQLAlchemyTrackingRecorder):
    """For the factory test: a tracking recorder class named by argument or topic."""


class FactoryCases:
    url: str

    def setUp(self) -> None:
        self.env = Environment(
            "TestCase", {"PERSISTENCE_MODULE": MODULE, "SQLALCHEMY_URL": self.url}
        )
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self.factory.datastore.engine.dispose()

    def expected_factory_class(self) -> type[Factory]:
        return Factory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return BatchAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return BatchApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLAlchemyTrackingRecorder  # writes positions only, no events: the library's

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return BatchProcessRecorder

    def test_every_recorder_creates_the_tables_it_writes(self) -> None:
        for make in (
            self.factory.application_recorder,
            self.factory.process_recorder,
            self.factory.aggregate_recorder,
        ):
            recorder = make()
            recorder.insert_events([_event(1, uuid4())])  # failed with "no such table" before
            names = inspect(self.factory.datastore.engine).get_table_names()
            assert {"testcase_events", event_hashes.name} <= set(names)


class TestFactorySQLite(OnSQLiteFile, FactoryCases, InfrastructureFactoryTestCase[Factory]):
    pass


class TestFactoryPostgres(OnPostgres, FactoryCases, InfrastructureFactoryTestCase[Factory]):
    pass


# --- applications -------------------------------------------------------------------------


class ApplicationsOnTheStore:
    """The library's application tests build `Application()` from the process environment:
    point it at the project's persistence module and this test's database."""

    url: str

    @pytest.fixture(autouse=True)
    def _environment(self, _database: None, monkeypatch: pytest.MonkeyPatch) -> Any:
        monkeypatch.setenv("PERSISTENCE_MODULE", MODULE)
        monkeypatch.setenv("SQLALCHEMY_URL", self.url)
        monkeypatch.setenv("CREATE_TABLE", "y")
        clear_topic_cache()
        yield
        clear_topic_cache()


class TestApplicationSQLite(OnSQLiteFile, ApplicationsOnTheStore, ApplicationTestCase):
    pass


class TestApplicationPostgres(OnPostgres, ApplicationsOnTheStore, ApplicationTestCase):
    pass


class TestExampleApplicationSQLite(
    OnSQLiteFile, ApplicationsOnTheStore, ExampleApplicationTestCase
):
    expected_factory_topic = "infra.store.persistence:Factory"


class TestExampleApplicationPostgres(
    OnPostgres, ApplicationsOnTheStore, ExampleApplicationTestCase
):
    expected_factory_topic = "infra.store.persistence:Factory"


def test_an_application_on_the_factory_alone_keeps_a_verifiable_hash_chain(db_url: str) -> None:
    """Nothing created beforehand (no Store): the recorder creates the hash table it writes."""
    app = Application[UUID](
        env={"PERSISTENCE_MODULE": MODULE, "SQLALCHEMY_URL": db_url, "CREATE_TABLE": "y"}
    )
    try:
        first, second = Aggregate(), Aggregate()
        second.trigger_event(Aggregate.Event)
        recordings = app.save(first, second)
        assert [r.notification.id for r in recordings] == [1, 2, 3]
        recorder: Any = app.recorder
        engine = recorder.datastore.engine
        table = recorder.events_record_cls.__table__
        assert verify(engine, table, recorder.chain_secrets()) == (3, [])
    finally:
        app.close()
        app.recorder.datastore.engine.dispose()  # type: ignore[attr-defined]


def _event(version: int, originator: UUID) -> StoredEvent:
    return StoredEvent(originator, version, "topic", b"{}")


# The library's abstract cases would be collected as tests themselves.
del AggregateRecorderTestCase, ApplicationRecorderTestCase, InfrastructureFactoryTestCase
del NonInterleavingNotificationIDsBaseCase, ProcessRecorderTestCase, TrackingRecorderTestCase
del ApplicationTestCase, ExampleApplicationTestCase
