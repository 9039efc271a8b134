"""Seeded generator of a realistic year of an a-kasse's inbound messages, bad lines included."""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from calendar import isleap, monthrange
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from domain.municipalities import DANISH_MUNICIPALITIES, TRIAL_MUNICIPALITIES

Message = dict[str, object]

TRIAL_WEIGHTS: dict[int, int] = {101: 34, 751: 20, 630: 7, 147: 6, 621: 6, 330: 5, 607: 3}
"""The seven trial municipalities (R1), weighted roughly by population."""
ADVISERS = ("anna", "bo", "carl", "dorte", "emil")
FULL_MONTH = {"full_time": 160.33, "part_time": 130.00}  # R8: hours in one full month
THRESHOLD = {"full_time": 410.0, "part_time": 333.0}  # R8
MEETINGS = {  # kind: (on time from S + days, on time until, late until); R4
    "cv_and_job": (0, 14, 30),
    "availability_and_job": (42, 49, 60),
    "joint": (63, 77, 95),
}
BAD_KINDS = (
    "unknown_type",
    "missing_field",
    "invalid_cpr",
    "unknown_municipality",
    "hours_above_max",
    "invalid_date",
    "repeat",
)
"""The kinds of bad message mixed in; a `repeat` is a duplicate, the rest are rejected."""
BAD_SHARE = 0.005
NOT_JSON = (
    '{"message_id": "demo-broken", "type": "hours_paid", "cpr": "0101',
    "hours_paid;demo-broken-2;2021-03;160,33",
)
_INVALID_DAY_MONTH = ("3102", "3002", "3104", "3106", "3109", "3111", "0005", "1213")
_NOT_MUNICIPALITIES = (9999, 0, 2100, 8000, 5000, 1000, 102)  # postal codes look alike
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
OPT_OUT_NOTES = (
    "Helbredsproblemer; bedre hjulpet i jobcentret",
    "Kan ikke længere arbejde i faget (ryg)",
    "Sociale problemer ud over ledighed",
    "Handicap; behov for afklaring i jobcentret",
)
CONTACT_NOTES = {
    "ordinary_job": ("Jobforslag: pædagog, 37 t/uge", "Henvist til stilling som medhjælper"),
    "activation_offer": ("Tilbud om virksomhedspraktik, 4 uger", "Tilbud om løntilskud"),
}


def _workday(day: date, not_before: date) -> date:
    """A meeting day: Saturday moves to Friday, Sunday to Monday, never before `not_before`."""
    if day.weekday() == 5:
        day -= timedelta(days=1)
    elif day.weekday() == 6:
        day += timedelta(days=1)
    return day if day >= not_before else day + timedelta(days=3)


def _century_digit(rng: random.Random, year: int) -> int:
    """A CPR 7th digit that gives `year` by the century rule."""
    if year >= 2000:
        return rng.randint(4, 9)
    return rng.choice((0, 1, 2, 3, 4, 9) if year % 100 >= 37 else (0, 1, 2, 3))


