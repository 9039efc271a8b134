"""Many rows into one table inside the current transaction: COPY on PostgreSQL (the fastest
way in), one executemany elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys; no JSON columns) into `table`."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    driver = conn.connection.driver_connection  # psycopg, in this transaction
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(  # type: ignore[attr-defined]
            f'COPY "{table.name}" ({names}) FROM STDIN'
        ) as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in columns])
