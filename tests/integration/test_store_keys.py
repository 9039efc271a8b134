"""Keys belong to their store (issue 19, point 2): the store records a fingerprint of its
keys; a missing or wrong key file is refused in one line before anything is created or
written; keys are made only for a new, empty store (on PostgreSQL only by `keys init` or a
given LEDIGHED_SECRETS_FILE); a read never makes a file."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from infra.cli import main
from infra.store import secrets as secrets_module
from infra.store.store import sqlalchemy_url
from tests.scenario_helpers import SCENARIOS

SCENARIO = str(SCENARIOS / "01_normal_full_time_aarhus.jsonl")
CPR = "0203851234"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, *words: str) -> None:
    """Refused in one line that names what it must."""
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "internal error" not in lines[0], err
    for word in words:
        assert word in lines[0], (word, lines[0])


def tables_of(db_url: str) -> list[str]:
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.fixture
def no_keys_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No LEDIGHED_SECRETS_FILE and an empty config dir (another host, say)."""
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.delenv("LEDIGHED_SECRETS_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def test_a_sqlite_store_copied_without_its_key_file_is_refused_and_nothing_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_keys_anywhere: Path
) -> None:
    original = tmp_path / "a" / "ledighed.db"
    original.parent.mkdir()
    assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", f"sqlite:///{original}")[0] == 0
    assert Path(f"{original}.secrets.json").exists()
    copy = tmp_path / "b" / "ledighed.db"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)  # as an old runbook said: "the store is one file"
    before = sorted(p.name for p in copy.parent.iterdir())
    key_file = f"{copy}.secrets.json"
    for argv in (
        ["case", CPR],
        ["audit", "verify"],
        ["history", CPR, "--json"],
        ["ingest", SCENARIO, "--quiet"],
        ["tick", "--on", "2021-06-01"],
        ["migrate"],
    ):
        code, _, err = cli(capsys, *argv, "--db", f"sqlite:///{copy}")
        refused(code, err, key_file, "restore")
        assert sorted(p.name for p in copy.parent.iterdir()) == before, argv
    assert not any(no_keys_anywhere.rglob("*")), "nothing made in the config dir either"
    # The service and the HTTP API too: refused at start, no lock file, no broker started.
    for argv in (["run", "--kafka", "127.0.0.1:9"], ["serve", "--port", "9"]):
        done = subprocess.run(
            [sys.executable, "-m", "infra.cli", *argv, "--db", f"sqlite:///{copy}"],
            capture_output=True, text=True, timeout=120, env=os.environ.copy(),
        )
        refused(done.returncode, done.stderr, key_file, "restore")
        assert sorted(p.name for p in copy.parent.iterdir()) == before, argv


def test_key_files_are_ignored_by_git() -> None:
    root = Path(__file__).parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("ledighed.db.secrets.json", "secrets.json", "data/store.db.secrets.json"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=root).returncode == 0, name
    kept = "tests/releases/r1-7d25b3d/store.sqlite.secrets.json"  # test keys of generated data
    assert subprocess.run(["git", "check-ignore", "-q", kept], cwd=root).returncode == 1


def test_a_store_whose_key_file_is_missing_is_refused_on_every_store(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = tmp_path / "keys.json"
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(keys))
    assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", db_url)[0] == 0
    assert keys.exists()
    keys.rename(tmp_path / "elsewhere.json")
    for argv in (["case", CPR], ["audit", "verify"], ["ingest", SCENARIO, "--quiet"]):
        code, _, err = cli(capsys, *argv, "--db", db_url)
        refused(code, err, str(keys), "restore")
        assert not keys.exists(), argv


def test_a_wrong_key_file_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = tmp_path / "keys.json"
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(keys))
    assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", db_url)[0] == 0
    right = keys.read_text()
    keys.write_text(json.dumps(secrets_module.new_file_content()))
    for argv in (["case", CPR], ["audit", "verify"], ["ingest", SCENARIO, "--quiet"]):
        code, _, err = cli(capsys, *argv, "--db", db_url)
        refused(code, err, str(keys), "restore")
    # A key file with the store's keys but another chain key added (a rotation) is the
    # store's; one that lost a chain key the store used is not.
    keys.write_text(right)
    rotated = json.loads(right)
    rotated["chain_keys"]["k2"] = secrets_module.new_file_content()["chain_keys"]["k1"]
    rotated["chain_key"] = "k2"
    keys.write_text(json.dumps(rotated))
    assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", db_url)[0] == 0
    assert cli(capsys, "audit", "verify", "--db", db_url)[0] == 0
    keys.write_text(right)
    code, _, err = cli(capsys, "case", CPR, "--db", db_url)
    refused(code, err, str(keys), "k2")


def test_a_read_on_a_fresh_store_makes_nothing(
    tmp_path: Path, fresh_postgres_url: str, capsys: pytest.CaptureFixture[str],
    no_keys_anywhere: Path,
) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for argv in (["case", CPR], ["audit", "verify"], ["worklist"], ["dead-letters"]):
        code, _, err = cli(capsys, *argv, "--db", f"sqlite:///{fresh}/none.db")
        refused(code, err, "none.db")
        code, _, err = cli(capsys, *argv, "--db", fresh_postgres_url)
        refused(code, err, "keys init")
    assert list(fresh.iterdir()) == []
    assert not any(no_keys_anywhere.rglob("*"))
    assert tables_of(fresh_postgres_url) == []


