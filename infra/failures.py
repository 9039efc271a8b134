"""Telling a failure of the store or the broker (retry) from any other, and saying it safely."""

from __future__ import annotations

import re
import sqlite3

import psycopg
import sqlalchemy.exc
from eventsourcing import persistence
from kafka.errors import KafkaError

from domain.untrusted import safe_text

STORE_OR_BROKER_FAILURES: tuple[type[BaseException], ...] = (
    # The database went away, is locked or busy, or another writer saved the same aggregate
    # or message id meanwhile (the batch is then applied again from the store).
    persistence.OperationalError,
    persistence.InterfaceError,
    persistence.IntegrityError,
    persistence.InternalError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.IntegrityError,
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.PendingRollbackError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    KafkaError,
    OSError,  # ConnectionError, TimeoutError and the socket's own
)

_CPR = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])")


def is_store_or_broker_failure(error: BaseException) -> bool:
    """Whether retrying later can cure it: the store or the broker failed, not the input
    and not the code. A wrapped error counts by what it wraps."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, STORE_OR_BROKER_FAILURES):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def describe(error: BaseException, limit: int = 300) -> str:
    """The error's type and first line, without the SQL statement or its bound parameters
    (which hold CPR numbers), and any CPR-shaped number masked: safe for a log or stderr."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        # SQLAlchemy's message appends the statement and its parameters; the driver's own
        # error (`orig`) says what went wrong without them.
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            return _one_line(type(error).__name__, orig, limit)
        seen.add(id(current))
        current = current.__cause__
    return _one_line(type(error).__name__, error, limit)


def _one_line(name: str, error: BaseException, limit: int) -> str:
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    first = first.split(" [SQL: ", 1)[0]
    # kafka-python's errors name their class in their text already.
    text = first if first.startswith(f"{name}: ") else f"{name}: {first}" if first else name
    return _CPR.sub("<cpr>", safe_text(text))[:limit]
