"""Upgrades keep history: a store written by every earlier release opens after `ledighed
migrate`, gives the answers it gave then, verifies its chain and takes a new message."""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from infra.store import migrations, tables
from infra.store.store import Store, sqlalchemy_url
from projections import tables as projection_tables
from tools.release_store import run_cli

RELEASES = sorted(p for p in (Path(__file__).parents[1] / "releases").iterdir() if p.is_dir())


def _sqlite_store(release: Path, tmp_path: Path) -> str:
    target = tmp_path / "store.db"
    with gzip.open(release / "store.sqlite.gz", "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    # The key file the release left beside its store (since schema 0004), back beside it,
    # where infra/store/secrets.py looks for a SQLite store's keys.
    keys = release / "store.sqlite.secrets.json"
    if keys.exists():
        shutil.copyfile(keys, Path(f"{target}.secrets.json"))
    return f"sqlite:///{target}"


def _postgres_store(
    release: Path, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    # A PostgreSQL store's key file is LEDIGHED_SECRETS_FILE, else one in the user's config
    # dir (shared by every test's database): the release's own, named for this test.
    keys = release / "store.postgres.secrets.json"
    if keys.exists():
        shutil.copyfile(keys, tmp_path / "postgres.secrets.json")
        monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(tmp_path / "postgres.secrets.json"))
    libpq = sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://")
    dump = gzip.decompress((release / "store.postgres.sql.gz").read_bytes())
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", libpq],
        input=dump,
        check=True,
        capture_output=True,
    )
    return url


def assert_contains(then: Any, now: Any, where: str) -> None:
    """`now` says everything `then` said: every field (new fields are fine), every item."""
    if isinstance(then, dict):
        assert isinstance(now, dict), f"{where}: was an object, is {now!r}"
        for key, value in then.items():
            assert key in now, f"{where}: the field {key!r} is gone"
            assert_contains(value, now[key], f"{where}.{key}")
    elif isinstance(then, list):
        assert isinstance(now, list) and len(now) == len(then), (
            f"{where}: had {len(then)} items, has {len(now) if isinstance(now, list) else now!r}"
        )
        for i, (a, b) in enumerate(zip(then, now, strict=True)):
            assert_contains(a, b, f"{where}[{i}]")
    else:
        assert then == now, f"{where}: was {then!r}, is {now!r}"


def _compare(answer: dict[str, Any], url: str) -> None:
    now = run_cli([*answer["argv"], "--db", url])
    where = " ".join(answer["argv"])
    assert now["exit"] == answer["exit"], where
    assert_contains(answer["output"], now["output"], where)


class _Shared:
    """An opened store that a command's close() leaves open."""

    def __init__(self, store: Store) -> None:
        self.__dict__["_store"] = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._store, name, value)

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _one_open_store(url: str) -> Iterator[None]:
    from infra import bootstrap

    store = Store(url)
    original = bootstrap.store
    bootstrap.store = lambda *_, **__: _Shared(store)  # type: ignore[assignment]
    try:
        yield
    finally:
        bootstrap.store = original
        store.close()


def _upgrade_and_compare(release: Path, store_kind: str, url: str) -> None:
    with pytest.raises(migrations.StoreNotMigrated, match="ledighed migrate"):
        Store(url)
    assert run_cli(["migrate", "--json", "--db", url])["exit"] == 0
    answers = json.loads(gzip.decompress((release / f"answers.{store_kind}.json.gz").read_bytes()))
    # The first read opens the upgraded store as any command does; the other 1,215 reads
    # share that opened store (opening one is most of a read's cost, and what is compared
    # here is the answers), each still through the command line's own code.
    first, *rest = answers
    _compare(first, url)
    with _one_open_store(url):
        for answer in rest:
            _compare(answer, url)
    # The store takes new messages after the upgrade.
    cpr = next(a["argv"][1] for a in answers if a["argv"][0] == "case" and a["exit"] == 0)
    message = {
        "message_id": "after-upgrade-1",
        "type": "adviser_assigned",
        "cpr": cpr,
        "adviser": "upgraded",
        "assigned_on": "2021-12-30",
    }
    path = Path(url.removeprefix("sqlite:///")).with_name("new.jsonl") if "sqlite" in url else None
    if path is None:
        import tempfile

        path = Path(tempfile.mkdtemp()) / "new.jsonl"
    path.write_text(json.dumps(message) + "\n")
    report = run_cli(["ingest", str(path), "--json", "--db", url])["output"]
    assert report["accepted"] == 1, report
    history = run_cli(["history", cpr, "--json", "--db", url])["output"]
    assert history[-1]["source"]["message_id"] == "after-upgrade-1"
    verified = run_cli(["audit", "verify", "--json", "--db", url])
    assert verified["exit"] == 0 and verified["output"]["breaks"] == []


@pytest.mark.slow
@pytest.mark.parametrize("release", RELEASES, ids=[r.name for r in RELEASES])
def test_a_sqlite_store_of_every_release_opens_after_migrate_and_answers_as_then(
    release: Path, tmp_path: Path
) -> None:
    _upgrade_and_compare(release, "sqlite", _sqlite_store(release, tmp_path))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("release", RELEASES, ids=[r.name for r in RELEASES])
def test_a_postgres_store_of_every_release_opens_after_migrate_and_answers_as_then(
    release: Path, fresh_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _postgres_store(release, fresh_postgres_url, tmp_path, monkeypatch)
    _upgrade_and_compare(release, "postgres", url)


def test_a_new_store_is_made_at_the_head_and_a_second_open_changes_nothing(db_url: str) -> None:
    Store(db_url).close()
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        found = migrations.state(engine)
        assert found.at_head and found.current == migrations.head()
    finally:
        engine.dispose()
    assert run_cli(["migrate", "--check", "--json", "--db", db_url])["exit"] == 0
    Store(db_url).close()


def test_the_migrations_make_exactly_the_tables_the_code_uses(db_url: str) -> None:
    """Every change to a table's definition comes with its migration: the schema the
    migrations build equals the code's table definitions."""
    Store(db_url).close()
    code = MetaData()
    for table in [*tables.metadata.tables.values(), *projection_tables.metadata.tables.values()]:
        table.to_metadata(code)
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_name": lambda name, kind, _: kind != "table"
                    or name in code.tables,
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, code) == []
    finally:
        engine.dispose()


def test_a_store_at_a_schema_this_release_does_not_know_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    Store(url).close()
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE {migrations.VERSION_TABLE} SET version_num = '9999_from_the_future'"
        )
    engine.dispose()
    with pytest.raises(migrations.StoreNotMigrated, match="does not know"):
        Store(url)
    assert run_cli(["migrate", "--json", "--db", url])["exit"] == 1
