"""Tamper evidence: each stored event's link covers its content and its predecessor's link
in the same aggregate, so an edited, removed or inserted row breaks the chain.

Links are HMACs under a chain key kept outside the database (infra/store/secrets.py; `key_id`
names it), so whoever can write the database cannot recompute them. Links written before
migration 0004 are unkeyed sha256; that migration sealed each aggregate's last one with an
HMAC (`ledighed_chain_seals`), and unkeyed links verify only up to the seal.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, Table, func, select, tuple_
from sqlalchemy.orm import Session

from infra.store.bulk import bulk_insert
from infra.store.secrets import Secrets
from infra.store.tables import chain_seals, event_hashes, members

GENESIS = "0" * 64


def link_hash(previous: str, originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """sha256 over the predecessor's hash and everything stored of the event."""
    digest = hashlib.sha256()
    for part in (previous, str(originator_id), str(version), topic):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(state)
    return digest.hexdigest()


def link_hmac(
    key: bytes, previous: str, originator_id: UUID, version: int, topic: str, state: bytes
) -> str:
    """HMAC-SHA256 under the chain key over what `link_hash` covers."""
    mac = hmac.new(key, digestmod="sha256")
    for part in (previous, str(originator_id), str(version), topic):
        mac.update(part.encode())
        mac.update(b"\x00")
    mac.update(state)
    return mac.hexdigest()


def seal_hmac(key: bytes, originator_id: str, version: int, digest: str) -> str:
    """The seal of an aggregate's last unkeyed link."""
    message = f"seal\x00{originator_id}\x00{version}\x00{digest}".encode()
    return hmac.new(key, message, "sha256").hexdigest()


def keyed_hmac(key: bytes, label: str, *parts: str) -> str:
    """HMAC-SHA256 under a chain key over a label and parts (each ended by a NUL): what the
    registry rows and the access log are bound with, besides the events' links."""
    mac = hmac.new(key, digestmod="sha256")
    for part in (label, *parts):
        mac.update(part.encode())
        mac.update(b"\x00")
    return mac.hexdigest()


def registry_binding(
    secrets: Secrets, member_id: str, cpr: str, birth_date: date
) -> dict[str, str]:
    """A registry row's binding and its key id: the CPR and birth date tied to the member's
    id under the current chain key, so that a CPR swapped between rows shows."""
    key_id = secrets.chain_key_id
    digest = keyed_hmac(secrets.chain_key, "member", member_id, cpr, birth_date.isoformat())
    return {"binding": digest, "binding_key_id": key_id}


def verify_registry(engine: Engine, secrets: Secrets) -> tuple[int, list[dict[str, str]]]:
    """Every registry row of a member not erased checked against its binding: the rows
    checked, and each member whose CPR or birth date is not the one bound to its id (by
    member id only: the report names no CPR)."""
    columns = members.c
    query = select(
        columns.member_id, columns.cpr, columns.birth_date, columns.binding,
        columns.binding_key_id,
    ).where(columns.cpr.is_not(None)).order_by(columns.member_id)  # fmt: skip
    checked, found = 0, []
    with engine.connect() as conn:
        for member_id, cpr, birth, binding, key_id in conn.execute(query):
            checked += 1
            key = secrets.chain_keys.get(key_id) if key_id is not None else None
            if binding is None:
                problem = "the registry row has no binding of its CPR to the member"
            elif key is None:
                problem = f"the registry row's chain key {key_id!r} is not in the key file"
            elif birth is None or not hmac.compare_digest(
                binding, keyed_hmac(key, "member", member_id, cpr, birth.isoformat())
            ):
                problem = "the registry's CPR or birth date is not the one bound to the member"
            else:
                continue
            found.append({"member_id": member_id, "problem": problem})
    return checked, found


def record_hashes(
    session: Session,
    stored_events: Sequence[StoredEvent],
    secrets: Secrets,
    known: Mapping[str, tuple[int, str]] | None = None,
) -> dict[str, tuple[int, str]]:
    """Chain the new events onto their aggregates' last stored hashes, in the same transaction;
    the new last (version, hash) of each aggregate. `known`: committed links already known
    (an aggregate's version and hash), read instead of the table where the version fits."""
    latest: dict[str, str] = {}
    first: dict[str, int] = {}
    for e in stored_events:
        first.setdefault(str(e.originator_id), e.originator_version)
    wanted = []
    for originator, version in first.items():
        if version == 1:
            continue
        head = known.get(originator) if known is not None else None
        if head is not None and head[0] == version - 1:
            latest[originator] = head[1]
        else:
            wanted.append((originator, version - 1))
    for chunk in _chunks(sorted(wanted), 500):
        rows = session.execute(
            select(event_hashes.c.originator_id, event_hashes.c.hash).where(
                tuple_(event_hashes.c.originator_id, event_hashes.c.originator_version).in_(chunk)
            )
        )
        latest.update({originator: digest for originator, digest in rows})
    rows_out = []
    heads: dict[str, tuple[int, str]] = {}
    key_id, key = secrets.chain_key_id, secrets.chain_key
    for event in stored_events:
        originator = str(event.originator_id)
        previous = GENESIS if event.originator_version == 1 else latest.get(originator, "")
        digest = link_hmac(
            key, previous, event.originator_id, event.originator_version, event.topic, event.state
        )
        latest[originator] = digest
        heads[originator] = (event.originator_version, digest)
        rows_out.append(
            {
                "originator_id": originator,
                "originator_version": event.originator_version,
                "hash": digest,
                "key_id": key_id,
            }
        )
    bulk_insert(session.connection(), event_hashes, rows_out)
    return heads


