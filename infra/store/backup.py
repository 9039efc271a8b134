"""`ledighed backup DEST`: a consistent copy of a SQLite store (SQLite's online backup API,
safe while the service writes) with its key file beside it; for PostgreSQL the key file,
and the pg_dump command for the database (which this program does not run)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from infra.store import key_check


def key_file_of(dest: Path) -> Path:
    """Where a backup's key file goes: beside the copy, where a SQLite store's is looked for."""
    return Path(f"{dest}.secrets.json")


def backup(db_url: str, dest: Path) -> dict[str, Any]:
    """Write the copy (SQLite) and the key file (every store); refused, writing nothing, when
    the store's keys are not there or not its own, or DEST or its key file exists."""
    found = key_check.probe(db_url)
    if found.schema is None:
        raise FileNotFoundError(f"no store at {key_check.where(db_url)}")
    secrets = key_check.keys_for(db_url, found, "read")
    assert secrets.path is not None
    file = key_check.sqlite_file(db_url)
    if dest.is_dir():  # DEST a folder: the copy in it, named as the store's file
        dest = dest / (file.name if file is not None else "ledighed")
    keys_dest = key_file_of(dest)
    for target in (dest, keys_dest) if file is not None else (keys_dest,):
        if target.exists():
            raise FileExistsError(f"{target} exists: give a new DEST (a backup never overwrites)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if file is not None:
        _copy_sqlite(file, dest)
    _copy_key_file(Path(secrets.path), keys_dest)
    dump = None
    if file is None:
        libpq = make_url(db_url).set(drivername="postgresql")
        dump = f"pg_dump -Fc -f {dest}.dump {libpq.render_as_string(hide_password=True)}"
    return {
        "store": str(dest) if file is not None else None,
        "key_file": str(keys_dest),
        "pg_dump": dump,
    }


def _copy_sqlite(source: Path, dest: Path) -> None:
    """One step of the backup API: a snapshot as of one moment, taken under a read lock (in
    WAL mode a writer goes on meanwhile); written to a temporary file, checked, then renamed,
    so DEST is never a torn copy."""
    partial = dest.with_name(f".{dest.name}.partial")
    src = sqlite3.connect(source, timeout=30)  # it exists (probed): nothing is made
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, no -wal beside it
            (verdict,) = out.execute("PRAGMA quick_check").fetchone()
        finally:
            out.close()
    finally:
        src.close()
    if verdict != "ok":
        partial.unlink()
        raise OSError(f"the copy of {source} did not check out ({verdict}); nothing was written")
    os.chmod(partial, 0o600)  # personal data
    os.replace(partial, dest)


def _copy_key_file(source: Path, dest: Path) -> None:
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