class _Year:
    """One year's good messages, member by member, each with the day it arrives."""

    def __init__(self, seed: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.first, self.last = date(year, 1, 1), date(year, 12, 31)
        self.end = self.last + timedelta(days=1)  # "never" within this year
        self.others = sorted(c for c in DANISH_MUNICIPALITIES if c not in TRIAL_MUNICIPALITIES)
        self.others.remove(411)  # Christiansø has no jobcenter of its own
        self.cprs: set[str] = set()  # only looked up, never iterated
        self.items: list[tuple[date, int, Message]] = []

    def emit(self, arrives: date, type_: str, cpr: str, **fields: object) -> None:
        if arrives <= self.last:  # the year ends: later messages are left out
            msg: Message = {"message_id": "", "type": type_, "cpr": cpr}
            msg.update({k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()})
            self.items.append((arrives, len(self.items), msg))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days(self, lo: int, hi: int) -> timedelta:
        return timedelta(days=self.rng.randint(lo, hi))

    def between(self, lo: date, hi: date) -> date | None:
        return None if hi < lo else lo + self.days(0, (hi - lo).days)

    def trial_municipality(self, other_than: int = 0) -> int:
        codes = [c for c in TRIAL_WEIGHTS if c != other_than]
        return self.rng.choices(codes, [TRIAL_WEIGHTS[c] for c in codes])[0]

    def member(self, no: int) -> None:
        rng, one = self.rng, timedelta(days=1)
        start = self.first + self.days(0, (self.last - self.first).days)  # S
        age = rng.randint(19, 24) if self.chance(0.08) else rng.randint(25, 66)
        birth = start - relativedelta(years=age) - self.days(0, 364)
        cpr = ""
        while not cpr or cpr in self.cprs:
            digit = _century_digit(rng, birth.year)
            cpr = f"{birth:%d%m%y}{digit}{rng.randint(0, 999):03d}"
        self.cprs.add(cpr)
        trial_home = self.chance(0.8)
        muni = self.trial_municipality() if trial_home else rng.choice(self.others)
        insurance = "full_time" if self.chance(0.85) else "part_time"
        vocational = self.chance(0.5 if age < 25 else 0.75)
        children = self.chance(0.15 if age < 25 else 0.45)
        in_trial = trial_home and not (age < 25 and not vocational and not children)  # R3
        adviser, adviser_now = rng.choice(ADVISERS), self.chance(0.7)

        if trial_home and self.chance(0.10):  # R2: signed up while under notice
            signed = start - relativedelta(months=rng.randint(1, 3)) - self.days(0, 10)
            if signed >= self.first:
                self.emit(
                    signed,
                    "notice_signup",
                    cpr,
                    signed_up_on=signed,
                    employment_ends_on=start - one,
                    municipality_code=muni,
                )
        fields: Message = {
            "registered_on": start,
            "insurance": insurance,
            "municipality_code": muni,
            "birth_date": birth,
            "vocational_education": vocational,
            "has_children": children,
        }
        if adviser_now:
            fields["adviser"] = adviser
        self.emit(start, "unemployed", cpr, **fields)

        leave, leave_type, r = self.end, "", rng.random()  # the member leaves the a-kasse's books
        if r < 0.01:
            leave, leave_type = start + self.days(20, 150), "akasse_changed"
        elif r < 0.31:
            leave, leave_type = start + self.days(14, 240), "deregistered"
        moved, move_to, move_out = start + self.days(10, 240), 0, self.end
        if self.chance(0.05):
            if trial_home and self.chance(0.5):
                move_to = self.trial_municipality(other_than=muni)
            elif not trial_home and self.chance(0.25):
                move_to = self.trial_municipality()
            else:
                move_to = rng.choice([c for c in self.others if c != muni])
            if in_trial and move_to not in TRIAL_MUNICIPALITIES:
                move_out = moved  # R9
        stop = min(leave, move_out)  # from this day on, no trial activity

        sick: tuple[date, date] | None = None
        if in_trial:
            cv = _workday(self.plan(start, "cv_and_job"), start)
            cv_held = self.chance(0.93)
            opted = self.end
            if self.chance(0.03):
                opted = cv if cv_held and self.chance(0.8) else cv + self.days(7, 25)
                opted = opted if opted < stop else self.end
            stop = min(stop, opted + one)  # R11: a meeting on the day of decision counts
            if self.chance(0.02) and (approved := self.less_intensive(cpr, start, age, stop)):
                stop = approved[0]  # R18: no meetings from the request on
                if approved[1] < leave:  # the job (barsel, pension) starts
                    leave, leave_type = approved[1], "deregistered"
            if self.chance(0.10):
                sick_from = self.between(start + one, min(stop - one, start + timedelta(days=55)))
                if sick_from:
                    sick = (sick_from, sick_from + self.days(1, 9))
                    late = self.days(1, 4) if self.chance(0.25) else timedelta()
                    self.emit(
                        sick_from + late,
                        "sickness_reported",
                        cpr,
                        sick_from=sick_from,
                        reported_on=sick_from + late,
                    )
        if not adviser_now and (assigned := start + self.days(1, 7)) < leave:
            self.emit(assigned, "adviser_assigned", cpr, adviser=adviser, assigned_on=assigned)
        if move_to and moved < leave:
            self.emit(
                moved + self.days(0, 3), "moved", cpr, municipality_code=move_to, moved_on=moved
            )

        hours_end = self.payments(no, cpr, start, leave, insurance, sick)
        if in_trial:
            stop = min(stop, hours_end + one)  # R8
            self.meetings(cpr, start, cv, cv_held, stop)
            if opted < stop:  # not overtaken by an approved less-intensive request
                self.emit(opted, "opted_out", cpr, decided_on=opted, note=rng.choice(OPT_OUT_NOTES))
            if cv < stop and self.chance(0.7):  # R6, voluntary
                assessed = self.between(start, cv) or start
                self.emit(
                    assessed,
                    "profile_assessed",
                    cpr,
                    assessed_on=assessed,
                    result=rng.choices(("short", "long", "declined"), (45, 35, 20))[0],
                )
            if self.chance(0.25):
                self.holiday(no, cpr, start, stop)
            if self.chance(0.03) and (on := self.between(start + 14 * one, stop - one)):
                about = "ordinary_job" if self.chance(0.7) else "activation_offer"
                self.emit(
                    on,
                    "jobcenter_contact",
                    cpr,
                    on=on,
                    about=about,
                    note=rng.choice(CONTACT_NOTES[about]),
                )
        if leave_type == "deregistered":
            self.emit(leave, leave_type, cpr, deregistered_on=leave)
        elif leave_type:
            self.emit(leave, leave_type, cpr, changed_on=leave)

    def plan(self, start: date, kind: str) -> date:
        lo, hi, late = MEETINGS[kind]
        return start + (self.days(hi + 1, late) if self.chance(0.10) else self.days(lo, hi))

    def less_intensive(
        self, cpr: str, start: date, age: int, stop: date
    ) -> tuple[date, date] | None:
        """R18: a request; the request and start days when it will be approved."""
        requested = self.between(start + timedelta(days=7), min(stop, start + timedelta(days=56)))
        if requested is None or requested >= stop:
            return None
        if age >= 65:
            reason = "folkepension"
        elif age >= 60:
            reason = "efterloen"
        else:
            reason = "barsel" if age < 45 and self.chance(0.25) else "job"
        r = self.rng.random()  # < 0.75 approved, < 0.9 too early, else undocumented
        starts = requested + (self.days(50, 120) if 0.75 <= r < 0.9 else self.days(7, 42))
        self.emit(
            requested,
            "less_intensive_requested",
            cpr,
            requested_on=requested,
            reason=reason,
            starts_on=starts,
            documented=r < 0.9,
        )
        return (requested, starts) if r < 0.75 else None

    def payments(
        self,
        no: int,
        cpr: str,
        start: date,
        leave: date,
        insurance: str,
        sick: tuple[date, date] | None,
    ) -> date:
        """R8: monthly hours paid until the member leaves; the day the trial ends by hours."""
        full, rows = FULL_MONTH[insurance], []
        month = start.replace(day=1)
        while month < leave:
            days_in = monthrange(month.year, month.month)[1]
            month_end = month.replace(day=days_in)
            first, last = max(start, month), min(leave - timedelta(days=1), month_end)
            days = (last - first).days + 1
            if sick:
                days -= max(0, (min(last, sick[1]) - max(first, sick[0])).days + 1)
            hours = full * days / days_in
            if self.chance(0.12):  # worked some hours that month
                hours -= self.rng.uniform(8.0, 0.7 * full)
            if (hours := round(min(hours, full), 2)) > 0:
                rows.append((month_end, hours))
            month = month_end + timedelta(days=1)
        arrives = [month_end + self.days(2, 6) for month_end, _ in rows]
        for i in range(len(rows) - 2, -1, -1):  # a later month arrives before an earlier one
            if self.chance(0.05):
                arrives[i] = arrives[i + 1] + self.days(1, 3)
        total, ends = 0.0, self.end
        for (month_end, hours), arrival in zip(rows, arrives, strict=True):
            self.emit(
                arrival,
                "hours_paid",
                cpr,
                payment_id=f"UDB-{month_end:%Y%m}-{no:05d}",
                month=f"{month_end:%Y-%m}",
                hours=hours,
            )
            total += hours
            if ends == self.end and total >= THRESHOLD[insurance]:
                ends = month_end
        return ends

    def meetings(self, cpr: str, start: date, cv: date, cv_held: bool, stop: date) -> None:
        """R4/R5/R7: bookings and meetings held (some missed, some late) before `stop`."""
        held = [cv] if self.meeting(cpr, start, "cv_and_job", cv, cv_held, stop) else []
        for kind in ("availability_and_job", "joint"):
            day = _workday(self.plan(start, kind), start)
            if self.meeting(cpr, start, kind, day, self.chance(0.92), stop):
                held.append(day)
        if not held or held[0] != cv or not self.chance(0.10):
            return
        self.emit(cv, "extra_meetings_agreed", cpr, agreed_on=cv)
        latest = cv
        while True:
            day = _workday(latest + self.days(10, 14), latest + timedelta(days=1))
            if later := [d for d in held if latest < d <= day]:
                latest = later[-1]
                continue
            if day >= stop or day > self.last:
                return
            self.emit(latest, "meeting_booked", cpr, kind="extra_job", on=day)
            self.emit(day, "meeting_held", cpr, kind="extra_job", held_on=day)
            latest = day

    def meeting(self, cpr: str, start: date, kind: str, day: date, held: bool, stop: date) -> bool:
        if day >= stop:
            return False
        if kind == "cv_and_job":
            booked = start + self.days(0, min(2, (day - start).days))
        else:
            booked = max(start, day - self.days(3, 14))
        self.emit(booked, "meeting_booked", cpr, kind=kind, on=day)
        if held:
            self.emit(day, "meeting_held", cpr, kind=kind, held_on=day)
        return held

    def holiday(self, no: int, cpr: str, start: date, stop: date) -> None:
        """R14: mostly on time via jobnet; some short notice via jobnet, message or phone."""
        requested = self.between(start + timedelta(days=1), min(stop, self.end) - timedelta(days=1))
        if requested is None:
            return
        r = self.rng.random()
        channel = "jobnet" if r < 0.82 else self.rng.choice(("message", "phone"))
        notice = self.rng.randint(14, 60) if r < 0.7 else self.rng.randint(1, 13)
        first = requested + timedelta(days=notice)
        last = first + self.days(0, 14)
        if last > self.last:
            return
        request_id = f"ferie-{no:05d}"
        self.emit(
            requested,
            "holiday_requested",
            cpr,
            request_id=request_id,
            requested_on=requested,
            first_day=first,
            last_day=last,
            channel=channel,
        )
        if channel != "jobnet" and self.chance(0.7):
            decided = requested + self.days(0, min(3, notice - 1))
            self.emit(
                decided,
                "holiday_decided",
                cpr,
                request_id=request_id,
                decided_on=decided,
                approved=self.chance(0.85),
            )


def _spoil(rng: random.Random, msg: Message, kind: str, year: int) -> Message:
    """A bad variant of a good message; a `repeat` is the very same message again."""
    if kind == "repeat":
        return msg
    bad = dict(msg)
    if kind == "unknown_type":
        name = str(msg["type"])
        bad["type"] = rng.choice((f"{name}_v2", name.upper(), name.replace("_", "-"), "deceased"))
    elif kind == "missing_field":
        del bad[rng.choice([k for k in bad if k not in ("message_id", "adviser")])]
    elif kind == "invalid_cpr":  # a birth date that does not exist, e.g. 310221
        bad["cpr"] = rng.choice(_INVALID_DAY_MONTH) + str(msg["cpr"])[4:]
    elif kind == "unknown_municipality":
        bad["municipality_code"] = rng.choice(
            [c for c in _NOT_MUNICIPALITIES if c not in DANISH_MUNICIPALITIES]
        )
    elif kind == "hours_above_max":
        bad["hours"] = rng.choice((round(rng.uniform(160.34, 240.0), 2), 1603.3, 173.0))
    elif kind == "invalid_date":
        field = rng.choice([k for k, v in bad.items() if isinstance(v, str) and _DATE.fullmatch(v)])
        days = ["02-30", "04-31", "06-31", "09-31", "11-31", "13-01"]
        bad[field] = f"{year}-{rng.choice([*days, *([] if isleap(year) else ['02-29'])])}"
    return bad


def _with_bad(
    rng: random.Random, good: list[Message], year: int
) -> list[tuple[Message, str | None]]:
    """About BAD_SHARE bad messages (every kind at least once), each a little after its source."""
    if not good:
        return []
    kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(max(7, round(len(good) * BAD_SHARE)))]
    rng.shuffle(kinds)
    pools: dict[str, Sequence[int]] = {
        "hours_above_max": [i for i, m in enumerate(good) if m["type"] == "hours_paid"],
        "unknown_municipality": [i for i, m in enumerate(good) if "municipality_code" in m],
        "invalid_date": [i for i, m in enumerate(good) if m["type"] != "hours_paid"],
    }
    after: dict[int, list[tuple[Message, str | None]]] = {}
    for kind in kinds:
        if pool := pools.get(kind, range(len(good))):
            source = rng.choice(pool)
            where = min(len(good) - 1, source + rng.randint(0, 40))
            after.setdefault(where, []).append((_spoil(rng, good[source], kind, year), kind))
    labelled: list[tuple[Message, str | None]] = []
    for i, msg in enumerate(good):
        labelled.append((msg, None))
        labelled.extend(after.get(i, ()))
    return labelled