def test_a_directory_given_as_the_sqlite_file_leaves_no_stray_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_keys_anywhere: Path
) -> None:
    directory = tmp_path / "store"
    directory.mkdir()
    for argv in (["case", CPR], ["ingest", SCENARIO, "--quiet"], ["audit", "verify"]):
        code, _, err = cli(capsys, *argv, "--db", f"sqlite:///{directory}")
        refused(code, err, str(directory), "directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "store"]
    assert list(directory.iterdir()) == []


@pytest.mark.postgres
def test_postgres_makes_no_keys_of_its_own_until_keys_init(
    fresh_postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    no_keys_anywhere: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = fresh_postgres_url
    code, _, err = cli(capsys, "ingest", SCENARIO, "--quiet", "--db", url)
    refused(code, err, "ledighed keys init")
    assert not any(no_keys_anywhere.rglob("*"))
    assert tables_of(url) == []
    code, out, _ = cli(capsys, "keys", "init", "--db", url)
    assert code == 0
    made = no_keys_anywhere / "ledighed" / "secrets.json"
    assert str(made) in out
    assert made.stat().st_mode & 0o777 == 0o600
    assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", url)[0] == 0
    # Again: the file is the store's already; nothing changes.
    first = made.read_bytes()
    assert cli(capsys, "keys", "init", "--db", url)[0] == 0
    assert made.read_bytes() == first
    # A second instance on another host, without the file, is refused and makes none.
    other = tmp_path / "other-host"
    other.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(other))
    for argv in (["ingest", SCENARIO, "--quiet"], ["case", CPR], ["keys", "init"]):
        code, _, err = cli(capsys, *argv, "--db", url)
        refused(code, err, str(other / "ledighed" / "secrets.json"), "restore")
    assert not any(other.rglob("*"))


@pytest.mark.postgres
def test_keys_from_a_mounted_secret_file(
    fresh_postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, no_keys_anywhere: Path,
) -> None:
    """The key file as a compose or Kubernetes secret: read-only, behind symbolic links
    (Kubernetes' `..data` layout), named by LEDIGHED_SECRETS_FILE; nothing written there."""
    made = tmp_path / "made.json"
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(made))
    assert cli(capsys, "keys", "init", "--db", fresh_postgres_url)[0] == 0
    mount = tmp_path / "run-secrets"
    (mount / "..2026_01_01").mkdir(parents=True)
    shutil.copyfile(made, mount / "..2026_01_01" / "secrets.json")
    (mount / "..data").symlink_to("..2026_01_01")
    (mount / "secrets.json").symlink_to("..data/secrets.json")
    os.chmod(mount / "..2026_01_01" / "secrets.json", 0o444)
    os.chmod(mount / "..2026_01_01", 0o555)
    os.chmod(mount, 0o555)
    made.unlink()
    try:
        monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(mount / "secrets.json"))
        assert cli(capsys, "ingest", SCENARIO, "--quiet", "--db", fresh_postgres_url)[0] == 0
        code, out, _ = cli(capsys, "case", CPR, "--json", "--db", fresh_postgres_url)
        assert code == 0 and json.loads(out)["cpr"] == CPR
        assert cli(capsys, "audit", "verify", "--db", fresh_postgres_url)[0] == 0
        assert sorted(p.name for p in mount.iterdir()) == ["..2026_01_01", "..data", "secrets.json"]
    finally:
        os.chmod(mount, 0o755)
        os.chmod(mount / "..2026_01_01", 0o755)


def test_a_store_from_before_fingerprints_refuses_a_key_file_that_does_not_open_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_keys_anywhere: Path
) -> None:
    """A store of the last release (schema 0004, no fingerprints) with a fresh key file
    beside it: `migrate` is refused and the store stays as it was; with its own key file it
    migrates and records that file's fingerprints."""
    release = Path(__file__).parents[1] / "releases" / "r1-7d25b3d"
    target = tmp_path / "store.db"
    with gzip.open(release / "store.sqlite.gz", "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    keys = Path(f"{target}.secrets.json")
    keys.write_text(json.dumps(secrets_module.new_file_content()))
    url = f"sqlite:///{target}"
    code, _, err = cli(capsys, "migrate", "--db", url)
    refused(code, err, str(keys), "master key", "restore")
    assert cli(capsys, "migrate", "--check", "--db", url)[0] == 1  # still behind
    shutil.copyfile(release / "store.sqlite.secrets.json", keys)
    assert cli(capsys, "migrate", "--db", url)[0] == 0
    assert cli(capsys, "audit", "verify", "--db", url)[0] == 0
    keys.write_text(json.dumps(secrets_module.new_file_content()))
    code, _, err = cli(capsys, "case", "--all", "--db", url, "0101000000")
    refused(code, err, str(keys), "restore")
