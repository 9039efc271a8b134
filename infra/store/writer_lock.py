"""One service writing a SQLite file: a second `ledighed run` on the same file is refused at
once, with who holds it, instead of failing later with "database is locked"."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from infra.store.store import sqlalchemy_url


class SecondWriter(OSError):
    """Another service already writes this SQLite file."""


def lock_path(db_url: str) -> Path | None:
    """The lock file beside a SQLite store's file (None: not a SQLite file)."""
    url = make_url(sqlalchemy_url(db_url))
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or "mode=memory" in (
        str(url.query.get("mode", ""))
    ):
        return None
    return Path(database).resolve().with_name(Path(database).name + ".writer.lock")


@contextmanager
def single_writer(db_url: str, who: str = "ledighed run") -> Iterator[None]:
    """Hold the store's writer lock while the block runs (PostgreSQL: no lock, several
    instances share it). The lock is the kernel's (flock): a killed holder releases it."""
    path = lock_path(db_url)
    store = make_url(sqlalchemy_url(db_url)).database
    if path is None:
        yield
        return
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise SecondWriter(
                f"{holder} already writes to the SQLite store {store} "
                f"(lock {path}); a SQLite file takes one writer: stop it first, or run several "
                "instances on PostgreSQL"
            ) from None
        try:
            lock.seek(0)
            lock.truncate()
            lock.write(f"{who} (pid {os.getpid()})\n")
            lock.flush()
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)
