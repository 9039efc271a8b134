"""The store's own tables beside the event store: member registry, message ids, dead letters."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Personal data, once per member: erase a row and the events stay as they are (opaque ids).
members = Table(
    "ledighed_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("cpr", String(10), unique=True, nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    # An HMAC under the chain key `binding_key_id` over the member id, CPR and birth date
    # (infra/store/hashchain.registry_binding): a CPR moved to another member's row, or
    # edited, no longer matches (migration r0007_chain); null once erased.
    Column("binding", String(64), nullable=True),
    Column("binding_key_id", String(32), nullable=True),
)

# Every accepted message id, so that a repeat is a no-op: kept as a keyed hash (HMAC with
# the key file's dedup key, migration 0004), never as the id (upstream may put a CPR in it).
processed_messages = Table(
    "ledighed_processed_messages",
    metadata,
    Column("message_hash", String(64), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Rejected input, kept whole with the reason; the same id may come again, corrected.
dead_letters = Table(
    "ledighed_dead_letters",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    # Since migration 0004 these four are null: the message, its id, its key and the error
    # (which may quote the message) are in `sealed`, encrypted with the key `key_id`.
    Column("message_id", String(128), nullable=True),
    Column("raw", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_field", String(128), nullable=True),
    Column("source", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # A Kafka record's value as it came, for `<topic>.dlq`; null for a file's line.
    Column("value", LargeBinary, nullable=True),
    Column("dlq_topic", String(255), nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # One row per content (migration 0002): sha256 of the exact bytes; `recorded_at` is
    # when it was first seen, `last_seen` and `seen_count` the repeats.
    Column("content_hash", String(64), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("seen_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("record_key", LargeBinary, nullable=True),  # the Kafka record's key, for the DLQ
    # AES-GCM of {raw, value, message_id, record_key, error} with the key `key_id`: the
    # CPR's key (`cpr:` + keyed hash of the CPR found in the message) or, when no member
    # can be told, the letter's own (`letter:` + content hash), which expires.
    Column("sealed", LargeBinary, nullable=True),
    Column("key_id", String(80), nullable=True),
    UniqueConstraint("content_hash", name="uq_ledighed_dead_letters_content"),
)

# Tamper evidence (infra/store/hashchain.py): each event's hash chains onto its predecessor's.
event_hashes = Table(
    "ledighed_event_hashes",
    metadata,
    Column("originator_id", String(36), primary_key=True),
    Column("originator_version", Integer, primary_key=True),
    Column("hash", String(64), nullable=False),
    # The chain key the link is an HMAC with (infra/store/secrets.py); null: an unkeyed sha256
    # link written before migration 0004, allowed only up to the aggregate's seal.
    Column("key_id", String(32), nullable=True),
)

# Each aggregate's last unkeyed link when migration 0004 ran, sealed with an HMAC under the
# chain key: unkeyed links are accepted up to it and nowhere else.
chain_seals = Table(
    "ledighed_chain_seals",
    metadata,
    Column("originator_id", String(36), primary_key=True),
    Column("originator_version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("seal", String(64), nullable=False),
)

# Data keys for crypto-shredding (infra/store/shredding.py), each wrapped with the key file's
# master key; `erase` deletes a member's.
keys = Table(
    "ledighed_keys",
    metadata,
    Column("key_id", String(80), primary_key=True),
    Column("member_id", String(36), nullable=True, index=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The fingerprints of the key file's keys this store was written with, by key name ("master",
# "dedup", "chain:k1", …; infra/store/key_check.py): never a key.
key_fingerprints = Table(
    "ledighed_key_fingerprints",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Per consumer group and partition, the next offset to apply: saved in the transaction
# of the batch it follows, so the store, not Kafka, says where to resume.
source_offsets = Table(
    "ledighed_source_offsets",
    metadata,
    Column("consumer_group", String(255), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)

# Every read of personal data (infra/store/access_log.py): who, when, how asked, and the members
# read by their opaque ids (never a CPR).
access_log = Table(
    "ledighed_access_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Column("reader", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("source", String(300), nullable=False),
    Column("what", String(64), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON; never a CPR, the members are below
    Column("rows", Integer, nullable=False),
    # An HMAC under the chain key `key_id` over the previous entry's link and this entry
    # (infra/store/access_log.entry_link; migration r0008_chain): a deletion or edit shows.
    Column("link", String(64), nullable=True),
    Column("key_id", String(32), nullable=True),
)

access_log_members = Table(
    "ledighed_access_log_members",
    metadata,
    Column("entry_id", Integer, ForeignKey("ledighed_access_log.entry_id"), primary_key=True),
    Column("member_id", String(36), primary_key=True, index=True),
)
