"""Dead letters an operator can work (issue 11): one row per content however often it
comes, listed, shown as it came and applied again; migration 0002 converts an old store's
rows, a batch at a time, and goes on after a kill."""

from __future__ import annotations

import gzip
import importlib
import json
import shutil
from pathlib import Path

from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select

from infra.store import migrations, tables
from infra.store.store import Store, sqlalchemy_url
from tools.release_store import run_cli

SCENARIOS = Path(__file__).parents[1] / "scenarios"
ERRORS = SCENARIOS / "03_ingest_errors.jsonl"
CORRECTED = SCENARIOS / "03_ingest_errors_corrected.jsonl"
R0 = Path(__file__).parents[1] / "releases" / "r0-5f78691"
MIGRATION = importlib.import_module(
    "infra.store.migrations.versions.r0002_dead_letters_deduplicated"
)


def cli(*argv: str) -> object:
    answer = run_cli(list(argv))
    assert answer["exit"] == 0, answer
    return answer["output"]


def test_a_file_ingested_three_times_keeps_one_dead_letter_per_message_seen_three_times(
    db_url: str,
) -> None:
    for _ in range(3):
        cli("ingest", str(ERRORS), "--json", "--db", db_url)
    letters = cli("dead-letters", "--json", "--db", db_url)
    assert isinstance(letters, list) and len(letters) == 8
    assert {letter["count"] for letter in letters} == {3}
    assert {letter["status"] for letter in letters} == {"open"}
    first = letters[0]
    assert first["message_id"] == "s3-04" and first["error_field"] == "cpr"
    assert first["source"] == {
        "message_id": "s3-04",
        "topic": "03_ingest_errors.jsonl",
        "partition": None,
        "offset": 4,
    }
    assert first["first_seen"] <= first["last_seen"]
    by_file = cli("dead-letters", "--json", "--topic", "03_ingest_errors.jsonl", "--db", db_url)
    assert by_file == letters
    assert cli("dead-letters", "--json", "--topic", "other.jsonl", "--db", db_url) == []


def test_show_prints_the_message_exactly_as_it_came(tmp_path: Path, capsysbinary) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path}/s.db"
    lines = tmp_path / "in.jsonl"
    lines.write_bytes(b'{"message_id": "x-1", "type": "moved", "note": "\xff"}\n')
    cli("ingest", str(lines), "--json", "--db", db)
    capsysbinary.readouterr()
    from infra.cli import main

    assert main(["dead-letters", "show", "1", "--db", db]) == 0
    assert capsysbinary.readouterr().out == lines.read_bytes()


def test_retry_resolves_what_applies_now_and_leaves_the_rest_open(db_url: str) -> None:
    cli("ingest", str(ERRORS), "--json", "--db", db_url)
    # Corrected copies sent with the same message ids are accepted; a retry of their dead
    # letters finds the ids accepted (a no-op) and marks them resolved.
    cli("ingest", str(CORRECTED), "--json", "--db", db_url)
    outcome = cli("dead-letters", "retry", "--all", "--json", "--db", db_url)
    assert isinstance(outcome, dict)
    open_ = cli("dead-letters", "--json", "--db", db_url)
    resolved = cli("dead-letters", "--json", "--status", "resolved", "--db", db_url)
    assert isinstance(open_, list) and isinstance(resolved, list)
    assert sorted(outcome["resolved"]) == sorted(r["id"] for r in resolved)
    assert sorted(outcome["still_rejected"]) == sorted(r["id"] for r in open_)
    corrected_ids = {json.loads(line)["message_id"] for line in CORRECTED.read_text().splitlines()}
    assert {r["message_id"] for r in resolved} <= corrected_ids
    assert resolved and all(r["status"] == "resolved" for r in resolved)
    # Retrying what is still refused changes nothing but its last sighting and count.
    again = cli("dead-letters", "retry", "--all", "--json", "--db", db_url)
    assert again == {"resolved": [], "still_rejected": outcome["still_rejected"]}


