"""Crypto-shredding: what may carry personal data is encrypted (AES-GCM) with a key of its
own subject (each aggregate of a member, a CPR's rejected messages, or one rejected message
whose member cannot be told); `erase` deletes the keys and the data is gone, the log intact.

Keys are kept in `ledighed_keys`, each wrapped (AES-GCM) with the master key from the key
file (infra/store/secrets.py), so a copy of the database alone opens nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic
from sqlalchemy import Connection, Engine, delete, insert, select

from domain.cpr import normalize_cpr
from domain.untrusted import DEFAULT_LIMITS, UntrustedInputError, check_nesting, decode_json
from infra.store.secrets import Secrets
from infra.store.tables import keys as keys_table

SEALED = "_sealed"
# Event fields that may carry what upstream put in them (ids and free text), sealed with
# the aggregate's key in events written by this release.
SEALED_FIELDS = ("payment_id", "request_id", "note", "message", "message_ids")
ORPHAN_PREFIX = "letter:"
# What a sealed field reads as once its key is deleted (the contract's strings stay strings).
ERASED = "[erased]"
ERASED_AS: dict[str, Any] = {
    "payment_id": ERASED,
    "request_id": ERASED,
    "note": ERASED,
    "message_ids": [],
    "message": None,
}
CPR_PREFIX = "cpr:"


def _wrap(secrets: Secrets, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(secrets.master_key).encrypt(nonce, key, key_id.encode())


def _unwrap(secrets: Secrets, key_id: str, wrapped: bytes) -> bytes:
    return AESGCM(secrets.master_key).decrypt(wrapped[:12], wrapped[12:], key_id.encode())


def seal_bytes(cipher: AESGCM, data: bytes, context: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + cipher.encrypt(nonce, data, context)


def open_bytes(cipher: AESGCM, sealed: bytes, context: bytes) -> bytes:
    return cipher.decrypt(sealed[:12], sealed[12:], context)


CACHE_SECONDS = 60.0
"""How long a process trusts its cached data keys before reading them again."""


class KeyRing:
    """Data keys by key id, cached; made and deleted in the caller's transaction."""

    def __init__(self, secrets: Secrets, engine: Callable[[], Engine]) -> None:
        self.secrets = secrets
        self._engine = engine
        self._ciphers: dict[str, AESGCM] = {}
        self._all_loaded = False
        self._checked_at = time.monotonic()
        self._fresh: set[str] = set()  # adopted since the last check (maybe not committed)
        self._suppressed: set[str] = set()

    def suppress(self, key_ids: Iterable[str]) -> None:
        """Read as if these keys were gone (what an erasure will leave)."""
        self._suppressed.update(key_ids)

    def unsuppress(self, key_ids: Iterable[str]) -> None:
        self._suppressed.difference_update(key_ids)

    def get(self, key_id: str) -> AESGCM | None:
        """The key's cipher (None: no such key, e.g. erased)."""
        if key_id in self._suppressed:
            return None
        if time.monotonic() - self._checked_at > CACHE_SECONDS:
            self._drop_deleted()
        cipher = self._ciphers.get(key_id)
        if cipher is not None:
            return cipher
        if not self._all_loaded:
            self._all_loaded = True
            self._load(None)
        else:
            self._load([key_id])
        return self._ciphers.get(key_id)

    def known(self, key_ids: Iterable[str]) -> set[str]:
        wanted = [k for k in set(key_ids) if k not in self._ciphers]
        for i in range(0, len(wanted), 500):
            self._load(wanted[i : i + 500])
        return {k for k in key_ids if k in self._ciphers}

    def _load(self, key_ids: list[str] | None) -> None:
        query = select(keys_table.c.key_id, keys_table.c.wrapped)
        if key_ids is not None:
            query = query.where(keys_table.c.key_id.in_(key_ids))
        with self._engine().connect() as conn:
            for key_id, wrapped in conn.execute(query):
                self._ciphers[key_id] = AESGCM(_unwrap(self.secrets, key_id, bytes(wrapped)))

    def ensure(self, conn: Connection, owners: dict[str, str | None]) -> dict[str, AESGCM]:
        """Keys for these key ids (each with its member id, if any), made in `conn`'s
        transaction where missing. The new ones are kept only by `adopt` (after commit)."""
        # Which keys exist, asked in the write transaction itself, not the cache: a key
        # another process deleted (an erasure) is made anew, never trusted from memory.
        stored: set[str] = set()
        wanted = list(owners)
        for i in range(0, len(wanted), 500):
            column = keys_table.c.key_id
            stored.update(
                conn.execute(select(column).where(column.in_(wanted[i : i + 500]))).scalars()
            )
        self.forget([k for k in owners if k not in stored])
        found = self.known(stored)
        new: dict[str, AESGCM] = {}
        rows = []
        now = datetime.now(UTC)
        for key_id, member_id in owners.items():
            if key_id in found:
                continue
            key = AESGCM.generate_key(bit_length=256)
            new[key_id] = AESGCM(key)
            rows.append(
                {
                    "key_id": key_id,
                    "member_id": member_id,
                    "wrapped": _wrap(self.secrets, key_id, key),
                    "created_at": now,
                }
            )
        if rows:
            conn.execute(insert(keys_table), rows)
        return new

    def create_now(self, key_id: str, member_id: str | None) -> AESGCM:
        """A key made in a transaction of its own: for a save outside a unit of work (a
        member's CaseRead), never inside an open write transaction."""
        with self._engine().begin() as conn:
            self.adopt(self.ensure(conn, {key_id: member_id}))
        return self._ciphers[key_id]

    def adopt(self, new: dict[str, AESGCM]) -> None:
        self._ciphers.update(new)
        self._fresh.update(new)

    def _drop_deleted(self) -> None:
        """Another process may have erased a member (deleted its keys): a running service
        or API stops opening its data within CACHE_SECONDS, without a restart."""
        with self._engine().connect() as conn:
            stored = set(conn.execute(select(keys_table.c.key_id)).scalars())
        for key_id in [k for k in self._ciphers if k not in stored and k not in self._fresh]:
            del self._ciphers[key_id]
        self._fresh.clear()
        self._checked_at = time.monotonic()

    def forget(self, key_ids: Iterable[str] | None = None) -> None:
        if key_ids is None:
            self._ciphers.clear()
            self._all_loaded = False
        else:
            for key_id in key_ids:
                self._ciphers.pop(key_id, None)

    def erase(self, conn: Connection, member_id: str | None, cpr: str) -> int:
        """Delete the keys of a member's aggregates and of its CPR's dead letters."""
        ids = [self.cpr_key_id(cpr)]
        query = delete(keys_table).where(keys_table.c.key_id == ids[0])
        found = conn.execute(query).rowcount
        if member_id is not None:
            ids += list(
                conn.execute(
                    select(keys_table.c.key_id).where(keys_table.c.member_id == member_id)
                ).scalars()
            )
            found += conn.execute(
                delete(keys_table).where(keys_table.c.member_id == member_id)
            ).rowcount
        self.forget(ids)
        return int(found)

    def expire_orphans(self, conn: Connection, days: int, now: datetime | None = None) -> int:
        """Delete the own keys of dead letters older than `days` whose member is unknown."""
        before = (now or datetime.now(UTC)) - timedelta(days=days)
        gone = list(
            conn.execute(
                select(keys_table.c.key_id).where(
                    keys_table.c.key_id.like(ORPHAN_PREFIX + "%"),
                    keys_table.c.created_at < before,
                )
            ).scalars()
        )
        if gone:
            conn.execute(delete(keys_table).where(keys_table.c.key_id.in_(gone)))
            self.forget(gone)
        return len(gone)

    def cpr_key_id(self, cpr: str) -> str:
        return CPR_PREFIX + self.secrets.subject_hash(cpr)


