"""The access log: every read of personal data over HTTP (who, when, which members, how asked).

Chained: each entry's `link` is an HMAC under the chain key over its predecessor's link and
its content (members included), and the newest link is sealed in `ledighed_chain_seals`
(as `HEAD`), so that an entry edited or deleted in the middle, or the newest ones deleted,
shows in `audit verify` (`verify`).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine

from infra.store import tables
from infra.store.hashchain import GENESIS, keyed_hmac, seal_hmac
from infra.store.secrets import Secrets

access_log = tables.access_log
access_log_members = tables.access_log_members
seals = tables.chain_seals

HEAD = "access-log"
"""The access log's head in `ledighed_chain_seals`: its newest entry's id and link, sealed."""


def record(
    engine: Engine,
    secrets: Secrets,
    *,
    reader: str,
    role: str,
    source: str,
    what: str,
    parameters: dict[str, Any],
    member_ids: Iterable[UUID],
    rows: int,
    read_at: datetime | None = None,
) -> int:
    """One read, its members by id (each once), in one transaction; the entry's id."""
    # the parameters given (an `after` of 0 included; a flag left off and None are not)
    shown = {k: _plain(v) for k, v in parameters.items() if v is not None and v is not False}
    members = sorted({str(m) for m in member_ids})
    entry = {
        "read_at": _utc(read_at or datetime.now(UTC)),
        "reader": reader,
        "role": role,
        "source": source,
        "what": what,
        "parameters": json.dumps(shown, sort_keys=True),
        "rows": rows,
    }
    with engine.begin() as conn:
        # The head's row first: its write lock orders the writers of the chain (on SQLite
        # too, where a read before the first write could not be upgraded).
        locked = conn.execute(
            update(seals).where(seals.c.originator_id == HEAD).values(key_id=seals.c.key_id)
        ).rowcount
        previous = GENESIS
        if locked:
            previous = conn.execute(
                select(seals.c.hash).where(seals.c.originator_id == HEAD)
            ).scalar_one()
        entry_id = int(conn.execute(insert(access_log).values(**entry)).inserted_primary_key[0])
        if members:
            conn.execute(
                insert(access_log_members),
                [{"entry_id": entry_id, "member_id": m} for m in members],
            )
        key_id, key = secrets.chain_key_id, secrets.chain_key
        link = entry_link(key, previous, entry_id, entry, members)
        conn.execute(
            update(access_log)
            .where(access_log.c.entry_id == entry_id)
            .values(link=link, key_id=key_id)
        )
        seal_head(conn, secrets, entry_id, link, exists=bool(locked))
    return entry_id


def entry_link(key: bytes, previous: str, entry_id: int, entry: Any, members: Iterable[str]) -> str:
    """An entry's link: an HMAC over its predecessor's link, its id, its content and its
    members (sorted)."""
    get = entry.get if isinstance(entry, dict) else entry._mapping.get
    return keyed_hmac(
        key,
        "access",
        previous,
        str(entry_id),
        _utc(get("read_at")).isoformat(),
        *(str(get(name)) for name in ("reader", "role", "source", "what", "parameters", "rows")),
        ",".join(sorted(members)),
    )


def seal_head(conn: Connection, secrets: Secrets, entry_id: int, link: str, exists: bool) -> None:
    """The access log's head sealed at this entry (`HEAD` in `ledighed_chain_seals`)."""
    values = {
        "originator_version": entry_id,
        "hash": link,
        "key_id": secrets.chain_key_id,
        "seal": seal_hmac(secrets.chain_key, HEAD, entry_id, link),
    }
    if exists:
        conn.execute(update(seals).where(seals.c.originator_id == HEAD).values(**values))
    else:
        conn.execute(insert(seals).values(originator_id=HEAD, **values))


