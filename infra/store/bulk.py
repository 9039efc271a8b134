"""Many rows into one table inside the current transaction: COPY on PostgreSQL (the fastest
way in), one executemany elsewhere; a unique violation on either is the library's
IntegrityError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy.exc
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Connection, Table, insert


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys; no JSON columns) into `table`.

    A duplicate key raises `eventsourcing.persistence.IntegrityError` on every store, so that
    one class means "another writer got there first" wherever the project retries.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        try:
            conn.execute(insert(table), list(rows))
        except sqlalchemy.exc.IntegrityError as error:
            raise IntegrityError(error) from error
        return
    import psycopg  # only PostgreSQL needs it

    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    where = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    driver = conn.connection.driver_connection  # psycopg, in this transaction
    assert driver is not None
    # COPY runs on the raw cursor, so neither SQLAlchemy nor the library's datastore sees
    # its errors: map the one that means a conflict here.
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(  # type: ignore[attr-defined]
                f"COPY {where} ({names}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.IntegrityError as error:
        raise IntegrityError(error) from error
