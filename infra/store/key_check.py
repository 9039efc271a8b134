"""Keys belong to their store: the store records its keys' fingerprints, every opening checks
the key file against them before anything is made or written, and a key file is made only
for a store that holds nothing sealed (a SQLite file by itself; on PostgreSQL only by
`ledighed keys init` or into a given LEDIGHED_SECRETS_FILE, so instances never diverge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.store import migrations, tables
from infra.store.secrets import Secrets, create, key_path, load
from infra.store.shredding import _unwrap as unwrap

Access = Literal["read", "write", "create"]
"""What an opening may do: only read; write (and so record the fingerprints of keys not yet
recorded); or also make the keys of a store that has none (a command that may start a store)."""

# Tables whose rows exist only sealed or keyed (from migration 0004 on).
SEALED_TABLES = (
    "ledighed_keys",
    "ledighed_event_hashes",
    "ledighed_processed_messages",
    "ledighed_dead_letters",
)


class KeysRefused(Exception):
    """The key file given is missing or is not the store's: one line says which file and
    what to do; nothing was made or written."""


@dataclass(frozen=True)
class StoreKeys:
    """What a store says about its keys, read without writing (None: no such store yet)."""

    schema: migrations.SchemaState | None
    sealed: bool = False  # it holds rows sealed or keyed with its keys
    fingerprints: dict[str, str] = field(default_factory=dict)
    # One wrapped data key (key id, bytes): a store written before fingerprints were
    # recorded tells its master key by this opening.
    sample_key: tuple[str, bytes] | None = None

    @property
    def has_keys(self) -> bool:
        return self.sealed or bool(self.fingerprints)


def where(db_url: str) -> str:
    return make_url(db_url).render_as_string(hide_password=True)


def sqlite_file(db_url: str) -> Path | None:
    """The file of a SQLite store URL (None: not a file, or not SQLite)."""
    url = make_url(db_url)
    database = url.database or ""
    if not url.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def probe(db_url: str) -> StoreKeys:
    """The store's schema, whether it holds sealed rows and its recorded fingerprints; a
    SQLite file that is not there is not made (and a directory is refused)."""
    file = sqlite_file(db_url)
    if file is not None and file.is_dir():
        raise IsADirectoryError(
            f"the SQLite store {where(db_url)} is a directory, not a file: give the store's "
            f"file, e.g. sqlite:///{file / 'ledighed.db'}"
        )
    if file is not None and not file.exists():
        return StoreKeys(schema=None)
    engine = create_engine(db_url, hide_parameters=True)
    try:
        found = _read(engine)
        if found.schema is not None and not (found.schema.new or found.schema.at_head):
            # Behind, or another process is making this new store right now (two services
            # or ingests starting at once): once any migrator is done, look again.
            with migrations.one_migrator(engine):
                found = _read(engine)
        return found
    finally:
        engine.dispose()


def _read(engine: Engine) -> StoreKeys:
    schema = migrations.state(engine)
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        sealed = "ledighed_keys" in present and any(
            conn.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first() is not None
            for name in SEALED_TABLES
            if name in present
        )
        found = recorded(conn) if tables.key_fingerprints.name in present else {}
        sample = None
        if sealed and "master" not in found:
            row = conn.execute(select(tables.keys.c.key_id, tables.keys.c.wrapped).limit(1)).first()
            sample = (row[0], bytes(row[1])) if row is not None else None
    return StoreKeys(schema=schema, sealed=sealed, fingerprints=found, sample_key=sample)


def recorded(conn: Connection) -> dict[str, str]:
    table = tables.key_fingerprints
    return dict(conn.execute(select(table.c.name, table.c.fingerprint)).tuples().all())


def mismatch(secrets: Secrets, fingerprints: dict[str, str]) -> str | None:
    """Why these keys are not the ones the fingerprints were recorded of (None: they are).
    The file may hold chain keys the store has not used yet (a rotation)."""
    mine = secrets.fingerprints()
    for name, fingerprint in sorted(fingerprints.items()):
        if name not in mine:
            chain_key = name.removeprefix("chain:")
            return f"it lacks the chain key {chain_key} the store was written with"
        if mine[name] != fingerprint:
            return f"its {name} key is not the one the store was written with"
    return None


def _opens(secrets: Secrets, sample_key: tuple[str, bytes] | None) -> str | None:
    """Why the master key does not open the store's data keys (None: it does, or none)."""
    if sample_key is None:
        return None
    try:
        unwrap(secrets, *sample_key)
    except InvalidTag:
        return "its master key does not open the store's data keys"
    return None


def keys_for(db_url: str, found: StoreKeys, access: Access) -> Secrets:
    """The keys of the store by the settings, checked against what it recorded; a key file
    made only for a store that holds nothing sealed, by an opening that may create one."""
    path, given = key_path(db_url)
    if not path.exists():
        if found.has_keys:
            raise KeysRefused(
                f"no key file {path} for the store {where(db_url)}, which holds data sealed "
                "with its keys: restore the key file from the backup (or point "
                "LEDIGHED_SECRETS_FILE at it); nothing was changed"
            )
        if access != "create":
            raise KeysRefused(
                f"no key file {path}, and the store {where(db_url)} has no keys yet: "
                + _how_keys_are_made(db_url)
            )
        if not make_url(db_url).drivername.startswith("sqlite") and not given:
            raise KeysRefused(
                f"no key file {path} for the store {where(db_url)}: "
                + _how_keys_are_made(db_url)
            )
        create(path)
    secrets = load(path)
    why = mismatch(secrets, found.fingerprints) or _opens(secrets, found.sample_key)
    if why is not None:
        raise not_the_stores(path, why, db_url)
    return secrets


def _how_keys_are_made(db_url: str) -> str:
    if sqlite_file(db_url) is not None:
        return "a command that writes (ingest, run, serve) makes them for a new store"
    return (
        f"on PostgreSQL run `ledighed keys init --db {where(db_url)}` once and give every "
        "instance the file it makes (LEDIGHED_SECRETS_FILE)"
    )


def record(conn: Connection, secrets: Secrets, url: str) -> None:
    """Record the fingerprints of the keys the store has none of yet, in the caller's
    transaction; then check all of them (another instance may have recorded others)."""
    table = tables.key_fingerprints
    found = recorded(conn)
    rows = [
        {"name": name, "fingerprint": fingerprint, "recorded_at": datetime.now(UTC)}
        for name, fingerprint in secrets.fingerprints().items()
        if name not in found
    ]
    if rows:  # else no write at all (no lock taken beside a running writer)
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=["name"]))
        found = recorded(conn)
    why = mismatch(secrets, found)
    if why is not None:
        raise not_the_stores(secrets.path, why, url)


def not_the_stores(path: object, why: str, db_url: str) -> KeysRefused:
    return KeysRefused(
        f"the key file {path} is not the store's ({why}; store {where(db_url)}): restore "
        "the store's key file from the backup; nothing was changed"
    )


def init(db_url: str) -> tuple[Path, bool]:
    """`ledighed keys init`: make the key file of a store that has no keys (True), or check
    that the file there is the store's (False); refused as `keys_for` refuses."""
    found = probe(db_url)
    path, _ = key_path(db_url)
    made = False
    if not path.exists() and not found.has_keys:
        made = create(path)
    keys_for(db_url, found, "read")
    return path, made
