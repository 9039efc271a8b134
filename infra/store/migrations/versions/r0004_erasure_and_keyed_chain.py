"""Erased means erased, and a chain no database writer can forge (issue 12, items 5 and 6).

- `ledighed_keys`: data keys for crypto-shredding, each wrapped with the key file's master
  key (infra/store/shredding.py); `erase` deletes a member's.
- Accepted message ids are kept as keyed hashes (`message_hash`), not as the ids.
- Dead letters: the message, its id and key and the error are sealed (AES-GCM) with the
  key of the CPR they name (or, when none can be told, a key of their own that expires);
  the content hash becomes keyed.
- The hash chain: new links are HMACs under a chain key from the key file (`key_id`); each
  aggregate's last unkeyed link is sealed with an HMAC (`ledighed_chain_seals`), so the old
  sha256 links verify up to there and nowhere else.

The keys come from the key file (LEDIGHED_SECRETS_FILE, or the default one, made on first
use), never from or into the database. Rows are converted a batch at a time in the
migration's autocommit block, each statement committed, so a kill leaves the rows done so
far and `ledighed migrate` goes on with the rest (a converted row is one whose new column
is set).

Revision ID: 0004_erasure_and_keyed_chain
Revises: 0003_access_log
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from infra.store.hashchain import seal_hmac
from infra.store.secrets import Secrets, for_store
from infra.store.shredding import CPR_PREFIX, ORPHAN_PREFIX, _wrap, b64, letter_cpr, seal_letter

revision = "0004_erasure_and_keyed_chain"
down_revision = "0003_access_log"
branch_labels = None
depends_on = None

BATCH = 1000
aware = sa.DateTime(timezone=True)


def _secrets(bind: Any) -> Secrets:
    given = context.config.attributes.get("secrets")
    if given is not None:
        return given  # type: ignore[no-any-return]
    return for_store(bind.engine.url.render_as_string(hide_password=False))


# Only the columns this migration reads and writes, as they are at this revision.
_meta = sa.MetaData()
keys = sa.Table(
    "ledighed_keys",
    _meta,
    sa.Column("key_id", sa.String(80), primary_key=True),
    sa.Column("member_id", sa.String(36)),
    sa.Column("wrapped", sa.LargeBinary),
    sa.Column("created_at", aware),
)
processed = sa.Table(
    "ledighed_processed_messages",
    _meta,
    sa.Column("message_id", sa.String(128)),
    sa.Column("message_hash", sa.String(64)),
)
letters = sa.Table(
    "ledighed_dead_letters",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("message_id", sa.String(128)),
    sa.Column("raw", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("source", sa.JSON),
    sa.Column("value", sa.LargeBinary),
    sa.Column("record_key", sa.LargeBinary),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("sealed", sa.LargeBinary),
    sa.Column("key_id", sa.String(80)),
)
hashes = sa.Table(
    "ledighed_event_hashes",
    _meta,
    sa.Column("originator_id", sa.String(36)),
    sa.Column("originator_version", sa.Integer),
    sa.Column("hash", sa.String(64)),
    sa.Column("key_id", sa.String(32)),
)
seals = sa.Table(
    "ledighed_chain_seals",
    _meta,
    sa.Column("originator_id", sa.String(36), primary_key=True),
    sa.Column("originator_version", sa.Integer),
    sa.Column("hash", sa.String(64)),
    sa.Column("key_id", sa.String(32)),
    sa.Column("seal", sa.String(64)),
)


def add_tables_and_columns(bind: Any) -> None:
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if "ledighed_keys" not in existing:
        op.create_table(
            "ledighed_keys",
            sa.Column("key_id", sa.String(80), primary_key=True),
            sa.Column("member_id", sa.String(36), nullable=True),
            sa.Column("wrapped", sa.LargeBinary, nullable=False),
            sa.Column("created_at", aware, nullable=False),
        )
        op.create_index("ix_ledighed_keys_member_id", "ledighed_keys", ["member_id"])
    if "ledighed_chain_seals" not in existing:
        op.create_table(
            "ledighed_chain_seals",
            sa.Column("originator_id", sa.String(36), primary_key=True),
            sa.Column("originator_version", sa.Integer, nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Column("key_id", sa.String(32), nullable=False),
            sa.Column("seal", sa.String(64), nullable=False),
        )
    if "key_id" not in {c["name"] for c in inspector.get_columns("ledighed_event_hashes")}:
        with op.batch_alter_table("ledighed_event_hashes") as batch:
            batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
    columns = {c["name"] for c in inspector.get_columns("ledighed_processed_messages")}
    if "message_hash" not in columns:
        with op.batch_alter_table("ledighed_processed_messages") as batch:
            batch.add_column(sa.Column("message_hash", sa.String(64), nullable=True))
    columns = {c["name"] for c in inspector.get_columns("ledighed_dead_letters")}
    if "sealed" not in columns:
        with op.batch_alter_table("ledighed_dead_letters") as batch:
            batch.add_column(sa.Column("sealed", sa.LargeBinary, nullable=True))
            batch.add_column(sa.Column("key_id", sa.String(80), nullable=True))
            batch.alter_column("raw", existing_type=sa.Text(), nullable=True)
            batch.alter_column("error", existing_type=sa.Text(), nullable=True)


def hash_message_ids(
    bind: Any, secrets: Secrets, batch_size: int = BATCH, max_batches: int | None = None
) -> int:
    done = batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(
            bind.execute(
                sa.select(processed.c.message_id)
                .where(processed.c.message_hash.is_(None))
                .limit(batch_size)
            ).scalars()
        )
        if not ids:
            break
        bind.execute(
            processed.update()
            .where(processed.c.message_id == sa.bindparam("mid"))
            .values(message_hash=sa.bindparam("digest")),
            [{"mid": m, "digest": secrets.message_hash(m)} for m in ids],
        )
        done += len(ids)
        batches += 1
    return done


def seal_chains(
    bind: Any, secrets: Secrets, batch_size: int = BATCH, max_batches: int | None = None
) -> int:
    """Seal each aggregate's last (unkeyed) link, for the aggregates not sealed yet."""
    done = batches = 0
    unsealed = ~sa.exists().where(seals.c.originator_id == hashes.c.originator_id)
    while max_batches is None or batches < max_batches:
        tops = bind.execute(
            sa.select(hashes.c.originator_id, sa.func.max(hashes.c.originator_version))
            .where(unsealed)
            .group_by(hashes.c.originator_id)
            .order_by(hashes.c.originator_id)
            .limit(batch_size)
        ).all()
        if not tops:
            break
        found = {
            (o, v): h
            for o, v, h in bind.execute(
                sa.select(hashes.c.originator_id, hashes.c.originator_version, hashes.c.hash).where(
                    sa.tuple_(hashes.c.originator_id, hashes.c.originator_version).in_(
                        [(o, v) for o, v in tops]
                    )
                )
            )
        }
        key_id, key = secrets.chain_key_id, secrets.chain_key
        bind.execute(
            seals.insert(),
            [
                {
                    "originator_id": o,
                    "originator_version": v,
                    "hash": found[(o, v)],
                    "key_id": key_id,
                    "seal": seal_hmac(key, o, v, found[(o, v)]),
                }
                for o, v in tops
            ],
        )
        done += len(tops)
        batches += 1
    return done


