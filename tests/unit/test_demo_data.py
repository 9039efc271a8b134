"""The demo data generator: deterministic, true to the inbound contract, bad lines on purpose."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from domain.municipalities import DANISH_MUNICIPALITIES, TRIAL_MUNICIPALITIES
from infra.demo.demo_data import (
    BAD_KINDS,
    NOT_MUNICIPALITIES,
    TRIAL_WEIGHTS,
    Labelled,
    generate_labelled,
    generate_lines,
    generate_year,
    write_jsonl,
)

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2021
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")

# The inbound contract (CONTRACT.md), written out again here on purpose.
DATE, MONTH, HOURS, TEXT, BOOL, INT = "date", "month", "hours", "text", "bool", "int"
KINDS = ("cv_and_job", "availability_and_job", "joint", "extra_job")
CONTRACT: dict[str, dict[str, object]] = {
    "unemployed": {
        "registered_on": DATE,
        "insurance": ("full_time", "part_time"),
        "municipality_code": INT,
        "birth_date": DATE,
        "vocational_education": BOOL,
        "has_children": BOOL,
    },
    "adviser_assigned": {"adviser": TEXT, "assigned_on": DATE},
    "notice_signup": {"signed_up_on": DATE, "employment_ends_on": DATE, "municipality_code": INT},
    "hours_paid": {"payment_id": TEXT, "month": MONTH, "hours": HOURS},
    "moved": {"municipality_code": INT, "moved_on": DATE},
    "akasse_changed": {"changed_on": DATE},
    "deregistered": {"deregistered_on": DATE},
    "meeting_booked": {"kind": KINDS, "on": DATE},
    "meeting_held": {"kind": KINDS, "held_on": DATE},
    "extra_meetings_agreed": {"agreed_on": DATE},
    "profile_assessed": {"assessed_on": DATE, "result": ("short", "long", "declined")},
    "opted_out": {"decided_on": DATE, "note": TEXT},
    "holiday_requested": {
        "request_id": TEXT,
        "requested_on": DATE,
        "first_day": DATE,
        "last_day": DATE,
        "channel": ("jobnet", "message", "phone"),
    },
    "holiday_decided": {"request_id": TEXT, "decided_on": DATE, "approved": BOOL},
    "sickness_reported": {"sick_from": DATE, "reported_on": DATE},
    "less_intensive_requested": {
        "requested_on": DATE,
        "reason": ("job", "barsel", "efterloen", "folkepension"),
        "starts_on": DATE,
        "documented": BOOL,
    },
    "jobcenter_contact": {"on": DATE, "about": ("ordinary_job", "activation_offer"), "note": TEXT},
}
OPTIONAL = {"unemployed": {"adviser": TEXT}}
FULL_MONTH = {"full_time": 160.33, "part_time": 130.00}


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not ISO.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def fits(value: object, spec: object) -> bool:
    if isinstance(spec, tuple):
        return value in spec
    if spec == DATE:
        return is_date(value)
    if spec == MONTH:
        return isinstance(value, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value) is not None
    if spec == HOURS:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 <= value <= 160.33
            and round(value, 2) == value
        )
    if spec == INT:  # the one int field is a municipality code
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value in DANISH_MUNICIPALITIES
        )
    if spec == BOOL:
        return isinstance(value, bool)
    return isinstance(value, str) and value != ""


def cpr_birth_date(cpr: object) -> date | None:
    """The birth date a CPR number gives by the century rule (RULES.md), or None."""
    if not isinstance(cpr, str) or not re.fullmatch(r"\d{10}", cpr):
        return None
    day, month, yy, seventh = int(cpr[:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def is_good(msg: dict[str, object]) -> bool:
    spec = CONTRACT.get(str(msg.get("type")))
    if spec is None or cpr_birth_date(msg.get("cpr")) is None:
        return False
    optional = OPTIONAL.get(str(msg["type"]), {})
    if set(msg) - {"message_id", "type", "cpr"} - set(optional) != set(spec):
        return False
    fields = {**spec, **{k: v for k, v in optional.items() if k in msg}}
    id_ok = isinstance(msg["message_id"], str) and 1 <= len(msg["message_id"]) <= 128
    return id_ok and all(fits(msg[name], kind) for name, kind in fields.items())


@pytest.fixture(scope="module")
def small() -> Labelled:
    return generate_labelled(seed=7, members=500, year=YEAR)


@pytest.fixture(scope="module")
def timed_full() -> tuple[Labelled, float]:
    started = time.perf_counter()
    labelled = generate_labelled(seed=2021, members=3000, year=YEAR)
    return labelled, time.perf_counter() - started


@pytest.fixture(scope="module")
def full(timed_full: tuple[Labelled, float]) -> Labelled:
    return timed_full[0]


def good(labelled: Labelled) -> list[dict[str, object]]:
    return [msg for msg, kind in labelled if kind is None]


def test_same_seed_same_lines_and_another_seed_other_lines() -> None:
    first = generate_lines(seed=11, members=200)
    assert first == generate_lines(seed=11, members=200)
    assert first != generate_lines(seed=12, members=200)


def test_the_file_is_byte_identical_whatever_the_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"demo-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "infra.demo.demo_data", str(out), "--members", "150"]
        subprocess.run([*command, "--seed", "5"], cwd=ROOT, env=env, check=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].decode("utf-8").splitlines() == generate_lines(seed=5, members=150)


def test_every_good_message_follows_the_contract(small: Labelled) -> None:
    messages = good(small)
    assert {m["type"] for m in messages} >= set(CONTRACT) - {"akasse_changed"}
    bad = [m for m in messages if not is_good(m)]
    assert bad == []
    for msg in messages:
        if msg["type"] == "unemployed":
            assert cpr_birth_date(msg["cpr"]) == date.fromisoformat(str(msg["birth_date"]))


def test_every_type_occurs_for_3000_members(full: Labelled) -> None:
    assert set(CONTRACT) <= {m["type"] for m in good(full)}


def test_message_ids_are_unique_except_the_repeats(small: Labelled) -> None:
    seen: dict[object, dict[str, object]] = {}
    for msg, kind in small:
        if kind == "repeat":
            assert seen[msg["message_id"]] == msg  # the same message again, word for word
        else:
            assert msg["message_id"] not in seen
            seen[msg["message_id"]] = msg
    payments = [m["payment_id"] for m in good(small) if m["type"] == "hours_paid"]
    requests = [m["request_id"] for m in good(small) if m["type"] == "holiday_requested"]
    assert len(set(payments)) == len(payments)
    assert len(set(requests)) == len(requests)


def test_dates_lie_within_the_year(small: Labelled) -> None:
    for msg in good(small):
        for name, value in msg.items():
            if name in ("birth_date", "starts_on") or not is_date(value):
                continue
            assert date(YEAR, 1, 1) <= date.fromisoformat(str(value)) <= date(YEAR, 12, 31), msg
        if msg["type"] == "hours_paid":
            assert str(msg["month"]).startswith(f"{YEAR}-")


def test_every_bad_kind_occurs_and_is_bad(full: Labelled) -> None:
    counts = Counter(kind for _, kind in full if kind is not None)
    assert set(counts) == set(BAD_KINDS)
    assert 0.003 < sum(counts.values()) / len(full) < 0.008
    for msg, kind in full:
        if kind == "unknown_type":
            assert msg["type"] not in CONTRACT
        elif kind == "missing_field":
            spec = CONTRACT[str(msg["type"])] if msg.get("type") in CONTRACT else {}
            assert not {"type", "cpr", *spec} <= set(msg)
        elif kind == "invalid_cpr":
            assert cpr_birth_date(msg["cpr"]) is None
        elif kind == "unknown_municipality":
            assert msg["municipality_code"] not in DANISH_MUNICIPALITIES
        elif kind == "hours_above_max":
            assert isinstance(msg["hours"], float) and msg["hours"] > 160.33
        elif kind == "invalid_date":
            shaped = [v for v in msg.values() if isinstance(v, str) and ISO.fullmatch(v)]
            assert not all(is_date(v) for v in shaped)
        if kind not in (None, "repeat"):
            assert not is_good(msg)
    assert set(NOT_MUNICIPALITIES).isdisjoint(DANISH_MUNICIPALITIES)


def test_hours_never_exceed_a_full_month(small: Labelled) -> None:
    insurance = {m["cpr"]: m["insurance"] for m in good(small) if m["type"] == "unemployed"}
    paid = [m for m in good(small) if m["type"] == "hours_paid"]
    assert {insurance[m["cpr"]] for m in paid} == {"full_time", "part_time"}
    for msg in paid:
        assert 0 < float(str(msg["hours"])) <= FULL_MONTH[str(insurance[msg["cpr"]])]


def test_unemployed_comes_first_for_each_member(small: Labelled) -> None:
    first: dict[object, str] = {}
    for msg in good(small):
        if msg["type"] != "notice_signup":
            first.setdefault(msg["cpr"], str(msg["type"]))
    assert set(first.values()) == {"unemployed"}
    assert Counter(m["type"] for m in good(small))["unemployed"] == 500


def test_members_look_like_the_a_kasse(full: Labelled) -> None:
    members = [m for m in good(full) if m["type"] == "unemployed"]
    assert len({m["cpr"] for m in members}) == 3000
    ages, education_orders = [], 0
    for m in members:
        born, registered = (date.fromisoformat(str(m[k])) for k in ("birth_date", "registered_on"))
        age = (
            registered.year
            - born.year
            - ((registered.month, registered.day) < (born.month, born.day))
        )
        ages.append(age)
        education_orders += age < 25 and not m["vocational_education"] and not m["has_children"]
    assert min(ages) >= 19 and max(ages) <= 66
    assert 0.05 < sum(age < 25 for age in ages) / len(ages) < 0.11
    assert education_orders > 20  # R3 fires sometimes
    in_trial = sum(m["municipality_code"] in TRIAL_MUNICIPALITIES for m in members) / len(members)
    assert 0.75 < in_trial < 0.85
    full_time = sum(m["insurance"] == "full_time" for m in members) / len(members)
    assert 0.8 < full_time < 0.9
    assert set(TRIAL_WEIGHTS) == TRIAL_MUNICIPALITIES


def test_leavers_get_no_payment_or_meeting_afterwards(full: Labelled) -> None:
    left: dict[object, date] = {}
    for msg in good(full):
        if msg["type"] in ("deregistered", "akasse_changed"):
            left[msg["cpr"]] = date.fromisoformat(
                str(msg.get("deregistered_on", msg.get("changed_on")))
            )
    assert left
    for msg in good(full):
        if msg["cpr"] not in left:
            continue
        gone = left[msg["cpr"]]
        if msg["type"] == "hours_paid":
            assert str(msg["month"]) <= f"{gone:%Y-%m}"
        if msg["type"] in ("meeting_held", "meeting_booked"):
            assert date.fromisoformat(str(msg.get("held_on", msg.get("on")))) < gone


def test_some_payments_arrive_out_of_order(small: Labelled) -> None:
    months: defaultdict[object, list[str]] = defaultdict(list)
    for msg in good(small):
        if msg["type"] == "hours_paid":
            months[msg["cpr"]].append(str(msg["month"]))
    out_of_order = sum(found != sorted(found) for found in months.values())
    assert 0 < out_of_order < len(months) * 0.3


def test_lines_hold_one_or_two_lines_that_are_not_json(tmp_path: Path) -> None:
    lines = generate_lines(seed=3, members=100)
    parsed, broken = [], 0
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            broken += 1
    assert 1 <= broken <= 2
    assert parsed == generate_year(seed=3, members=100)
    path = tmp_path / "demo.jsonl"
    assert write_jsonl(lines, path) == len(lines)
    assert path.read_text(encoding="utf-8").splitlines() == lines


def test_3000_members_generate_quickly(timed_full: tuple[Labelled, float]) -> None:
    assert timed_full[1] < 5