def generate_labelled(
    *, seed: int = 2021, members: int = 3000, year: int = 2021
) -> list[tuple[Message, str | None]]:
    """Every message in arrival order with its bad kind (one of BAD_KINDS) or None when good."""
    gen = _Year(seed, year)
    for no in range(1, members + 1):
        gen.member(no)
    gen.items.sort(key=lambda item: (item[0], item[1]))  # by day of arrival, stable
    labelled = _with_bad(gen.rng, [msg for _, _, msg in gen.items], year)
    number = 0
    for msg, kind in labelled:
        if kind != "repeat":  # a repeat shares its source's dict, so its message_id too
            number += 1
            msg["message_id"] = f"demo-{number:06d}"
    return [(dict(msg), kind) for msg, kind in labelled]


def generate_year(*, seed: int = 2021, members: int = 3000, year: int = 2021) -> list[Message]:
    """A year of inbound messages for `members` members, bad ones (about 0.5%) included."""
    return [msg for msg, _ in generate_labelled(seed=seed, members=members, year=year)]


def generate_lines(*, seed: int = 2021, members: int = 3000, year: int = 2021) -> list[str]:
    """generate_year as JSON lines, with one or two lines that are not JSON at all."""
    lines = [
        json.dumps(msg, ensure_ascii=False)
        for msg in generate_year(seed=seed, members=members, year=year)
    ]
    rng = random.Random(f"not-json:{seed}")
    for text in NOT_JSON[: rng.randint(1, 2)]:
        lines.insert(rng.randint(0, len(lines)), text)
    return lines


def write_jsonl(messages: Iterable[Message | str], path: str | Path) -> int:
    """Writes one JSON object (or a given line, as is) per line, UTF-8; '-' is stdout."""
    lines = [m if isinstance(m, str) else json.dumps(m, ensure_ascii=False) for m in messages]
    text = "".join(f"{line}\n" for line in lines)
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
    return len(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="JSON-lines file to write ('-' for stdout)")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args(argv)
    lines = generate_lines(seed=args.seed, members=args.members, year=args.year)
    count = write_jsonl(lines, args.path)
    print(f"wrote {count} lines to {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