def seal_dead_letters(
    bind: Any, secrets: Secrets, batch_size: int = BATCH, max_batches: int | None = None
) -> int:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    done = batches = 0
    while max_batches is None or batches < max_batches:
        rows = bind.execute(
            sa.select(letters).where(letters.c.key_id.is_(None)).order_by(letters.c.id).limit(
                batch_size
            )
        ).mappings().all()
        if not rows:
            break
        ciphers: dict[str, AESGCM] = {}
        updates = []
        for row in rows:
            raw = row["raw"] or ""
            cpr = letter_cpr(raw)
            digest = secrets.content_hash(
                bytes(row["value"]) if row["value"] is not None else raw.encode()
            )
            key_id = CPR_PREFIX + secrets.subject_hash(cpr) if cpr else ORPHAN_PREFIX + digest
            cipher = ciphers.get(key_id) or _key(bind, secrets, key_id)
            ciphers[key_id] = cipher
            content = {
                "raw": raw,
                "value": b64(bytes(row["value"]) if row["value"] is not None else None),
                "message_id": row["message_id"],
                "record_key": b64(
                    bytes(row["record_key"]) if row["record_key"] is not None else None
                ),
                "error": row["error"],
            }
            source = dict(row["source"] or {})
            source["message_id"] = None
            updates.append(
                {
                    "row_id": row["id"],
                    "sealed": seal_letter(cipher, content, digest),
                    "new_key": key_id,
                    "digest": digest,
                    "src": source,
                }
            )
        bind.execute(
            letters.update()
            .where(letters.c.id == sa.bindparam("row_id"))
            .values(
                sealed=sa.bindparam("sealed"),
                key_id=sa.bindparam("new_key"),
                content_hash=sa.bindparam("digest"),
                source=sa.bindparam("src", type_=sa.JSON),
                raw=None,
                value=None,
                message_id=None,
                record_key=None,
                error=None,
            ),
            updates,
        )
        done += len(rows)
        batches += 1
    return done


def _key(bind: Any, secrets: Secrets, key_id: str) -> Any:
    """The key `key_id`, made (and committed) if the store has none yet."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from infra.store.shredding import _unwrap

    wrapped = bind.execute(sa.select(keys.c.wrapped).where(keys.c.key_id == key_id)).scalar()
    if wrapped is not None:
        return AESGCM(_unwrap(secrets, key_id, bytes(wrapped)))
    key = AESGCM.generate_key(bit_length=256)
    bind.execute(
        keys.insert().values(
            key_id=key_id,
            member_id=None,
            wrapped=_wrap(secrets, key_id, key),
            created_at=datetime.now(UTC),
        )
    )
    return AESGCM(key)


def upgrade() -> None:
    bind = op.get_bind()
    secrets = _secrets(bind)
    add_tables_and_columns(bind)
    with op.get_context().autocommit_block():
        hash_message_ids(bind, secrets)
        seal_chains(bind, secrets)
        seal_dead_letters(bind, secrets)
    with op.batch_alter_table("ledighed_processed_messages") as batch:
        batch.drop_column("message_id")
        batch.alter_column("message_hash", existing_type=sa.String(64), nullable=False)
        batch.create_primary_key("pk_ledighed_processed_messages", ["message_hash"])