def verify(engine: Engine, secrets: Secrets, page: int = 5000) -> tuple[int, list[dict[str, Any]]]:
    """The access log's chain: the entries checked, and each entry whose link does not
    hold (edited, or its predecessor deleted), and the head when the newest entries are
    not the sealed ones (deleted) or its seal is forged."""
    breaks: list[dict[str, Any]] = []
    previous, last, checked = GENESIS, 0, 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(access_log)
                .where(access_log.c.entry_id > last)
                .order_by(access_log.c.entry_id)
                .limit(page)
            ).all()
            if not rows:
                break
            members: dict[int, list[str]] = {r.entry_id: [] for r in rows}
            for entry_id, member in conn.execute(
                select(access_log_members.c.entry_id, access_log_members.c.member_id).where(
                    access_log_members.c.entry_id.in_(list(members))
                )
            ):
                members[entry_id].append(member)
            for row in rows:
                checked += 1
                key = secrets.chain_keys.get(row.key_id) if row.key_id else None
                if row.link is None:
                    problem = "the entry has no link"
                elif key is None:
                    problem = f"the entry's chain key {row.key_id!r} is not in the key file"
                elif not hmac.compare_digest(
                    row.link, entry_link(key, previous, row.entry_id, row, members[row.entry_id])
                ):
                    problem = (
                        "the entry's content, its members or its predecessor (deleted?) "
                        "does not match its link"
                    )
                else:
                    problem = None
                if problem:
                    breaks.append({"entry_id": row.entry_id, "problem": problem})
                previous = row.link or GENESIS  # one break per change, not all after it
                last = row.entry_id
        head = conn.execute(select(seals).where(seals.c.originator_id == HEAD)).first()
    breaks += _head_breaks(secrets, head, last, previous)
    return checked, breaks


def _head_breaks(secrets: Secrets, head: Any, last: int, link: str) -> list[dict[str, Any]]:
    if head is None:  # sealed by migration r0008 even when empty: gone is deleted
        return [{"entry_id": last, "problem": "the access log's sealed head is missing"}]
    key = secrets.chain_keys.get(head.key_id)
    if key is None or not hmac.compare_digest(
        head.seal, seal_hmac(key, HEAD, head.originator_version, head.hash)
    ):
        return [
            {"entry_id": head.originator_version, "problem": "the access log's head seal is forged"}
        ]
    if head.originator_version == last and hmac.compare_digest(head.hash, link):
        return []
    if head.originator_version > last:
        sealed = head.originator_version
        problem = f"the newest entries after entry {last} are missing (the head is at {sealed})"
    else:
        problem = (
            f"the entries after the sealed head (entry {head.originator_version}) are not sealed"
        )
    return [{"entry_id": head.originator_version, "problem": problem}]


def _plain(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) else str(value)


def entries(
    engine: Engine,
    *,
    member_id: UUID | None = None,
    reader: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The reads, oldest first, after entry `after`: of one member, by one reader, in a time
    span; each with the ids of the members it showed."""
    query = select(access_log).where(access_log.c.entry_id > after)
    if member_id is not None:
        query = query.where(
            access_log.c.entry_id.in_(
                select(access_log_members.c.entry_id).where(
                    access_log_members.c.member_id == str(member_id)
                )
            )
        )
    if reader is not None:
        query = query.where(access_log.c.reader == reader)
    if since is not None:  # compared in UTC, as stored (SQLite keeps no zone)
        query = query.where(access_log.c.read_at >= _utc(since))
    if until is not None:
        query = query.where(access_log.c.read_at <= _utc(until))
    query = query.order_by(access_log.c.entry_id).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        ids = [row.entry_id for row in rows]
        members: dict[int, list[str]] = {entry_id: [] for entry_id in ids}
        if ids:
            found = conn.execute(
                select(access_log_members.c.entry_id, access_log_members.c.member_id)
                .where(access_log_members.c.entry_id.in_(ids))
                .order_by(access_log_members.c.entry_id, access_log_members.c.member_id)
            )
            for entry_id, member in found:
                members[entry_id].append(member)
    return [
        {
            "entry_id": row.entry_id,
            "read_at": _utc(row.read_at).isoformat(),
            "reader": row.reader,
            "role": row.role,
            "source": row.source,
            "what": row.what,
            "parameters": json.loads(row.parameters),
            "rows": row.rows,
            "member_ids": members[row.entry_id],
        }
        for row in rows
    ]


def _utc(moment: datetime) -> datetime:
    """A moment in UTC; one without a zone (SQLite gives them back so) was stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