def _old_store_with_repeats(tmp_path: Path) -> str:
    """Release 5f78691's store, each of its 16 dead letters kept twice (as a re-run did)."""
    target = tmp_path / "old.db"
    with gzip.open(R0 / "store.sqlite.gz", "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    url = f"sqlite:///{target}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ledighed_dead_letters (message_id, raw, error, error_field, source, "
            "recorded_at, value, dlq_topic, published_at) SELECT message_id, raw, error, "
            "error_field, source, recorded_at, value, dlq_topic, published_at "
            "FROM ledighed_dead_letters"
        )
    engine.dispose()
    return url


def test_migrate_merges_an_old_stores_repeated_dead_letters_and_goes_on_after_a_kill(
    tmp_path: Path,
) -> None:
    url = _old_store_with_repeats(tmp_path)
    engine = create_engine(sqlalchemy_url(url))
    # The state a kill in migration 0002 leaves: its columns added and two batches of five
    # rows hashed and committed, its revision not stamped.
    with engine.connect() as conn:
        config = migrations._config(conn)
        command.upgrade(config, "0001_baseline")
        conn.commit()
        context = MigrationContext.configure(conn)
        with Operations.context(context):
            MIGRATION.add_columns(conn)
        assert MIGRATION.fill(conn, batch_size=5, max_batches=2) == 10
        conn.commit()
    assert migrations.state(engine).current == "0001_baseline"
    engine.dispose()
    assert cli("migrate", "--json", "--db", url) == {
        "from": "0001_baseline",
        "to": migrations.head(),
    }
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            table = tables.dead_letters
            rows = conn.execute(select(func.count(), func.sum(table.c.seen_count))).one()
        assert tuple(rows) == (16, 32)
    finally:
        store.close()
    assert cli("audit", "verify", "--json", "--db", url)["breaks"] == []  # type: ignore[index]


