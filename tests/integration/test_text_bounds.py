"""Every stored text fits where it is stored (issue 26, point 1): each string field of the
contract at its longest is accepted and read back through the read models (worklist, a
rebuild), and one character more is refused naming the field, on both stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.message_fields import MAX_ID_CHARS, MAX_NAME_CHARS, MAX_NOTE_CHARS
from tools.release_store import run_cli

CPR, BORN = "0101801111", "1980-01-01"


def _long(length: int, tag: str) -> str:
    # Non-ASCII on purpose: the bounds are characters, and PostgreSQL's VARCHAR counts them so.
    return (tag + "-" + "æ" * length)[:length]


def _registration(message_id: str, cpr: str, born: str, **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message_id, "type": "unemployed", "cpr": cpr,
        "registered_on": "2021-03-01", "insurance": "full_time", "municipality_code": 751,
        "birth_date": born, "vocational_education": True, "has_children": False, **extra,
    }


def _message(field: str, value: str, n: int) -> dict[str, Any]:
    """One message whose `field` is `value` (message `n`, so that the ids differ)."""
    base = {"message_id": f"m-{field}-{n}", "cpr": CPR}
    if field == "message_id":
        return {**base, "message_id": value, "type": "meeting_booked",
                "kind": "cv_and_job", "on": "2021-03-20"}
    if field == "adviser":
        return {**base, "type": "adviser_assigned", "adviser": value, "assigned_on": "2021-03-02"}
    if field == "payment_id":
        return {**base, "type": "hours_paid", "payment_id": value, "month": f"2021-0{3 + n}",
                "hours": 1}
    if field == "request_id":
        return {**base, "type": "holiday_requested", "request_id": value,
                "requested_on": "2021-04-01", "first_day": "2021-04-05",
                "last_day": "2021-04-06", "channel": "phone"}
    if field == "request_id/decided":
        return {**base, "type": "holiday_decided", "request_id": value,
                "decided_on": "2021-04-02", "approved": True}
    assert field == "note"
    return {**base, "type": "jobcenter_contact", "on": "2021-03-15", "about": "ordinary_job",
            "note": value}


BOUNDS = {
    "message_id": MAX_ID_CHARS,
    "adviser": MAX_NAME_CHARS,
    "payment_id": MAX_ID_CHARS,
    "request_id": MAX_ID_CHARS,
    "request_id/decided": MAX_ID_CHARS,
    "note": MAX_NOTE_CHARS,
}


def test_each_text_field_holds_its_longest_and_refuses_one_more(
    db_url: str, tmp_path: Path
) -> None:
    longest_adviser = _long(MAX_NAME_CHARS, "anna")
    lines: list[dict[str, Any]] = [
        _registration("reg-1", CPR, BORN, adviser=longest_adviser),
        # a registration whose adviser is one character too long: refused, naming it
        _registration("reg-2", "0202802222", "1980-02-02", adviser=_long(MAX_NAME_CHARS + 1, "b")),
        # an opted_out note at its longest and one more, for a member of its own
        _registration("reg-3", "0303803333", "1980-03-03"),
        {"message_id": "opt-long", "type": "opted_out", "cpr": "0303803333",
         "decided_on": "2021-03-05", "note": _long(MAX_NOTE_CHARS + 1, "n")},
        {"message_id": "opt-max", "type": "opted_out", "cpr": "0303803333",
         "decided_on": "2021-03-05", "note": _long(MAX_NOTE_CHARS, "n")},
    ]
    held = _long(MAX_ID_CHARS, "req")
    for n, (field, bound) in enumerate(BOUNDS.items()):
        value = held if field.startswith("request_id") else _long(bound, field[:3])
        too_long = value + "x" if field.startswith("request_id") else _long(bound + 1, field[:3])
        lines.append(_message(field, too_long, 2 * n))
        lines.append(_message(field, value, 2 * n + 1))
    source = tmp_path / "long.jsonl"
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))

    report = run_cli(["ingest", str(source), "--json", "--db", db_url])
    assert report["exit"] == 0, report
    refused = {(r["line"], r["error_field"]) for r in report["output"]["rejected"]}
    fields = [f.split("/")[0] for f in BOUNDS]
    assert refused == {(2, "adviser"), (4, "note")} | {
        (6 + 2 * n, field) for n, field in enumerate(fields)
    }
    for rejected in report["output"]["rejected"]:
        assert "longer than" in rejected["error"] and rejected["error_field"] in rejected["error"]
    assert report["output"]["accepted"] == 2 + 1 + len(BOUNDS)

    adviser = _long(MAX_NAME_CHARS, "adv")  # the adviser_assigned at its longest
    for argv in (["worklist"], ["projections", "rebuild"], ["worklist"]):
        answer = run_cli([*argv, "--json", "--db", db_url])
        assert answer["exit"] == 0, answer
    mine = run_cli(["worklist", "--adviser", adviser, "--json", "--db", db_url])
    assert mine["exit"] == 0 and {item["cpr"] for item in mine["output"]} == {CPR}
    case = run_cli(["case", CPR, "--json", "--db", db_url])["output"]
    assert case["adviser"] == adviser and case["hours_paid"] == 1.0
    trail = run_cli(["history", CPR, "--json", "--db", db_url])["output"]
    trail = json.dumps(trail, ensure_ascii=False)
    assert _long(MAX_ID_CHARS, "mes") in trail
    assert run_cli(["case", "0303803333", "--json", "--db", db_url])["exit"] == 0


@pytest.mark.parametrize("field", ["adviser", "note", "payment_id", "request_id", "message_id"])
def test_the_schema_gives_each_bound(field: str) -> None:
    from domain.messages import contract_json_schema

    schema = json.dumps(contract_json_schema())
    bound = {"adviser": MAX_NAME_CHARS, "note": MAX_NOTE_CHARS}.get(field, MAX_ID_CHARS)
    assert f'"{field}": {{"maxLength": {bound}' in schema


def test_an_advisers_post_of_a_name_one_too_long_is_refused_and_the_worklist_still_answers(
    db_url: str,
) -> None:
    from tests.integration.test_api import MOVED, ingest
    from tests.integration.test_api_limits import client_for, headers, raw

    ingest(db_url, "02_late_move_revises_handover.jsonl")
    client, store = client_for(db_url)
    try:
        for n, name in enumerate((_long(MAX_NAME_CHARS + 1, "anna"), _long(MAX_NAME_CHARS, "a"))):
            message = {"message_id": f"http-{n}", "type": "adviser_assigned", "cpr": MOVED,
                       "adviser": name, "assigned_on": "2021-03-02"}
            response = client.post("/messages", content=raw(message), headers=headers("adviser"))
            assert response.status_code == (422 if n == 0 else 200), response.text
        assert response.status_code == 200
        worklist = client.get("/worklist", params={"adviser": name}, headers=headers("auditor"))
        assert worklist.status_code == 200, worklist.text
        case = client.get(f"/cases/{MOVED}", headers=headers("auditor"))
        assert case.status_code == 200 and case.json()["adviser"] == name, case.text
    finally:
        store.close()
    letters = run_cli(["dead-letters", "--json", "--db", db_url])["output"]
    assert [(d["message_id"], d["error_field"]) for d in letters][-1:] == [("http-0", "adviser")]
