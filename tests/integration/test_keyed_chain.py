"""A chain no database writer can forge (issue 12, item 6): whoever rewrites events and
recomputes their links (sha256 as before, or an HMAC under a key of their own) is caught by
`audit verify`; old unkeyed links verify only up to the seal the upgrade made; the chain key
rotates without breaking old links."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import shutil
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, select, update

from infra.cli import main
from infra.store import secrets as secrets_module
from infra.store.hashchain import GENESIS, link_hash, link_hmac
from infra.store.store import Store
from infra.store.tables import chain_seals, event_hashes
from tests.scenario_helpers import SCENARIOS

RELEASE = Path(__file__).parents[1] / "releases" / "r0-5f78691"


def verify(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json", "--db", db_url])
    return code, json.loads(capsys.readouterr().out)


def ingest(db_url: str, name: str) -> None:
    assert main(["ingest", str(SCENARIOS / name), "--quiet", "--db", db_url]) == 0


def rewrite_and_recompute(
    db_url: str, link: Any, key_id: str | None, version: int = 3
) -> str:
    """The attacker with write access: change one event of a case, then recompute every link
    of that aggregate from there on with `link(previous, id, version, topic, state)`."""
    store = Store(db_url)
    events = store.events_table
    try:
        with store.engine.begin() as conn:
            originator = conn.execute(
                select(events.c.originator_id).where(events.c.originator_version == version + 2)
            ).scalars().first()
            rows = conn.execute(
                select(events.c.originator_version, events.c.topic, events.c.state)
                .where(events.c.originator_id == originator)
                .order_by(events.c.originator_version)
            ).all()
            previous = GENESIS
            for v, topic, state in rows:
                state = bytes(state)
                if v == version:
                    forged = state.replace(b"2021", b"2020", 1)
                    assert forged != state
                    state = forged
                    mine = (events.c.originator_id == originator, events.c.originator_version == v)
                    conn.execute(update(events).where(*mine).values(state=state))
                digest = link(previous, UUID(str(originator)), v, topic, state)
                conn.execute(
                    update(event_hashes)
                    .where(
                        event_hashes.c.originator_id == str(originator),
                        event_hashes.c.originator_version == v,
                    )
                    .values(hash=digest, key_id=key_id)
                )
                previous = digest
            return str(originator)
    finally:
        store.close()


def test_a_history_recomputed_as_unkeyed_sha256_is_caught(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    assert verify(db_url, capsys)[0] == 0
    forged = rewrite_and_recompute(db_url, link_hash, None)
    code, report = verify(db_url, capsys)
    assert code == 1
    assert [b["aggregate_id"] for b in report["breaks"]] == [forged]
    assert "unkeyed" in report["breaks"][0]["problem"]


def test_a_history_recomputed_with_a_key_of_ones_own_is_caught(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    guessed = b"\x00" * 32

    def forged_link(previous: str, originator: UUID, v: int, topic: str, state: bytes) -> str:
        return link_hmac(guessed, previous, originator, v, topic, state)

    store = Store(db_url)
    key_id = store.secrets.chain_key_id
    store.close()
    forged = rewrite_and_recompute(db_url, forged_link, key_id)
    code, report = verify(db_url, capsys)
    assert code == 1
    assert report["breaks"] == [
        {
            "aggregate_id": forged,
            "version": 1,
            "problem": "the event's content or its predecessor does not match its stored hash",
        }
    ]


def test_a_forged_seal_does_not_make_unkeyed_links_pass(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    forged = rewrite_and_recompute(db_url, link_hash, None)
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            top, digest = conn.execute(
                select(event_hashes.c.originator_version, event_hashes.c.hash)
                .where(event_hashes.c.originator_id == forged)
                .order_by(event_hashes.c.originator_version.desc())
            ).first()  # type: ignore[misc]
            seal = hmac.new(b"guess", f"{forged}{top}{digest}".encode(), "sha256").hexdigest()
            conn.execute(
                insert(chain_seals).values(
                    originator_id=forged,
                    originator_version=top,
                    hash=digest,
                    key_id=store.secrets.chain_key_id,
                    seal=seal,
                )
            )
    finally:
        store.close()
    code, report = verify(db_url, capsys)
    assert code == 1
    assert [b["aggregate_id"] for b in report["breaks"]] == [forged]
    assert "seal" in report["breaks"][0]["problem"]


def test_the_chain_key_rotates_and_old_links_still_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps(secrets_module.new_file_content()))
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(key_file))
    db_url = f"sqlite:///{tmp_path}/s.db"
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    assert secrets_module.rotate_chain_key(key_file) == "k2"
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    code, report = verify(db_url, capsys)
    assert (code, report["breaks"]) == (0, [])
    store = Store(db_url)
    with store.engine.connect() as conn:
        used = set(conn.execute(select(event_hashes.c.key_id).distinct()).scalars())
    store.close()
    assert used == {"k1", "k2"}
    # A key given in the environment becomes the current one; the file's still verify.
    monkeypatch.setenv("LEDIGHED_CHAIN_KEY", "a passphrase from the vault")
    ingest(db_url, "04_worklist_two_advisers.jsonl")
    assert verify(db_url, capsys)[0] == 0
    # Without the key a link was made with, verify says so rather than pass.
    monkeypatch.delenv("LEDIGHED_CHAIN_KEY")
    code, report = verify(db_url, capsys)
    assert code == 1 and "not in the key file" in report["breaks"][0]["problem"]


def test_an_upgraded_store_keeps_its_old_links_and_catches_their_rewrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "store.db"
    with gzip.open(RELEASE / "store.sqlite.gz", "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    db_url = f"sqlite:///{target}"
    assert main(["migrate", "--db", db_url]) == 0
    code, report = verify(db_url, capsys)
    assert (code, report["breaks"]) == (0, [])
    forged = rewrite_and_recompute(db_url, link_hash, None)
    code, report = verify(db_url, capsys)
    assert code == 1
    assert [b["aggregate_id"] for b in report["breaks"]] == [forged]
    assert "seal" in report["breaks"][0]["problem"]


def test_a_rolled_back_link_is_not_chained_onto(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorder keeps each aggregate's last committed link, to chain its next batch onto
    without reading the table; a link whose transaction rolled back is not kept: here
    another writer stores that version, and this one's next event chains onto the other's."""
    from uuid import uuid4

    from eventsourcing.persistence import StoredEvent

    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    one, other = Store(db_url), Store(db_url)
    try:
        aggregate = uuid4()
        topic = "domain.case:Case.MeetingHeld"

        def stored(version: int, state: bytes) -> StoredEvent:
            return StoredEvent(aggregate, version, topic, state)

        one.app.recorder.insert_events([stored(1, b'{"n":1}')])
        recorder: Any = one.app.recorder

        def fail(session: Any) -> None:
            raise RuntimeError("the transaction fails after its links were computed")

        monkeypatch.setattr(recorder, "_notify_channel", fail)
        with pytest.raises(RuntimeError):
            recorder.insert_events([stored(2, b'{"n":"rolled back"}')])
        monkeypatch.undo()
        other.app.recorder.insert_events([stored(2, b'{"n":2}')])
        one.app.recorder.insert_events([stored(3, b'{"n":3}')])
    finally:
        one.close()
        other.close()
    code, report = verify(db_url, capsys)
    assert code == 0, report


