"""Erased means erased (issue 12, item 5): after `ledighed erase CPR` a full dump of the
store holds neither the CPR nor the birth date in any common form, whatever fields upstream
put them in, while `history` and `case` still work by the member's opaque id."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect

from infra.store.store import Store, sqlalchemy_url
from tools.release_store import run_cli

FIGURES = os.environ.get("LEDIGHED_ERASURE_FIGURES")


def forms(cpr: str, born: date) -> list[str]:
    """The CPR and the birth date as people and systems write them."""
    dd, mm, yy, yyyy = f"{born:%d}", f"{born:%m}", f"{born:%y}", f"{born:%Y}"
    return [
        cpr,  # DDMMYYSSSS
        f"{cpr[:6]}-{cpr[6:]}",  # DDMMYY-SSSS
        f"{cpr[:6]} {cpr[6:]}",  # DDMMYY SSSS
        f"{yyyy}-{mm}-{dd}",  # YYYY-MM-DD
        f"{dd}-{mm}-{yyyy}",  # DD-MM-YYYY
        f"{dd}.{mm}.{yyyy}",  # DD.MM.YYYY
        f"{dd}/{mm}/{yyyy}",  # DD/MM/YYYY
        f"{dd}{mm}{yyyy}",  # DDMMYYYY
        f"{yyyy}{mm}{dd}",  # YYYYMMDD
        f"{dd}-{mm}-{yy}",  # DD-MM-YY
        f"{dd}.{mm}.{yy}",  # DD.MM.YY
    ]


# Two members to erase, one to keep. Each erased one's CPR is put, as upstream might, in a
# message id, a payment id, a holiday request id, notes, a kept message and rejected lines.
ERASED = {"1402983323": date(1998, 2, 14), "0705851234": date(1985, 5, 7)}
KEPT = ("0101901234", date(1990, 1, 1))


def _lines(cpr: str, born: date, n: int) -> list[dict[str, Any] | str]:
    dashed = f"{cpr[:6]}-{cpr[6:]}"
    return [
        # a payment read before the registration: kept in the member's record, then applied
        {"message_id": f"pay-{cpr}-early", "type": "hours_paid", "cpr": cpr,
         "payment_id": f"{cpr}/2021-03", "month": "2021-03", "hours": 10},
        {"message_id": f"reg-{cpr}", "type": "unemployed", "cpr": cpr,
         "registered_on": "2021-03-01", "insurance": "full_time", "municipality_code": 751,
         "birth_date": born.isoformat(), "vocational_education": True, "has_children": False,
         "adviser": "anna"},
        {"message_id": f"{dashed}-pay-1", "type": "hours_paid", "cpr": cpr,
         "payment_id": f"p-{born:%d%m%Y}", "month": "2021-04", "hours": 12.5},
        {"message_id": f"hol-{cpr}", "type": "holiday_requested", "cpr": dashed,
         "request_id": f"req-{born.isoformat()}-{cpr}", "requested_on": "2021-05-01",
         "first_day": "2021-05-03", "last_day": "2021-05-04", "channel": "phone"},
        {"message_id": f"jc-{cpr}", "type": "jobcenter_contact", "cpr": cpr,
         "on": "2021-05-10", "about": "ordinary_job",
         "note": f"spoke with {dashed}, born {born:%d.%m.%Y} ({born:%d/%m/%Y}, {born:%Y%m%d})"},
        # rejected: the birth date does not match the CPR (the error quotes both)
        {"message_id": f"bad-{cpr}", "type": "unemployed", "cpr": cpr,
         "registered_on": "2021-03-01", "insurance": "full_time", "municipality_code": 751,
         "birth_date": "2001-01-01", "vocational_education": True, "has_children": False},
        # rejected: not JSON at all, yet it names the member
        f'{{"message_id": "broken-{n}", "cpr": "{dashed}", "birth_date": "{born:%d-%m-%Y}"',
        # rejected by a rule: the same payment id again, in another month
        {"message_id": f"{cpr}-dup", "type": "hours_paid", "cpr": cpr,
         "payment_id": f"p-{born:%d%m%Y}", "month": "2021-05", "hours": 1},
    ]


def _write_file(path: Path) -> None:
    lines: list[dict[str, Any] | str] = []
    for n, (cpr, born) in enumerate([*ERASED.items(), KEPT]):
        lines += _lines(cpr, born, n)
    with path.open("w") as out:
        for line in lines:
            out.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def dump(url: str) -> str:
    """Everything the store holds, as text: every row of every table (bytes as latin-1),
    and for SQLite also the file's own bytes (freed pages included)."""
    parts: list[str] = []
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, bytes | bytearray | memoryview):
                            parts.append(bytes(value).decode("latin-1"))
                        else:
                            parts.append(str(value))
    finally:
        engine.dispose()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        parts.append(Path(path).read_bytes().decode("latin-1"))
        with sqlite3.connect(path) as conn:
            parts.extend(conn.iterdump())
    return "\n".join(parts)


