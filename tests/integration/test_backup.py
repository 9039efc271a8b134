"""Backups an operator can trust (issue 19, point 3): a backup taken while an ingest writes
(`ledighed backup` for SQLite, pg_dump and `ledighed backup` for the key file on
PostgreSQL), restored as the README says, gives the same answers once the rest of the input
is applied to it, and its chain verifies."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select

from infra.cli import main
from infra.demo.demo_data import generate_lines
from infra.store import tables
from infra.store.store import sqlalchemy_url
from tests.conftest import _create_database, _database_url, _drop_database

BATCH = 20
BEFORE_BACKUP = 11 * BATCH  # lines applied, in whole batches, when the backup is taken
AS_OF = "2021-12-31"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out or "null")


def processed(db_url: str) -> int:
    """How many message ids the store keeps (0: no store yet; a SQLite file is not made)."""
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        return 0
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(tables.processed_messages.name):
                return 0
            return int(
                conn.execute(select(func.count()).select_from(tables.processed_messages))
                .scalar_one()
            )
    finally:
        engine.dispose()


def answers(db_url: str, cprs: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    said: dict[str, object] = {}
    for argv in (["worklist", "--as-of", AS_OF], ["dead-letters", "--status", "all"]):
        said[" ".join(argv)] = cli(capsys, *argv, "--db", db_url)
    said["handovers"] = cli(capsys, "handovers", "--db", db_url)
    for cpr in cprs:
        said[f"case {cpr}"] = cli(capsys, "case", cpr, "--all", "--as-of", AS_OF, "--db", db_url)
    verified = cli(capsys, "audit", "verify", "--db", db_url)
    assert verified[0] == 0 and verified[1]["breaks"] == [], verified  # type: ignore[index]
    return _without_times(said)


def _without_times(value: object) -> object:
    """Answers without what each store makes of its own: the moments it recorded things at,
    the random ids of cases opened after the backup."""
    if isinstance(value, dict):
        return {
            k: _without_times(v)
            for k, v in value.items()
            # `offset`: a dead letter's line in the stream it came in (the rest of the input
            # is a stream of its own for the restored store).
            if k not in ("recorded_at", "first_seen", "last_seen", "published_at", "offset")
        }
    if isinstance(value, list | tuple):
        return [_without_times(v) for v in value]
    return UUID.sub("<id>", value) if isinstance(value, str) else value


@pytest.fixture
def second_postgres_url() -> Iterator[str]:
    admin, name = _create_database()
    try:
        yield _database_url(admin, name)
    finally:
        _drop_database(admin, name)


def libpq(db_url: str) -> str:
    return sqlalchemy_url(db_url).replace("postgresql+psycopg://", "postgresql://")


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_backup_taken_during_an_ingest_restores_to_the_same_answers(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> None:
    lines = generate_lines(seed=7, members=40)
    cprs = sorted(set(re.findall(r'"type": "unemployed", "cpr": "(\d{10})"', "\n".join(lines))))
    assert len(cprs) > 30
    # How many message ids the first batches keep: learnt on a scratch store.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "first.jsonl").write_text("\n".join(lines[:BEFORE_BACKUP]) + "\n")
    scratch_url = f"sqlite:///{scratch}/s.db"
    assert main(["ingest", str(scratch / "first.jsonl"), "--quiet", "--db", scratch_url]) == 0
    kept_before = processed(scratch_url)

    if store == "sqlite":
        (tmp_path / "live").mkdir()
        url = f"sqlite:///{tmp_path}/live/ledighed.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
        monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(tmp_path / "live.secrets.json"))
        assert main(["keys", "init", "--db", url]) == 0
    ingest = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "ingest", "-", "--quiet", "--batch-size", str(BATCH),
         "--db", url],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        assert ingest.stdin is not None
        ingest.stdin.write(("\n".join(lines[:BEFORE_BACKUP]) + "\n").encode())
        ingest.stdin.flush()
        deadline = time.monotonic() + 300  # a bound, not a measure
        while processed(url) < kept_before:
            assert ingest.poll() is None, ingest.stderr.read() if ingest.stderr else ""
            assert time.monotonic() < deadline, "the first batches were never applied"
            time.sleep(0.1)
        # The ingest is running (it waits for more input, its store open): back up now.
        backup = tmp_path / "backup" / "ledighed.db"
        code, written = cli(capsys, "backup", str(backup), "--db", url)
        assert code == 0, written
        if store == "postgres":
            subprocess.run(["pg_dump", "-Fc", "-f", f"{backup}.dump", libpq(url)], check=True)
        ingest.stdin.write(("\n".join(lines[BEFORE_BACKUP:]) + "\n").encode())
        ingest.stdin.close()
        assert ingest.wait(timeout=600) == 0, ingest.stderr.read() if ingest.stderr else ""
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
    assert oct(backup.with_name("ledighed.db.secrets.json").stat().st_mode & 0o777) == "0o600"

    # Restore as the README says: the copy and its key file back where a store's are found.
    if store == "sqlite":
        assert written == {"store": str(backup), "key_file": f"{backup}.secrets.json",
                           "pg_dump": None}
        (tmp_path / "restored").mkdir()
        restored = tmp_path / "restored" / "ledighed.db"
        shutil.copyfile(backup, restored)
        shutil.copyfile(f"{backup}.secrets.json", f"{restored}.secrets.json")
        restored_url = f"sqlite:///{restored}"
    else:
        assert written["store"] is None and "pg_dump" in written["pg_dump"]  # type: ignore[index]
        restored_url = request.getfixturevalue("second_postgres_url")
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq(restored_url),
             f"{backup}.dump"],
            check=True, capture_output=True,
        )
        monkeypatch.setenv("LEDIGHED_SECRETS_FILE", f"{backup}.secrets.json")
    assert processed(restored_url) == kept_before  # the copy is of one moment, mid-ingest
    code, _ = cli(capsys, "audit", "verify", "--db", restored_url)
    assert code == 0
    # The rest of the input, as the live store got it after the backup (from stdin too);
    # and a message the backup holds is a duplicate there (the key file's dedup key works).
    for part, expected in ((lines[BEFORE_BACKUP:], "accepted"), (lines[:1], "duplicates")):
        done = subprocess.run(
            [sys.executable, "-m", "infra.cli", "ingest", "-", "--json", "--batch-size",
             str(BATCH), "--db", restored_url],
            input=("\n".join(part) + "\n").encode(), capture_output=True, check=True,
            env=os.environ.copy(),
        )
        assert json.loads(done.stdout)[expected] > 0, done.stdout
    restored_answers = answers(restored_url, cprs, capsys)
    if store == "postgres":
        monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(tmp_path / "live.secrets.json"))
    assert answers(url, cprs, capsys) == restored_answers