# --- event payloads ------------------------------------------------------------------


def _seal_value(cipher: AESGCM, value: Any, context: bytes) -> dict[str, str]:
    data = json.dumps(value, default=str, separators=(",", ":")).encode()
    return {SEALED: base64.b64encode(seal_bytes(cipher, data, context)).decode()}


def _open_value(cipher: AESGCM | None, token: dict[str, str], context: bytes) -> Any:
    if cipher is None:
        return None
    try:
        # Text, not bytes: json.loads would first guess the bytes' encoding (it is UTF-8).
        return json.loads(open_bytes(cipher, base64.b64decode(token[SEALED]), context).decode())
    except InvalidTag:
        return None


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and SEALED in value


class SealingMapper(Mapper[UUID]):
    """The library's mapper with the personal fields of each new event sealed with its
    aggregate's key: `source.message_id`, payment and request ids, notes, kept messages.
    Events stored before this release hold them in the clear and load as they are; once
    the key is deleted, a sealed field loads as null (an erased member's history)."""

    def __init__(self, transcoder: Transcoder, ring: KeyRing) -> None:
        super().__init__(transcoder)
        self.ring = ring

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(domain_event.__class__)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        cipher = self.ring.get(str(originator_id))
        if cipher is None:
            # A unit of work makes its aggregates' keys in its transaction before it saves;
            # another save (a member's CaseRead) gets one here, the aggregate its owner.
            cipher = self.ring.create_now(str(originator_id), str(originator_id))
        context = str(originator_id).encode()
        for name in SEALED_FIELDS:
            if name in event_state and event_state[name] is not None:
                event_state[name] = _seal_value(cipher, event_state[name], context)
        source = event_state.get("source")
        if isinstance(source, dict) and source.get("message_id") is not None:
            source = dict(source)
            source["message_id"] = _seal_value(cipher, source["message_id"], context)
            event_state["source"] = source
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=self.transcoder.encode(event_state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        try:
            event_state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except Exception as e:
            msg = (
                f"Failed to deserialise state of stored event with topic '{stored_event.topic}', "
                f"originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        originator = str(stored_event.originator_id)
        context = originator.encode()
        source = event_state.get("source")
        sealed_source = isinstance(source, dict) and _is_sealed(source.get("message_id"))
        if sealed_source or any(_is_sealed(event_state.get(n)) for n in SEALED_FIELDS):
            cipher = self.ring.get(originator)
            for name in SEALED_FIELDS:
                if _is_sealed(event_state.get(name)):
                    value = _open_value(cipher, event_state[name], context)
                    if value is None:
                        value = ERASED_AS.get(name)
                    event_state[name] = value
            if sealed_source:
                source = dict(cast(dict[str, Any], source))
                source["message_id"] = _open_value(cipher, source["message_id"], context)
                event_state["source"] = source
        event_state["originator_id"] = (
            stored_event.originator_id
            if isinstance(stored_event.originator_id, UUID)
            else UUID(str(stored_event.originator_id))
        )
        event_state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return cast(DomainEventProtocol[UUID], domain_event)


# --- dead letters -------------------------------------------------------------------------

# A JSON string token, escapes included, and what may follow a key: for text that is not
# JSON, read as far as it goes.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_AFTER_KEY = re.compile(r'\s*:\s*(?:("(?:[^"\\]|\\.)*")|(-?[0-9]+))', re.DOTALL)


def letter_cpr(message: bytes | str, record_key: bytes | None = None) -> str | None:
    """The CPR whose key seals a rejected message: the CPR the decoder reads in it, so that
    erasing the member erases the letter. That is the `cpr` field of the JSON object as
    json.loads reads it (escapes decoded; where the key repeats, the last), or for text that
    is not JSON (cut short, say) the last `cpr` key's value as far as the text can be read,
    escapes decoded too. Failing that, a Kafka record's key where it is a CPR (the contract
    keys records by the member's CPR). None when no member can be told: no `cpr` field, or
    one that is not a CPR number (a real birth date); such a letter gets a key of its own,
    which expires."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    try:
        check_nesting(text, DEFAULT_LIMITS)
        data = decode_json(text, repeated_keys=True)  # a 5,000-digit number too
    except (ValueError, RecursionError, UntrustedInputError):
        data = _readable_pairs(text)
    found = _as_cpr(data.get("cpr")) if isinstance(data, dict) else None
    if found is None and record_key is not None:
        found = _as_cpr(record_key.decode("utf-8", "replace"))
    return found


def _readable_pairs(text: str) -> dict[str, object]:
    """The `"key": value` pairs of text that is not JSON, each string's escapes decoded
    (the last value where a key repeats, as json.loads would)."""
    pairs: dict[str, object] = {}
    position = 0
    while (token := _STRING.search(text, position)) is not None:
        position = token.end()
        after = _AFTER_KEY.match(text, position)
        if after is None:
            continue
        string, number = after.groups()
        # A number as long as a CPR at most (a longer one is none, and Python refuses to
        # convert one over 4,300 digits).
        value = _unescape(string) if string else int(number) if len(number) <= 11 else number
        pairs[_unescape(token.group())] = value
        position = after.end()
    return pairs


def _unescape(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token[1:-1]


def _as_cpr(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**10:
        value = f"{value:010d}"  # a CPR given as a number has lost its leading zero
    if not isinstance(value, str):
        return None
    try:
        return normalize_cpr(value.strip())
    except ValueError:
        return None


def seal_letter(cipher: AESGCM, content: dict[str, Any], context: str) -> bytes:
    return seal_bytes(cipher, json.dumps(content).encode(), context.encode())


def open_letter(cipher: AESGCM | None, sealed: bytes | None, context: str) -> dict[str, Any] | None:
    if cipher is None or sealed is None:
        return None
    try:
        return cast(dict[str, Any], json.loads(open_bytes(cipher, bytes(sealed), context.encode())))
    except InvalidTag:
        return None


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def open_row(ring: KeyRing, row: Any) -> dict[str, Any]:
    """A dead letter's row with its sealed content opened: `raw`, `value`, `message_id`,
    `record_key` and `error` as they were kept (all null once its key is deleted)."""
    out = dict(row)
    if out.get("sealed") is None:
        return out
    cipher = ring.get(out["key_id"]) if out.get("key_id") else None
    content = open_letter(cipher, out["sealed"], out["content_hash"]) or {}
    out["raw"] = content.get("raw")
    out["value"] = unb64(content.get("value"))
    out["message_id"] = content.get("message_id")
    out["record_key"] = unb64(content.get("record_key"))
    out["error"] = content.get("error")
    out["cut"] = content.get("cut")  # {length, sha256} of a message kept cut (over the limit)
    out["source"] = {**(out.get("source") or {}), "message_id": out["message_id"]}
    return out