@dataclass(frozen=True)
class Break:
    """The first link of an aggregate's chain that does not hold, and why."""

    originator_id: str
    version: int
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.originator_id,
            "version": self.version,
            "problem": self.problem,
        }


def verify(
    engine: Engine, events: Table, secrets: Secrets, page: int = 5000
) -> tuple[int, list[Break]]:
    """Check every aggregate's chain; the number of events checked and the first break of
    each aggregate whose chain is broken."""
    seals = _seals(engine, secrets)
    breaks: dict[str, Break] = {}
    last_version: dict[str, int] = {}
    checked = 0
    current: str | None = None
    previous = GENESIS
    expected_version = 1
    for originator, version, topic, state, stored, key_id in _joined(engine, events, page):
        checked += 1
        last_version[originator] = version
        if originator != current:
            current, previous, expected_version = originator, GENESIS, 1
        if originator in breaks:
            continue
        if version != expected_version:
            problem = f"version {expected_version} is missing (next stored is {version})"
            breaks[originator] = Break(originator, expected_version, problem)
            continue
        seal = seals.get(originator)
        unkeyed_allowed = seal is not None and version <= seal[0]
        if key_id is None and stored is not None and not unkeyed_allowed:
            problem = "an unkeyed link where the chain must be keyed (not sealed at the upgrade)"
            breaks[originator] = Break(originator, version, problem)
            continue
        if key_id is None:
            digest = link_hash(previous, UUID(originator), version, topic, _as_bytes(state))
        elif key_id not in secrets.chain_keys:
            problem = f"the link's chain key {key_id!r} is not in the key file"
            breaks[originator] = Break(originator, version, problem)
            continue
        else:
            digest = link_hmac(
                secrets.chain_keys[key_id],
                previous,
                UUID(originator),
                version,
                topic,
                _as_bytes(state),
            )
        if stored is None:
            breaks[originator] = Break(originator, version, "the event has no stored hash")
        elif not hmac.compare_digest(stored, digest):
            problem = "the event's content or its predecessor does not match its stored hash"
            breaks[originator] = Break(originator, version, problem)
        elif seal is not None and version == seal[0] and seal[1] != digest:
            problem = "the unkeyed links before the upgrade do not match their seal"
            breaks[originator] = Break(originator, version, problem)
        previous, expected_version = digest, version + 1
    # A chain cut at its end leaves hashes with no event behind them.
    with engine.connect() as conn:
        hashed = conn.execute(
            select(
                event_hashes.c.originator_id, func.max(event_hashes.c.originator_version)
            ).group_by(event_hashes.c.originator_id)
        )
        for originator, top in hashed:
            stored_top = last_version.get(originator, 0)
            if top > stored_top and originator not in breaks:
                problem = (
                    f"version {stored_top + 1} is missing (its hash is stored, the event is not)"
                )
                breaks[originator] = Break(originator, stored_top + 1, problem)
    for originator, (version, _) in seals.items():
        if version > last_version.get(originator, 0) and originator not in breaks:
            problem = f"version {version} is sealed but not stored"
            breaks[originator] = Break(originator, version, problem)
    return checked, list(breaks.values())


def _seals(engine: Engine, secrets: Secrets) -> dict[str, tuple[int, str | None]]:
    """Each sealed aggregate's last unkeyed version and hash (None: the seal is forged)."""
    found: dict[str, tuple[int, str | None]] = {}
    with engine.connect() as conn:
        # The access log's head (infra/store/access_log.HEAD) is sealed here too, not an
        # aggregate: its own check reads it.
        query = select(chain_seals).where(chain_seals.c.originator_id != "access-log")
        for originator, version, digest, key_id, seal in conn.execute(query):
            key = secrets.chain_keys.get(key_id)
            valid = key is not None and hmac.compare_digest(
                seal, seal_hmac(key, originator, version, digest)
            )
            found[originator] = (version, digest if valid else None)
    return found


def _joined(
    engine: Engine, events: Table, page: int
) -> Iterator[tuple[str, int, str, Any, str | None, str | None]]:
    """Every stored event with its stored hash, by aggregate and version, a page at a time."""
    columns = (events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
    after: tuple[Any, int] | None = None
    with engine.connect() as conn:
        while True:
            query = select(*columns).order_by(events.c.originator_id, events.c.originator_version)
            if after is not None:
                query = query.where(
                    tuple_(events.c.originator_id, events.c.originator_version) > after
                )
            rows = list(conn.execute(query.limit(page)))
            if not rows:
                return
            keys = [(str(r[0]), r[1]) for r in rows]
            stored = dict(
                ((o, v), (h, k))
                for o, v, h, k in conn.execute(
                    select(
                        event_hashes.c.originator_id,
                        event_hashes.c.originator_version,
                        event_hashes.c.hash,
                        event_hashes.c.key_id,
                    ).where(
                        tuple_(event_hashes.c.originator_id, event_hashes.c.originator_version).in_(
                            keys
                        )
                    )
                )
            )
            for (originator, version), row in zip(keys, rows, strict=True):
                digest, key_id = stored.get((originator, version), (None, None))
                yield originator, version, row[2], row[3], digest, key_id
            after = (rows[-1][0], rows[-1][1])


def _as_bytes(state: Any) -> bytes:
    # A row edited by hand may come back as text rather than bytes.
    return state.encode() if isinstance(state, str) else bytes(state)


def _chunks(items: list[tuple[str, int]], size: int) -> Iterator[list[tuple[str, int]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
