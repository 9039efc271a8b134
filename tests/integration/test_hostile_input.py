"""Hostile input: every kind of bad content is a rejected message naming its field, kept whole
as a dead letter, and never stalls a file, a batch or a store (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from eventsourcing import persistence

from consumers.records import InboundRecord
from domain import service as domain_service
from domain.messages import InvalidMessage, parse_message
from domain.params import Settings as RuleSettings
from domain.untrusted import DEFAULT_LIMITS, DEFAULT_MAX_MESSAGE_BYTES, Limits, safe_text
from infra.application import Ledighed
from infra.cli import main
from infra.failures import describe, is_store_or_broker_failure
from infra.ingest import Report, apply_batch
from infra.settings import Settings
from infra.store.store import Store
from tests.kafka_helpers import hours, registration

CPR = "0101901234"  # born 1990-01-01
LEDIGHED = Path(sys.executable).with_name("ledighed")


def adviser(message_id: str, name: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "adviser_assigned",
        "cpr": CPR,
        "adviser": name,
        "assigned_on": "2021-03-02",
    }


def contact(message_id: str, note: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "jobcenter_contact",
        "cpr": CPR,
        "on": "2021-03-03",
        "about": "ordinary_job",
        "note": note,
    }


def text(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def rejection(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        parse_message(raw, limits)
    return caught.value


# --- the parse path, one kind of hostile input at a time -------------------------------------


def test_a_byte_that_is_not_utf8_is_named_with_its_position() -> None:
    error = rejection(b'{"message_id": "m-1", "adviser": "\xff"}')
    assert error.reason == "the message is not UTF-8 text (byte 0xff at position 34)"


def test_nesting_deeper_than_the_limit_is_refused_before_decoding() -> None:
    deep = b'{"message_id": "m-1", "note": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert rejection(deep).reason == "the message is nested more than 32 levels deep"
    brackets_in_a_string = text(contact("m-2", "[" * 100))
    assert isinstance(parse_message(brackets_in_a_string), domain_service.m.JobcenterContact)


def test_the_nesting_limit_is_a_setting() -> None:
    nested = text({**contact("m-1", "x"), "extra": [[["three"]]]})
    assert parse_message(nested, Limits(max_nesting=4)).message_id == "m-1"
    assert "nested more than 3 levels" in rejection(nested, Limits(max_nesting=3)).reason


def test_a_message_over_the_size_limit_says_how_big_it_is() -> None:
    big = text(contact("m-1", "x" * 70_000))
    error = rejection(big)
    assert error.reason == f"the message is {len(big)} bytes, more than the limit of 65536"
    assert rejection(text(contact("m-1", "x" * 200)), Limits(max_message_bytes=100)).reason


@pytest.mark.parametrize(
    ("message", "field", "what"),
    [
        (adviser("m-1", "an\u0000na"), "adviser", "control character (U+0000)"),
        (contact("m-1", "\ud800"), "note", "lone surrogate (U+D800)"),
        (contact("m-1", "bell\u0007"), "note", "control character (U+0007)"),
        (contact("m-1", "next line\u0085"), "note", "control character (U+0085)"),
        ({**contact("m-1", "x"), "extra": {"deep": "\udfff"}}, "extra", "lone surrogate"),
    ],
)
def test_text_a_store_cannot_keep_is_refused_naming_its_field(
    message: dict[str, Any], field: str, what: str
) -> None:
    error = rejection(text(message))  # json.dumps escapes them: \u0000, \ud800
    assert error.field == field and what in error.reason and error.message_id == "m-1"


def test_tabs_and_line_breaks_in_a_note_are_kept() -> None:
    parsed = parse_message(text(contact("m-1", "first\tline\r\nsecond")))
    assert isinstance(parsed, domain_service.m.JobcenterContact)
    assert parsed.note == "first\tline\r\nsecond"


def test_a_nul_in_the_message_id_is_refused_and_the_id_kept_escaped() -> None:
    error = rejection(text(adviser("m-\u0000-1", "anna")))
    assert error.field == "message_id" and error.message_id == "m-\\x00-1"


def test_a_raw_nul_byte_is_not_json() -> None:
    error = rejection(b'{"message_id": "m-1\x00"}')
    assert "not valid JSON" in error.reason


def test_hours_given_as_a_string_are_refused_naming_hours() -> None:
    error = rejection(text(hours("h-1", "2021-03", "12.5", CPR)))  # type: ignore[arg-type]
    assert error.field == "hours" and "'12.5' is a string" in error.reason


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_name_their_field(constant: str) -> None:
    raw = text(hours("h-1", "2021-03", 1, CPR)).replace(
        b'"hours": 1', f'"hours": {constant}'.encode()
    )
    error = rejection(raw)
    assert (
        error.field == "hours" and error.reason == f"field 'hours': {constant} is not a JSON number"
    )


def test_safe_text_escapes_what_no_store_can_keep_and_leaves_the_rest() -> None:
    assert safe_text(b"ok \xc3\xa6\xc3\xb8\xc3\xa5 \\n") == "ok æøå \\n"
    assert safe_text(b"a\x00b\xffc") == "a\\x00b\\xffc"
    assert safe_text("a\ud800b") == "a\\ud800b"
    assert safe_text("x" * 300, limit=128) == "x" * 128


def test_the_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDIGHED_MAX_MESSAGE_BYTES", "1000")
    monkeypatch.setenv("LEDIGHED_MAX_NESTING", "5")
    assert Settings().limits() == Limits(max_message_bytes=1000, max_nesting=5)


# --- failures that are not the content's ---------------------------------------------------


def test_store_failures_are_told_from_bugs_through_the_wrapping() -> None:
    dropped = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
    try:
        try:
            raise dropped
        except sqlalchemy.exc.OperationalError as error:
            raise persistence.OperationalError(str(error)) from error
    except persistence.OperationalError as wrapped:
        assert is_store_or_broker_failure(wrapped)
    assert not is_store_or_broker_failure(KeyError("x"))
    assert not is_store_or_broker_failure(sqlalchemy.exc.DataError("INSERT", {}, Exception("NUL")))


def test_an_error_line_never_shows_sql_parameters_or_a_cpr() -> None:
    error = sqlalchemy.exc.DataError(
        "INSERT INTO ledighed_members (cpr) VALUES (%(cpr)s)",
        {"cpr": CPR},
        ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
    )
    line = describe(error)
    assert line == "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes"
    assert describe(KeyError(f"member {CPR}")) == "KeyError: 'member <cpr>'"


# --- a batch that fails for a reason that is neither content nor store (a bug) --------------


def test_a_bug_on_one_record_dead_letters_it_and_applies_the_rest(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = domain_service.CaseService.handle

    def handle_with_a_bug(self: Any, message: Any, source: Any) -> Any:
        if message.message_id == "bug-2":
            raise ZeroDivisionError("division by zero")
        return handle(self, message, source)

    monkeypatch.setattr(domain_service.CaseService, "handle", handle_with_a_bug)
    values = [
        text(registration("ok-1", CPR)),
        text(hours("bug-2", "2021-03", 10, CPR)),
        text(hours("ok-3", "2021-03", 20, CPR)),
    ]
    records = [InboundRecord.from_kafka_record("t", 0, 10 + i, v) for i, v in enumerate(values)]
    store = Store(db_url)
    try:
        report = Report()
        apply_batch(store, RuleSettings(), records, report, {("t", 0): 13}, "g")
        assert (report.accepted, len(report.rejected)) == (2, 1)
        (dead,) = store.dead_letters()
        assert dead["message_id"] == "bug-2" and dead["value"] == values[1]
        assert dead["dlq_topic"] == "t.dlq"
        assert dead["error"].startswith("could not be applied (a fault of this system, logged)")
        assert "ZeroDivisionError" in dead["error"]
        (case,) = store.cases_of(CPR)
        assert [p.hours for p in case.facts.payments] == [20]
        assert store.stored_offsets("g", [("t", 0)]) == {("t", 0): 13}
    finally:
        store.close()


# --- ingest of a file with hostile lines between good ones, through the command line --------

GOOD_AND_BAD_LINES: list[tuple[bytes, str | None]] = [
    (text(registration("f-1", CPR)), None),
    (text(adviser("f-2", "anna")), None),
    (text(adviser("f-3", "anna")).replace(b"anna", b"\xffnna"), "not UTF-8 text (byte 0xff"),
    (text(adviser("f-4", "an\u0000na")), "field 'adviser': the text contains a control"),
    (b'{"message_id": "f-5\x00", "type": "adviser_assigned"}', "not valid JSON"),
    (
        text(contact("f-6", "x")).replace(b'"x"', b"[" * 3000 + b"]" * 3000),
        "nested more than 32 levels",
    ),
    (text(contact("f-7", "\ud800")), "field 'note': the text contains a lone surrogate"),
    (text(contact("f-8", "x" * 70_000)), "more than the limit of 65536"),
    (text(hours("f-9", "2021-03", "12.5", CPR)), "field 'hours': '12.5' is a string"),  # type: ignore[arg-type]
    (b"", None),  # blank: skipped
    (text(hours("f-10", "2021-03", 100, CPR)), None),
    # Issue 26, point 7: a 5,000-digit number (Python's decoder refuses ints over 4,300
    # digits; it once aborted the file), a blank name, a day in year 0001, a birth in 2030.
    (
        text(hours("f-11", "2021-04", 1, CPR)).replace(b'"hours": 1', b'"hours": ' + b"9" * 5000),
        "field 'hours': a number of 5000 characters, longer than the 40 allowed",
    ),
    (text(adviser("f-12", "   ")), "field 'adviser': '   ' is blank"),
    (text({**adviser("f-13", "anna"), "assigned_on": "0001-01-01"}), "before 2000-01-01"),
    (text({**contact("f-14", ""), "cpr": "0101304000"}), "birth date 2030-01-01 is after"),
]


def test_ingest_rejects_each_hostile_line_with_its_number_and_applies_the_rest(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(line for line, _ in GOOD_AND_BAD_LINES) + b"\n")
    assert main(["ingest", str(path), "--json", "--quiet", "--db", db_url]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = {
        number: says
        for number, (_, says) in enumerate(GOOD_AND_BAD_LINES, start=1)
        if says is not None
    }
    assert report["accepted"] == 3 and report["duplicates"] == 0
    assert {r["line"]: r["error"] for r in report["rejected"]}.keys() == expected.keys()
    for rejected in report["rejected"]:
        assert expected[rejected["line"]] in rejected["error"]

    store = Store(db_url)
    try:
        dead = store.dead_letters()
    finally:
        store.close()
    assert [d["source"]["offset"] for d in dead] == list(expected)
    for letter in dead:
        exact = GOOD_AND_BAD_LINES[letter["source"]["offset"] - 1][0]
        if len(exact) > DEFAULT_MAX_MESSAGE_BYTES:  # over the limit: its first bytes, cut
            assert letter["cut"] == {
                "length": len(exact), "sha256": hashlib.sha256(exact).hexdigest()
            }
            exact = exact[:DEFAULT_MAX_MESSAGE_BYTES]
        else:
            assert letter["cut"] is None
        assert letter["value"] == exact  # the exact bytes, a file's line too
        assert letter["raw"] == safe_text(exact) and "\x00" not in letter["raw"]
        assert letter["dlq_topic"] is None and letter["source"]["topic"] == "hostile.jsonl"
    assert {d["message_id"] for d in dead} >= {"f-4", "f-7", "f-9", "f-11", "f-12", "f-13", "f-14"}

    # The store still answers every read (PostgreSQL once wedged on a stored NUL).
    assert main(["worklist", "--json", "--as-of", "2021-03-10", "--db", db_url]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert tasks and {t["adviser"] for t in tasks} == {"anna"}
    assert main(["case", CPR, "--json", "--as-of", "2021-03-31", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["hours_paid"] == 100
    assert main(["projections", "rebuild", "--json", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["worklist"] > 0
    assert main(["worklist", "--json", "--as-of", "2021-03-10", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out) == tasks
    path.write_bytes(text(adviser("f-15", "bent")) + b"\n")
    assert main(["ingest", str(path), "--json", "--quiet", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 1


# --- small things --------------------------------------------------------------------------


def test_a_read_of_a_sqlite_file_that_does_not_exist_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mistyped.db"
    for command in (["case", CPR], ["worklist"], ["history", CPR], ["handovers"]):
        assert main([*command, "--db", f"sqlite:///{missing}"]) == 1
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "the SQLite file does not exist" in error
    assert not missing.exists()


def test_run_without_a_broker_at_the_address_fails_instead_of_waiting(tmp_path: Path) -> None:
    with socket.socket() as unused:  # a port that no broker listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Its ~10 s of connection attempts is a timing, not a pass/fail: the 60 s below only
    # tells a failure from a hang on a busy machine.
    done = subprocess.run(
        [
            str(LEDIGHED),
            "run",
            "--kafka",
            f"127.0.0.1:{port}",
            "--db",
            f"sqlite:///{tmp_path}/r.db",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    # Each line a JSON object: the Kafka client's failed attempts, then the refusal in one
    # line (a new store's key file is made first, and said in one line).
    said = [json.loads(line) for line in done.stderr.strip().splitlines()]
    assert any(line["logger"].startswith("kafka") for line in said)
    lines = [
        line["msg"]
        for line in said
        if line["logger"].startswith("ledighed") and "created the key" not in line["msg"]
    ]
    assert lines == [
        f"ledighed run: no Kafka broker answers at 127.0.0.1:{port} "
        "(waited 8 s; --kafka or LEDIGHED_KAFKA_BOOTSTRAP)"
    ]


def test_a_retried_batch_skips_the_records_saved_one_at_a_time_before_the_failure(
    tmp_path: Path,
) -> None:
    # An isolating attempt saved the first two records with their offsets, then the store
    # failed: the retry of the whole poll applies only the records after them.
    from infra.runtime.service import StoreSink

    settings = Settings(db_url=f"sqlite:///{tmp_path}/s.db", kafka_group="g")
    values = [
        text(registration("r-1", CPR)),
        text(contact("r-2", "\ud800")),
        text(hours("r-3", "2021-03", 10, CPR)),
        text(hours("r-4", "2021-04", 20, CPR)),
    ]
    records = [InboundRecord.from_kafka_record("t", 0, i, v) for i, v in enumerate(values)]
    store = Store(settings.db_url)
    try:
        sink = StoreSink(Ledighed(store, settings), settings)
        sink.apply(records[:2], {("t", 0): 2})
        sink.retrying = True
        sink.apply(records, {("t", 0): 4})
        assert (sink.totals.accepted, sink.totals.duplicates, len(sink.totals.rejected)) == (
            3,
            0,
            1,
        )
        assert len(store.dead_letters()) == 1 and not sink.retrying
    finally:
        store.close()


def test_a_failed_statement_never_shows_its_parameters(db_url: str) -> None:
    """Issue 26: `serve` logged tracebacks with the SQL parameters (CPRs, sealed data). The
    store's engine hides them, so no message of a database error (and no log of one) does."""
    from sqlalchemy import text

    from infra.bootstrap import store_schema

    store = Store(db_url)
    schema = store_schema(db_url)
    try:
        for engine in (store.engine, schema.engine):
            with pytest.raises(sqlalchemy.exc.DBAPIError) as failed, engine.connect() as conn:
                conn.execute(text("SELECT * FROM no_such_table WHERE cpr = :cpr"), {"cpr": CPR})
            assert CPR not in str(failed.value) and "parameters hidden" in str(failed.value)
    finally:
        store.close()
        schema.engine.dispose()