def test_an_environment_chain_key_is_named_by_a_keyed_fingerprint_and_old_names_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id of LEDIGHED_CHAIN_KEY in each link is an HMAC of a fixed label under the key
    (as the store's key fingerprints are), never a bare sha256 that a guessed passphrase can
    be tested against; links an older release named by the bare sha256 prefix still verify."""
    passphrase = b"a passphrase from the vault"
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps(secrets_module.new_file_content()))
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(key_file))
    monkeypatch.setenv("LEDIGHED_CHAIN_KEY", passphrase.decode())
    db_url = f"sqlite:///{tmp_path}/s.db"
    ingest(db_url, "01_normal_full_time_aarhus.jsonl")
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            used = set(conn.execute(select(event_hashes.c.key_id).distinct()).scalars())
    finally:
        store.close()
    keyed = hmac.new(passphrase, secrets_module.FINGERPRINT_LABEL, "sha256").hexdigest()
    assert used == {"env-" + keyed[:16]}
    bare = hashlib.sha256(passphrase).hexdigest()
    assert not any(bare[:8] in key_id for key_id in used)
    assert verify(db_url, capsys)[0] == 0

    # A store whose links an older release made name the key by its bare sha256 prefix.
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(update(event_hashes).values(key_id="env-" + bare[:8]))
    finally:
        store.close()
    code, report = verify(db_url, capsys)
    assert (code, report["breaks"]) == (0, [])
    ingest(db_url, "02_late_move_revises_handover.jsonl")  # new links: the keyed id
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            used = set(conn.execute(select(event_hashes.c.key_id).distinct()).scalars())
    finally:
        store.close()
    assert used == {"env-" + bare[:8], "env-" + keyed[:16]}
    assert verify(db_url, capsys)[0] == 0