def test_metrics_count_the_open_dead_letters_by_source(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from infra.http.api import create_app
    from infra.settings import Settings

    url = f"sqlite:///{tmp_path}/m.db"
    cli("ingest", str(ERRORS), "--json", "--db", url)
    cli("ingest", str(ERRORS), "--json", "--db", url)
    store = Store(url)
    try:
        text = TestClient(create_app(Settings(db_url=url), store)).get("/metrics").text
    finally:
        store.close()
    # A file's letters by the kind of source, never by the file's name (unbounded).
    assert 'ledighed_dead_letters_open{source="file"} 8.0' in text


def test_over_http_auditors_and_the_system_read_dead_letters_and_only_the_system_retries(
    db_url: str,
) -> None:
    from fastapi.testclient import TestClient

    from infra.http.api import create_app
    from infra.settings import Settings

    cli("ingest", str(ERRORS), "--json", "--db", db_url)
    cli("ingest", str(CORRECTED), "--json", "--db", db_url)
    listed = cli("dead-letters", "--json", "--db", db_url)
    assert isinstance(listed, list)
    tokens = "t-sys=system:upstream,t-aud=auditor:ida,t-adv=adviser:anna"
    store = Store(db_url)
    try:
        client = TestClient(create_app(Settings(db_url=db_url, api_tokens=tokens), store))

        def as_(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        assert client.get("/dead-letters", headers=as_("t-aud")).json() == listed
        assert client.get("/dead-letters", headers=as_("t-adv")).status_code == 403
        first = listed[0]["id"]
        raw = client.get(f"/dead-letters/{first}", headers=as_("t-sys"))
        assert raw.status_code == 200
        assert raw.content == ERRORS.read_bytes().splitlines()[listed[0]["source"]["offset"] - 1]
        assert client.get("/dead-letters/999999", headers=as_("t-sys")).status_code == 404
        assert client.post("/dead-letters/retry", headers=as_("t-aud")).status_code == 403
        retried = client.post("/dead-letters/retry", headers=as_("t-sys"))
        assert retried.status_code == 200
        outcome = retried.json()
        assert outcome["resolved"] and set(outcome["resolved"]) | set(
            outcome["still_rejected"]
        ) == {letter["id"] for letter in listed}
        reads = client.get("/access-log", headers=as_("t-aud")).json()
        assert [r["what"] for r in reads][:2] == ["dead-letters", "dead-letter"]
    finally:
        store.close()


def test_a_parked_message_given_up_by_the_tick_is_a_dead_letter_that_applies_once_retried(
    db_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, date, datetime, timedelta

    from infra.settings import Settings
    from infra.tick import tick

    cpr = "0101901234"
    lines = [
        {"message_id": "p-1", "type": "unemployed", "cpr": cpr, "registered_on": "2021-03-01",
         "insurance": "full_time", "municipality_code": 751, "birth_date": "1990-01-01",
         "vocational_education": False, "has_children": False},
        # the adviser's decision, read before jobnet's request: parked
        {"message_id": "p-2", "type": "holiday_decided", "cpr": cpr, "request_id": "h1",
         "decided_on": "2021-03-11", "approved": True},
    ]
    path = tmp_path / "parked.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cli("ingest", str(path), "--json", "--db", db_url)
    store = Store(db_url)
    try:
        rules = Settings(db_url=db_url).rule_settings()
        soon = datetime.now(UTC) + timedelta(days=29)
        assert tick(store, date(2021, 12, 31), rules, now=soon).given_up == 0
        later = datetime.now(UTC) + timedelta(days=31)
        assert tick(store, date(2021, 12, 31), rules, now=later).given_up == 1
        assert tick(store, date(2021, 12, 31), rules, now=later).given_up == 0  # once
    finally:
        store.close()
    (letter,) = cli("dead-letters", "--json", "--db", db_url)  # type: ignore[misc]
    assert letter["message_id"] == "p-2" and "parked for more than 30 days" in letter["error"]
    # The request comes at last; the dead letter retried applies (its id was freed).
    request = {"message_id": "p-3", "type": "holiday_requested", "cpr": cpr,
               "request_id": "h1", "requested_on": "2021-03-10", "first_day": "2021-03-15",
               "last_day": "2021-03-16", "channel": "phone"}
    path.write_text(json.dumps(request) + "\n")
    cli("ingest", str(path), "--json", "--db", db_url)
    assert cli("dead-letters", "retry", "--all", "--json", "--db", db_url) == {
        "resolved": [letter["id"]],
        "still_rejected": [],
    }
    case = cli("case", cpr, "--json", "--as-of", "2021-03-12", "--db", db_url)
    assert case["holidays"][0]["status"] == "approved"  # type: ignore[index]


def test_a_line_over_the_limit_is_kept_cut_with_its_length_and_hash_and_never_retried(
    db_url: str, tmp_path: Path
) -> None:
    """Issue 26, point 2: a 3 MiB line is kept as its first LEDIGHED_MAX_MESSAGE_BYTES (64
    KiB), with its full length and sha256; a retry leaves it open (it cannot apply cut)."""
    import hashlib

    from domain.untrusted import DEFAULT_MAX_MESSAGE_BYTES

    line = json.dumps({"message_id": "huge", "type": "jobcenter_contact", "cpr": "0101901234",
                       "on": "2021-03-05", "about": "ordinary_job", "note": "y" * (3 << 20)})
    path = tmp_path / "huge.jsonl"
    path.write_text(line + "\n")
    report = cli("ingest", str(path), "--json", "--db", db_url)
    assert isinstance(report, dict) and len(report["rejected"]) == 1
    (letter,) = cli("dead-letters", "--json", "--db", db_url)  # type: ignore[misc]
    data = line.encode()
    assert letter["cut"] == {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    store = Store(db_url)
    try:
        (row,) = store.dead_letters()
        assert row["value"] == data[:DEFAULT_MAX_MESSAGE_BYTES]
        with store.engine.connect() as conn:
            stored = conn.execute(select(func.length(tables.dead_letters.c.sealed))).scalar()
        assert stored < 3 * DEFAULT_MAX_MESSAGE_BYTES  # the text form, the value in base64
    finally:
        store.close()
    assert cli("dead-letters", "retry", "--all", "--json", "--db", db_url) == {
        "resolved": [], "still_rejected": [letter["id"]]
    }
