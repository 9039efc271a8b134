"""The keys kept outside the database: the hash chain's HMAC keys, the key of the keyed
hashes of message ids, and the master key that wraps each member's data key.

They come from `LEDIGHED_SECRETS_FILE` (a JSON file, e.g. a mounted compose or Kubernetes
secret), with `LEDIGHED_CHAIN_KEY` overriding the chain's current key; else from
`<file>.secrets.json` beside a SQLite store or the user's config dir (for PostgreSQL). Which
keys belong to which store, and when a file may be made, is infra/store/key_check.py's.
Nothing here is ever written to the database (only the keys' fingerprints are, there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets as random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("ledighed.secrets")


@dataclass(frozen=True)
class Secrets:
    """The keys, by purpose. `chain_keys` holds every chain key ever current (by id), so
    that links made with a rotated-out key still verify."""

    chain_keys: dict[str, bytes]
    chain_key_id: str
    dedup_key: bytes
    master_key: bytes
    path: str | None = field(default=None, compare=False)
    # The chain key ids of the file itself (not LEDIGHED_CHAIN_KEY's), whose fingerprints the
    # store records.
    file_chain_ids: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def chain_key(self) -> bytes:
        return self.chain_keys[self.chain_key_id]

    def message_hash(self, message_id: str) -> str:
        """The keyed hash a message id is kept as (deduplication without the id itself)."""
        return hmac.new(self.dedup_key, b"message\x00" + message_id.encode(), "sha256").hexdigest()

    def subject_hash(self, cpr: str) -> str:
        """The keyed hash naming a CPR's key (for rejected messages of a CPR)."""
        return hmac.new(self.dedup_key, b"cpr\x00" + cpr.encode(), "sha256").hexdigest()

    def content_hash(self, content: bytes) -> str:
        """A dead letter's identity: a keyed hash of its exact bytes."""
        return hmac.new(self.dedup_key, b"letter\x00" + content, "sha256").hexdigest()

    def fingerprints(self) -> dict[str, str]:
        """What the store records of its keys, by name: an HMAC of a fixed label under each
        key (which tells the keys apart, never the keys themselves)."""
        keys = {"master": self.master_key, "dedup": self.dedup_key}
        keys.update({f"chain:{kid}": self.chain_keys[kid] for kid in sorted(self.file_chain_ids)})
        return {name: key_fingerprint(key) for name, key in keys.items()}


FINGERPRINT_LABEL = b"ledighed key fingerprint v1"


def key_fingerprint(key: bytes) -> str:
    """A key's fingerprint: an HMAC of a fixed label under the key. It tells keys apart and,
    unlike a bare hash, gives no way to test guesses of a key (a passphrase) against it."""
    return hmac.new(key, FINGERPRINT_LABEL, "sha256").hexdigest()


def env_chain_key_id(key: bytes) -> str:
    """The id the links made with LEDIGHED_CHAIN_KEY name it by (stored in each link's
    `key_id`): its fingerprint's first 16 hex digits."""
    return "env-" + key_fingerprint(key)[:16]


def legacy_env_chain_key_id(key: bytes) -> str:
    """The id releases before the keyed fingerprint gave it: a bare sha256 prefix of the key.
    Links that name it still verify; no new link does."""
    return "env-" + hashlib.sha256(key).hexdigest()[:8]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def new_file_content() -> dict[str, Any]:
    return {
        "chain_key": "k1",
        "chain_keys": {"k1": _b64(random.token_bytes(32))},
        "dedup_key": _b64(random.token_bytes(32)),
        "master_key": _b64(random.token_bytes(32)),
    }


def key_path(db_url: str) -> tuple[Path, bool]:
    """Where the store's key file is, and whether it was given (LEDIGHED_SECRETS_FILE)."""
    from infra.settings import Settings

    given = Settings().secrets_file
    return (Path(given), True) if given else (default_path(db_url), False)


def default_path(db_url: str) -> Path:
    """Beside a SQLite file; else in the user's config dir."""
    if db_url.startswith("sqlite:///") and len(db_url) > len("sqlite:///"):
        database = db_url[len("sqlite:///") :].split("?", 1)[0]
        if database and database != ":memory:":
            return Path(database + ".secrets.json")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ledighed" / "secrets.json"


def create(path: Path) -> bool:
    """Make a key file of new random keys, mode 0600; False: it was there already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False  # made meanwhile by another process: use that one
    with os.fdopen(fd, "w") as out:
        json.dump(new_file_content(), out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    log.warning("created the key file %s (mode 0600): back it up apart from the database", path)
    return True


def read(path: Path, chain_key: str | None = None) -> Secrets:
    for _ in range(50):  # another process may be writing it this instant
        text = path.read_text()
        if text.strip():
            break
        time.sleep(0.02)
    data = json.loads(text)
    keys = {kid: _unb64(value) for kid, value in data["chain_keys"].items()}
    current = data["chain_key"]
    if chain_key:
        key = chain_key.encode()
        current = env_chain_key_id(key)
        keys[current] = key
        keys.setdefault(legacy_env_chain_key_id(key), key)  # links of older releases
    return Secrets(
        chain_keys=keys,
        chain_key_id=current,
        dedup_key=_unb64(data["dedup_key"]),
        master_key=_unb64(data["master_key"]),
        path=str(path),
        file_chain_ids=frozenset(data["chain_keys"]),
    )


def load(path: Path) -> Secrets:
    """The keys of an existing key file, with the settings' chain key (read each time: a
    file replaced meanwhile is seen, and the file is small)."""
    from infra.settings import Settings

    return read(path, Settings().chain_key)


def for_store(db_url: str) -> Secrets:
    """The keys of the store at `db_url` by the settings, the file made if missing: only
    for a recorder made without a `Store` (the library's contract tests). A `Store` and
    `migrate` check their keys against the store first (infra/store/key_check.py)."""
    path, _ = key_path(db_url)
    if not path.exists():
        create(path)
    return load(path)


def rotate_chain_key(path: Path) -> str:
    """Add a new chain key and make it current (old ones stay, to verify old links)."""
    data = json.loads(path.read_text())
    number = 1 + max(int(k[1:]) for k in data["chain_keys"] if k[1:].isdigit())
    kid = f"k{number}"
    data["chain_keys"][kid] = _b64(random.token_bytes(32))
    data["chain_key"] = kid
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
    os.replace(tmp, path)
    return kid
