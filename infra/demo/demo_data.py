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
Labelled = list[tuple[Message, str | None]]

TRIAL_WEIGHTS = {101: 34, 751: 20, 630: 7, 147: 6, 621: 6, 330: 5, 607: 3}  # ~ population
ADVISERS = ("anna", "bo", "carl", "dorte", "emil")
FULL_MONTH = {"full_time": 160.33, "part_time": 130.00}  # R8: hours in one full month
THRESHOLD = {"full_time": 410.0, "part_time": 333.0}  # R8
MEETINGS = {"cv_and_job": (0, 14, 30), "availability_and_job": (42, 49, 60), "joint": (63, 77, 95)}
"""R4: days after S from which and until which a meeting is on time, and the latest late day."""
BAD_KINDS = (
    "unknown_type",
    "missing_field",
    "invalid_cpr",
    "unknown_municipality",
    "hours_above_max",
    "invalid_date",
    "repeat",
)
"""Bad messages mixed in (about BAD_SHARE): a `repeat` is a duplicate, the rest are rejected."""
BAD_SHARE = 0.005
NOT_JSON = ('{"message_id": "demo-broken", "type": "hours_paid"', "hours_paid;0101;160,33")
BAD_CPR_DAYS = ("3102", "3002", "3104", "3106", "3109", "3111", "0005", "1213")  # DDMM
NOT_MUNICIPALITIES = (9999, 0, 2100, 8000, 5000, 1000, 102)  # not Danish; some are postcodes
BAD_DAYS = ("02-30", "04-31", "06-31", "09-31", "11-31", "13-01")
OPT_OUT_NOTES = (
    "Helbredsproblemer; bedre hjulpet i jobcentret",
    "Kan ikke længere arbejde i faget (ryg)",
    "Sociale problemer ud over ledighed",
)
CONTACT_NOTES = {
    "ordinary_job": ("Jobforslag: pædagog, 37 t/uge", "Henvist til stilling som medhjælper"),
    "activation_offer": ("Tilbud om virksomhedspraktik, 4 uger", "Tilbud om løntilskud"),
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ONE = timedelta(days=1)


def _workday(day: date, not_before: date) -> date:
    """Saturday moves to Friday and Sunday to Monday, but never before `not_before`."""
    day += {5: -ONE, 6: ONE}.get(day.weekday(), timedelta())
    return day if day >= not_before else day + 3 * ONE


class _Year:
    """One year's good messages, member by member, each with the day it arrives."""

    def __init__(self, seed: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.first, self.last = date(year, 1, 1), date(year, 12, 31)
        self.end = self.last + ONE  # "never" within this year
        codes = DANISH_MUNICIPALITIES  # Christiansø (411) has no jobcenter of its own
        self.others = sorted(c for c in codes if c not in TRIAL_MUNICIPALITIES and c != 411)
        self.cprs: set[str] = set()  # only looked up, never iterated
        self.items: list[tuple[date, int, Message]] = []
        self.no, self.cpr, self.start = 0, "", self.first  # the member in hand, and their S

    def emit(self, type_: str, at: date | None = None, **fields: object) -> None:
        """A message arriving `at` (default: its first date); none arrives after the year."""
        arrives = at or next(v for v in fields.values() if isinstance(v, date))
        if arrives <= self.last:
            msg: Message = {"message_id": "", "type": type_, "cpr": self.cpr}
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
        rng, self.no = self.rng, no
        start = self.start = self.first + self.days(0, (self.last - self.first).days)  # S
        age = rng.randint(19, 24) if self.chance(0.08) else rng.randint(25, 66)
        birth = start - relativedelta(years=age) - self.days(0, 364)
        century = (4, 5, 6, 7, 8, 9) if birth.year >= 2000 else (0, 1, 2, 3)  # 7th digit
        while not self.cpr or self.cpr in self.cprs:  # at first, the previous member's
            self.cpr = f"{birth:%d%m%y}{rng.choice(century)}{rng.randint(0, 999):03d}"
        self.cprs.add(self.cpr)
        home = self.trial_municipality() if self.chance(0.8) else rng.choice(self.others)
        insurance = "full_time" if self.chance(0.85) else "part_time"
        vocational = self.chance(0.5 if age < 25 else 0.75)
        children = self.chance(0.15 if age < 25 else 0.45)
        education_order = age < 25 and not vocational and not children  # R3
        in_trial = home in TRIAL_MUNICIPALITIES and not education_order
        adviser, adviser_now = rng.choice(ADVISERS), self.chance(0.7)

        signed = start - relativedelta(months=rng.randint(1, 3)) - self.days(0, 10)
        if home in TRIAL_MUNICIPALITIES and self.chance(0.10) and signed >= self.first:  # R2
            self.emit(
                "notice_signup",
                signed_up_on=signed,
                employment_ends_on=start - ONE,  # registers the day after the job ends
                municipality_code=home,
            )
        self.emit(
            "unemployed",
            registered_on=start,
            insurance=insurance,
            municipality_code=home,
            birth_date=birth,
            vocational_education=vocational,
            has_children=children,
            **({"adviser": adviser} if adviser_now else {}),
        )

        leave, leave_type, r = self.end, "", rng.random()  # off the a-kasse's books
        if r < 0.31:
            leave = start + (self.days(20, 150) if r < 0.01 else self.days(14, 240))
            leave_type = "akasse_changed" if r < 0.01 else "deregistered"
        moved, move_to = start + self.days(10, 240), 0
        if self.chance(0.05):
            if home in TRIAL_MUNICIPALITIES and self.chance(0.5):
                move_to = self.trial_municipality(other_than=home)
            elif home not in TRIAL_MUNICIPALITIES and self.chance(0.25):
                move_to = self.trial_municipality()
            else:
                move_to = rng.choice([c for c in self.others if c != home])
        moves_out = in_trial and move_to != 0 and move_to not in TRIAL_MUNICIPALITIES  # R9
        stop = min(leave, moved if moves_out else self.end)  # no trial activity from this day

        sick: tuple[date, date] | None = None
        if in_trial:
            cv = _workday(self.plan("cv_and_job"), start)
            cv_held, opted = self.chance(0.93), self.end
            if self.chance(0.03):  # R11: mostly agreed at the cv_and_job meeting
                opted = cv if cv_held and self.chance(0.8) else cv + self.days(7, 25)
                opted = opted if opted < stop else self.end
            stop = min(stop, opted + ONE)
            if self.chance(0.02) and (approved := self.less_intensive(age, stop)):
                stop = approved[0]  # R18: no meetings from the request on
                if approved[1] < leave:  # the job (barsel, pension) starts
                    leave, leave_type = approved[1], "deregistered"
            latest = min(stop - ONE, start + 55 * ONE)  # before any hours threshold (R8)
            if self.chance(0.10) and (sick_from := self.between(start + ONE, latest)):
                sick = (sick_from, sick_from + self.days(1, 9))
                late = self.days(1, 4) if self.chance(0.25) else timedelta()
                reported = sick_from + late
                self.emit("sickness_reported", reported, sick_from=sick_from, reported_on=reported)
        if not adviser_now and (assigned := start + self.days(1, 7)) < leave:
            self.emit("adviser_assigned", adviser=adviser, assigned_on=assigned)
        if move_to and moved < leave:  # the address registry tells a few days later
            told = moved + self.days(0, 3)
            self.emit("moved", told, municipality_code=move_to, moved_on=moved)

        hours_end = self.payments(leave, insurance, sick)
        if in_trial:
            stop = min(stop, hours_end + ONE)
            if cv < stop and self.chance(0.7):  # R6: before cv_and_job, voluntary
                result = rng.choices(("short", "long", "declined"), (45, 35, 20))[0]
                self.emit("profile_assessed", assessed_on=self.between(start, cv), result=result)
            self.meetings(cv, cv_held, stop)
            if opted < stop:  # not overtaken by an approved less-intensive request
                self.emit("opted_out", decided_on=opted, note=rng.choice(OPT_OUT_NOTES))
            if self.chance(0.25):
                self.holiday(stop)
            if self.chance(0.03) and (on := self.between(start + 14 * ONE, stop - ONE)):
                about = "ordinary_job" if self.chance(0.7) else "activation_offer"
                note = rng.choice(CONTACT_NOTES[about])
                self.emit("jobcenter_contact", on=on, about=about, note=note)
        if leave_type:
            field = "deregistered_on" if leave_type == "deregistered" else "changed_on"
            self.emit(leave_type, **{field: leave})

    def plan(self, kind: str) -> date:
        lo, hi, late = MEETINGS[kind]
        return self.start + (self.days(hi + 1, late) if self.chance(0.10) else self.days(lo, hi))

    def less_intensive(self, age: int, stop: date) -> tuple[date, date] | None:
        """R18: a request; its request and start days when it will be approved."""
        requested = self.between(self.start + 7 * ONE, min(stop - ONE, self.start + 55 * ONE))
        if requested is None:
            return None
        reason = "folkepension" if age >= 65 else "efterloen" if age >= 60 else "job"
        reason = "barsel" if age < 45 and self.chance(0.25) else reason
        r = self.rng.random()  # below 0.75 approved, then too early, then undocumented
        starts = requested + (self.days(50, 120) if 0.75 <= r < 0.9 else self.days(7, 42))
        fields: Message = {"requested_on": requested, "reason": reason, "starts_on": starts}
        self.emit("less_intensive_requested", **fields, documented=r < 0.9)
        return (requested, starts) if r < 0.75 else None

    def payments(self, leave: date, insurance: str, sick: tuple[date, date] | None) -> date:
        """R8: hours paid each month until the member leaves; the day the trial ends by hours."""
        full, rows = FULL_MONTH[insurance], []
        month = self.start.replace(day=1)
        while month < leave:
            days_in = monthrange(month.year, month.month)[1]
            month_end = month.replace(day=days_in)
            first, last = max(self.start, month), min(leave - ONE, month_end)
            days = (last - first).days + 1  # pro rata by days, less sick days
            days -= max(0, (min(last, sick[1]) - max(first, sick[0])).days + 1) if sick else 0
            worked = self.rng.uniform(8, 0.7 * full) if self.chance(0.12) else 0.0
            if (hours := round(min(full * days / days_in - worked, full), 2)) > 0:
                rows.append((month_end, hours))
            month = month_end + ONE
        arrives = [month_end + self.days(2, 6) for month_end, _ in rows]
        for i in range(len(rows) - 2, -1, -1):  # a later month arrives before an earlier one
            if self.chance(0.05):
                arrives[i] = arrives[i + 1] + self.days(1, 3)
        total, ends = 0.0, self.end
        for (month_end, hours), at in zip(rows, arrives, strict=True):
            pid, month_text = f"UDB-{month_end:%Y%m}-{self.no:05d}", f"{month_end:%Y-%m}"
            self.emit("hours_paid", at, payment_id=pid, month=month_text, hours=hours)
            total += hours
            ends = month_end if ends == self.end and total >= THRESHOLD[insurance] else ends
        return ends

    def meetings(self, cv: date, cv_held: bool, stop: date) -> None:
        """R4, R5, R7: bookings and meetings held before `stop`; some late, some missed."""
        held: list[date] = []
        for kind in MEETINGS:
            if kind == "cv_and_job":  # booked at registration
                day, kept = cv, cv_held
                booked = self.start + self.days(0, min(2, (cv - self.start).days))
            else:
                day = _workday(self.plan(kind), self.start)
                booked, kept = max(self.start, day - self.days(3, 14)), self.chance(0.92)
            if day < stop:
                self.emit("meeting_booked", booked, kind=kind, on=day)
                if kept:
                    self.emit("meeting_held", kind=kind, held_on=day)
                    held.append(day)
        if not held or held[0] != cv or not self.chance(0.10):
            return
        self.emit("extra_meetings_agreed", agreed_on=cv)
        latest = cv
        while True:  # R5: an extra job meeting about every 14 days after the latest one
            day = _workday(latest + self.days(10, 14), latest + ONE)
            if later := [d for d in held if latest < d <= day]:
                latest = later[-1]
            elif day >= stop or day > self.last:
                return
            else:
                self.emit("meeting_booked", latest, kind="extra_job", on=day)
                self.emit("meeting_held", kind="extra_job", held_on=day)
                latest = day

    def holiday(self, stop: date) -> None:
        """R14: mostly on time via jobnet; some short notice via jobnet, message or phone."""
        requested = self.between(self.start + ONE, min(stop, self.end) - ONE)
        r = self.rng.random()
        channel = "jobnet" if r < 0.82 else self.rng.choice(("message", "phone"))
        notice = self.rng.randint(14, 60) if r < 0.7 else self.rng.randint(1, 13)
        if requested is None or (last := requested + self.days(notice, notice + 14)) > self.last:
            return
        request_id, first = f"ferie-{self.no:05d}", requested + notice * ONE
        fields: Message = {"request_id": request_id, "requested_on": requested}
        self.emit("holiday_requested", **fields, first_day=first, last_day=last, channel=channel)
        if channel != "jobnet" and self.chance(0.7):
            decided = requested + self.days(0, min(3, notice - 1))
            approved = self.chance(0.85)
            self.emit(
                "holiday_decided", request_id=request_id, decided_on=decided, approved=approved
            )


def _spoil(rng: random.Random, msg: Message, kind: str, year: int) -> Message:
    """A bad variant of a good message; a `repeat` is the very same message again."""
    if kind == "repeat":
        return msg
    bad = dict(msg)
    if kind == "unknown_type":
        bad["type"] = rng.choice((f"{msg['type']}_v2", "member_deceased", "address_protected"))
    elif kind == "missing_field":
        del bad[rng.choice([k for k in bad if k not in ("message_id", "adviser")])]
    elif kind == "invalid_cpr":  # a birth date that does not exist, e.g. 310221
        bad["cpr"] = rng.choice(BAD_CPR_DAYS) + str(msg["cpr"])[4:]
    elif kind == "unknown_municipality":
        bad["municipality_code"] = rng.choice(NOT_MUNICIPALITIES)
    elif kind == "hours_above_max":
        bad["hours"] = rng.choice((round(rng.uniform(160.34, 240.0), 2), 1603.3, 173.0))
    elif kind == "invalid_date":
        dated = [k for k, v in bad.items() if isinstance(v, str) and _ISO_DATE.fullmatch(v)]
        field = rng.choice(dated)
        bad[field] = f"{year}-{rng.choice(BAD_DAYS + (() if isleap(year) else ('02-29',)))}"
    return bad


def _with_bad(rng: random.Random, good: list[Message], year: int) -> Labelled:
    """About BAD_SHARE bad messages, every kind at least once, each a little after its source."""
    count = max(len(BAD_KINDS), round(len(good) * BAD_SHARE)) if good else 0
    kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    pools: dict[str, Sequence[int]] = {
        "hours_above_max": [i for i, m in enumerate(good) if m["type"] == "hours_paid"],
        "unknown_municipality": [i for i, m in enumerate(good) if "municipality_code" in m],
        "invalid_date": [i for i, m in enumerate(good) if m["type"] != "hours_paid"],
    }
    after: dict[int, Labelled] = {}
    for kind in kinds:
        if pool := pools.get(kind, range(len(good))):
            source = rng.choice(pool)
            where = min(len(good) - 1, source + rng.randint(0, 40))
            after.setdefault(where, []).append((_spoil(rng, good[source], kind, year), kind))
    labelled: Labelled = []
    for i, msg in enumerate(good):
        labelled += [(msg, None), *after.get(i, [])]
    return labelled


def generate_labelled(*, seed: int = 2021, members: int = 3000, year: int = 2021) -> Labelled:
    """generate_year's messages, each with its bad kind (one of BAD_KINDS) or None when good."""
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
    """A year of inbound messages for `members` members in arrival order, ~0.5% of them bad."""
    return [msg for msg, _ in generate_labelled(seed=seed, members=members, year=year)]


def generate_lines(*, seed: int = 2021, members: int = 3000, year: int = 2021) -> list[str]:
    """generate_year as JSON lines, with one or two lines that are not JSON at all."""
    messages = generate_year(seed=seed, members=members, year=year)
    lines = [json.dumps(msg, ensure_ascii=False) for msg in messages]
    rng = random.Random(f"not-json:{seed}")
    for text in NOT_JSON[: rng.randint(1, 2)]:
        lines.insert(rng.randint(0, len(lines)), text)
    return lines


def write_jsonl(messages: Iterable[Message | str], path: str | Path) -> int:
    """Writes one JSON object per line (a str is written as it is), UTF-8; returns the count."""
    lines = [m if isinstance(m, str) else json.dumps(m, ensure_ascii=False) for m in messages]
    Path(path).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="the JSON-lines file to write")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args(argv)
    count = write_jsonl(
        generate_lines(seed=args.seed, members=args.members, year=args.year), args.path
    )
    print(f"wrote {count} lines to {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