def hits(text: str, cpr: str, born: date) -> list[str]:
    return [form for form in forms(cpr, born) if form in text]


def test_erase_leaves_no_cpr_or_birth_date_anywhere(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "messages.jsonl"
    _write_file(source)
    report = run_cli(["ingest", str(source), "--json", "--db", db_url])
    assert report["exit"] == 0
    assert report["output"]["accepted"] == 15
    assert len(report["output"]["rejected"]) == 9
    store = Store(db_url)
    try:
        member_ids = store.member_ids([*ERASED, KEPT[0]])
    finally:
        store.close()
    before = dump(db_url)
    for cpr, born in ERASED.items():
        assert hits(before, cpr, born), "the search must find them before erasure"

    for cpr in ERASED:
        assert run_cli(["erase", cpr, "--json", "--db", db_url])["output"] == {"erased": True}

    after = dump(db_url)
    found = {cpr: hits(after, cpr, born) for cpr, born in ERASED.items()}
    assert found == {cpr: [] for cpr in ERASED}
    assert KEPT[0] in after  # the member kept is still there

    for cpr in ERASED:
        member = str(member_ids[cpr])
        case = run_cli(["case", "--member-id", member, "--json", "--db", db_url])
        assert case["exit"] == 0 and case["output"]["cpr"] is None
        assert case["output"]["status"] == "in_trial"
        assert case["output"]["hours_paid"] == 22.5
        trail = run_cli(["history", "--member-id", member, "--json", "--db", db_url])
        assert trail["exit"] == 0 and len(trail["output"]) > 5
        assert not hits(json.dumps(trail["output"]), cpr, ERASED[cpr])
        assert all(item["source"]["message_id"] is None for item in trail["output"])
        assert run_cli(["case", cpr, "--json", "--db", db_url])["exit"] == 1
    # the member kept still reads as before, sealed fields opened
    kept = run_cli(["history", KEPT[0], "--json", "--db", db_url])["output"]
    assert {i["source"]["message_id"] for i in kept} >= {"reg-0101901234", "jc-0101901234"}
    listing = run_cli(["dead-letters", "--json", "--db", db_url])["output"]
    assert sum(1 for r in listing if r["message_id"] and KEPT[0] in r["message_id"]) == 2
    assert run_cli(["audit", "verify", "--json", "--db", db_url])["exit"] == 0
    if FIGURES:
        with open(FIGURES, "a") as out:
            kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
            out.write(
                json.dumps(
                    {
                        "store": kind,
                        "members_erased": len(ERASED),
                        "forms": len(forms(*KEPT)),
                        "searched_chars": len(after),
                        "hits_before": sum(len(hits(before, c, b)) for c, b in ERASED.items()),
                        "hits_after": sum(len(v) for v in found.values()),
                    }
                )
                + "\n"
            )


def test_a_running_store_stops_opening_an_erased_members_dead_letters_and_keys_anew(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """`erase` in one process while another (the service) runs: within the key cache's
    time the running one can no longer open the erased member's dead letters, and a new
    rejected message of the member is sealed with a new key, which it can open."""
    from infra.store import shredding

    url = f"sqlite:///{tmp_path}/running.db"
    cpr = "0101901234"
    registration = {
        "message_id": "e-1", "type": "unemployed", "cpr": cpr, "registered_on": "2021-03-01",
        "insurance": "full_time", "municipality_code": 751, "birth_date": "1990-01-01",
        "vocational_education": False, "has_children": False,
    }
    refused = {"message_id": "e-2", "type": "hours_paid", "cpr": cpr, "payment_id": "p",
               "month": "2021-03", "hours": 170}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(registration) + "\n" + json.dumps(refused) + "\n")
    assert run_cli(["ingest", str(path), "--json", "--db", url])["exit"] == 0
    running = Store(url)
    try:
        assert [row["value"] is not None for row in running.dead_letters()] == [True]
        assert run_cli(["erase", cpr, "--json", "--db", url])["output"] == {"erased": True}
        monkeypatch.setattr(shredding, "CACHE_SECONDS", 0.0)
        assert [row["value"] for row in running.dead_letters()] == [None]
        # The same CPR rejected again through the running store: a new key, readable.
        again = {**refused, "message_id": "e-3"}
        path.write_text(json.dumps(again) + "\n")
        from infra.ingest import file_records
        from infra.settings import Settings
        from tests.scenario_helpers import ingest

        report = ingest(running, Settings().rule_settings(), file_records(
            [path.read_bytes().rstrip(b"\n")], "in.jsonl"))
        assert len(report.rejected) == 1
        values = [row["value"] for row in running.dead_letters()]
        assert values[0] is None and values[-1] == json.dumps(again).encode()
    finally:
        running.close()


# Issue 26, point 3: lines that once made the dead letter's key another CPR than the one the
# decoder reads. `DECOY` is a member kept; the victim's name and birth date ride along.
VICTIM, VICTIM_BORN, VICTIM_NAME = "1402983323", date(1998, 2, 14), "Karen Molgaard"
DECOY = KEPT[0]


def _tricks() -> list[tuple[str, str]]:
    """(line, the field its refusal names): each trick, as raw JSON text."""
    about = f'"name": "{VICTIM_NAME}", "born": "{VICTIM_BORN:%d.%m.%Y}"'
    escaped = "\\u0031" + VICTIM[1:]  # "\u0031402983323" decodes to the victim's CPR
    return [
        # a duplicate `cpr` key: a regex took the first, the decoder reads the last
        (f'{{"message_id": "t-dup", "type": "jobcenter_contact", "cpr": "{DECOY}", "on": '
         f'"2021-05-10", "about": "ordinary_job", "note": "x", {about}, "cpr": "{VICTIM}"}}',
         "cpr"),
        # the CPR written with a JSON escape (refused: the birth date is not the CPR's)
        (f'{{"message_id": "t-esc-{DECOY}", "type": "unemployed", "cpr": "{escaped}", '
         '"registered_on": "2021-03-01", "insurance": "full_time", "municipality_code": 751, '
         f'"birth_date": "2001-01-01", "vocational_education": true, "has_children": false, '
         f'{about}}}', "birth_date"),
        # an escaped key, with an earlier run of ten digits in the message id
        (f'{{"message_id": "t-key-0202020202", "type": "hours_paid", "\\u0063pr": "{VICTIM}", '
         f'"payment_id": "p-1", "month": "2021-03", "hours": 170, {about}}}', "hours"),
        # the same, cut short: not JSON, read as far as it goes
        (f'{{"message_id": "t-cut-0202020202", "\\u0063pr": "{escaped}", {about}', None),
    ]


def test_erase_finds_every_dead_letter_the_decoder_reads_as_the_members(
    db_url: str, tmp_path: Path, capsysbinary: Any
) -> None:
    from infra.cli import main

    registrations = [
        json.dumps({"message_id": f"reg-{cpr}", "type": "unemployed", "cpr": cpr,
                    "registered_on": "2021-03-01", "insurance": "full_time",
                    "municipality_code": 751, "birth_date": born.isoformat(),
                    "vocational_education": True, "has_children": False})
        for cpr, born in ((VICTIM, VICTIM_BORN), KEPT)
    ]
    tricks = _tricks()
    source = tmp_path / "tricks.jsonl"
    source.write_text("\n".join([*registrations, *(line for line, _ in tricks)]) + "\n")
    report = run_cli(["ingest", str(source), "--json", "--db", db_url])["output"]
    assert report["accepted"] == 2
    assert [r["error_field"] for r in report["rejected"]] == [f for _, f in tricks]
    assert "appears twice" in report["rejected"][0]["error"]

    def seen(capture: bool = True) -> str:
        """What `dead-letters` and `dead-letters show` give, and a dump of the store."""
        assert main(["dead-letters", "--status", "all", "--json", "--db", db_url]) == 0
        listing = capsysbinary.readouterr().out.decode()
        parts = [listing, dump(db_url)]
        for letter in json.loads(listing):
            main(["dead-letters", "show", str(letter["id"]), "--db", db_url])
            out = capsysbinary.readouterr()
            parts += [out.out.decode("latin-1"), out.err.decode("latin-1")]
        return "\n".join(parts)

    def found(text: str) -> list[str]:
        unescaped = text.replace("\\u0031", "1")
        names = [VICTIM_NAME] if VICTIM_NAME in unescaped else []
        return hits(unescaped, VICTIM, VICTIM_BORN) + names

    before = seen()
    assert VICTIM_NAME in before and hits(before, VICTIM, VICTIM_BORN)
    assert run_cli(["erase", VICTIM, "--json", "--db", db_url])["output"] == {"erased": True}
    assert found(seen()) == []
    assert DECOY in dump(db_url)  # the member kept is still there


def test_the_letters_cpr_is_the_one_the_decoder_reads() -> None:
    from infra.store.shredding import letter_cpr

    escaped = "\\u0031" + VICTIM[1:]
    assert [letter_cpr(line) for line, _ in _tricks()] == [VICTIM] * 4
    assert letter_cpr(f'{{"cpr": "{VICTIM}", "x": {{"cpr": "{DECOY}"}}}}') == VICTIM
    assert letter_cpr(f'{{"message_id": "{DECOY}", "cpr": 705851234}}') == "0705851234"
    assert letter_cpr(f'{{"message_id": "{DECOY}", "note": "\\"cpr\\": \\"{DECOY}\\""}}') is None
    assert letter_cpr(f'not JSON, yet {DECOY}') is None  # a digit run alone names no one
    assert letter_cpr('{"cpr": "9999999999"}') is None  # not a CPR: no birth date
    assert letter_cpr(f'{{"cpr": "{escaped}"', record_key=DECOY.encode()) == VICTIM
    assert letter_cpr(b'{"cpr": null', record_key=VICTIM.encode()) == VICTIM
    assert letter_cpr(b"\xff" * 10, record_key=b"\xff") is None
