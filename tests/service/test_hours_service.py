"""R8 through the case service (the Desk fake): end to end, message in, case out;
the rule functions themselves are tested in tests/unit/test_rules_hours.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import Rejected
from domain.messages import InvalidMessage
from domain.params import Settings
from tests.fakes import Desk, hours_paid, msg, notice_signup, unemployed

D = date.fromisoformat


FULL = "160.33"


FROZEN_2021 = frozenset(D(f"2021-{m:02d}-01") for m in range(1, 7))  # 2021-01 .. 2021-06


def _notice_then_hours(hours: str) -> Desk:
    desk = Desk()
    desk.send(notice_signup("2021-02-01", "2021-02-28"))
    desk.send(hours_paid("2021-03", hours))
    desk.send(unemployed("2021-03-01", insurance="part_time"))
    return desk


def test_r8_frozen_months_through_the_service_settings() -> None:
    # R8: Settings(frozen_months=2021-01..2021-06); S = 2020-12-01 (Aarhus).
    # Paid Dec 2020, Jan, Feb 2021: with the freeze only Dec counts -> no exit, and the
    # view's hours_paid is 160.33; the forecast skips the frozen months: Dec 160.33,
    # Jul 320.66, Aug 480.99 -> expected 2021-08-31
    desk = Desk(Settings(frozen_months=FROZEN_2021))
    desk.send(unemployed("2020-12-01"))
    desk.send_all(hours_paid(m, FULL) for m in ("2020-12", "2021-01", "2021-02"))
    assert desk.case().exit is None
    view = desk.view("2021-03-01")
    assert view.hours_paid == Decimal(FULL)
    assert view.expected_end == D("2021-08-31")


def test_r8_full_time_payment_above_160_33_is_refused_by_the_contract() -> None:
    # R8 / contract: hours 160.34 for 2021-03 is rejected when the message is parsed
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    with pytest.raises(InvalidMessage) as invalid:
        desk.send(hours_paid("2021-03", "160.34"))
    assert invalid.value.field == "hours"


def test_r8_payments_that_pass_the_monthly_max_together_are_refused() -> None:
    # R8: S = 2021-03-01, full-time: 2021-03 100.00 accepted, then 2021-03 60.34 refused
    # (160.34 > 160.33); the refused payment leaves the case as it was
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(hours_paid("2021-03", "100.00"))
    with pytest.raises(Rejected) as refused:
        desk.send(hours_paid("2021-03", "60.34"))
    assert refused.value.field == "hours"
    assert desk.view("2021-03-31").hours_paid == Decimal("100.00")


def test_r8_part_time_payment_above_130_is_refused() -> None:
    # R8 part-time: S = 2021-03-01; 2021-03 130.01 hours -> Rejected; 130.00 accepted
    desk = Desk()
    desk.send(unemployed("2021-03-01", insurance="part_time"))
    with pytest.raises(Rejected, match=r"130\.00"):
        desk.send(hours_paid("2021-03", "130.01"))
    desk.send(hours_paid("2021-03", "130.00"))
    assert desk.view("2021-03-31").hours_paid == Decimal("130.00")


def test_r8_a_repeated_payment_id_is_refused() -> None:
    # R8: payment "pay-7" for 2021-03 accepted; the same payment_id for 2021-04 is refused
    desk = Desk()
    desk.send(unemployed("2021-03-01"))
    desk.send(hours_paid("2021-03", "50", payment_id="pay-7"))
    with pytest.raises(Rejected) as refused:
        desk.send(hours_paid("2021-04", "50", payment_id="pay-7"))
    assert refused.value.field == "payment_id"


def test_r8_s_month_accepts_a_full_month_although_s_is_mid_month() -> None:
    # R8: S = 2021-01-15; hours for Jan 2021 are accepted up to the full 160.33 (the 87.92
    # pro-rata share is only the forecast's)
    desk = Desk()
    desk.send(unemployed("2021-01-15"))
    desk.send(hours_paid("2021-01", FULL))
    assert desk.view("2021-01-31").hours_paid == Decimal(FULL)


def test_r8_forecast_never_ends_the_trial_even_when_its_date_has_passed() -> None:
    # R8: S = 2021-01-15, no hours paid: expected_end 2021-04-30; as of 2021-06-01 the
    # case is still in the trial, with no exit and the (passed) forecast shown
    desk = Desk()
    desk.send(unemployed("2021-01-15"))
    view = desk.view("2021-06-01")
    assert view.status == "in_trial"
    assert view.exit is None
    assert view.expected_end == D("2021-04-30")
    assert view.as_dict("c", None)["expected_end"] == {"on": "2021-04-30", "rule": "R8"}
    assert desk.case().exit is None
    assert desk.handovers() == []


def test_r8_no_forecast_once_an_exit_is_known() -> None:
    # R8: S = 2021-01-15, opted out 2021-02-01 (R11): no expected_end any more
    desk = Desk()
    desk.send(unemployed("2021-01-15"))
    desk.send(msg("opted_out", decided_on="2021-02-01", note="health"))
    assert desk.view("2021-02-01").expected_end is None
    # as of a day before the opt-out the forecast is still shown
    assert desk.view("2021-01-20").expected_end == D("2021-04-30")


def test_r8_exit_known_when_paid_is_published_before_the_month_ends() -> None:
    # R8: S = 2021-01-04; Jan 160.33, Feb 160.33, Mar 89.34 (paid early, effective
    # 2021-03-01) -> exit 2021-03-31, handover published now; in_trial as of 2021-03-15
    # (exit known but ahead), ended as of 2021-03-31
    desk = Desk()
    desk.send(unemployed("2021-01-04"))
    desk.send_all([hours_paid("2021-01", FULL), hours_paid("2021-02", FULL)])
    assert desk.case().exit is None
    desk.send(hours_paid("2021-03", "89.34"))
    case = desk.case()
    assert case.exit is not None
    assert (case.exit.reason, case.exit.on, case.exit.rule) == (
        "hours_threshold",
        D("2021-03-31"),
        "R8",
    )
    [handover] = case.handovers
    assert handover["content"]["effective_on"] == "2021-03-31"
    mid = desk.view("2021-03-15")
    assert mid.status == "in_trial"
    assert mid.exit is not None and mid.exit.on == D("2021-03-31")
    assert mid.expected_end is None
    assert desk.view("2021-03-31").status == "ended"
    # as of 2021-02-28 the March payment is not yet effective: no exit, a forecast instead
    feb = desk.view("2021-02-28")
    assert feb.exit is None
    assert feb.hours_paid == Decimal("320.66")
    assert feb.expected_end == D("2021-03-31")


def test_r8_r13_out_of_order_payment_moves_the_exit_earlier() -> None:
    # R8 + R13: S = 2021-01-04. Paid first: Apr 160.33, Mar 160.33, Feb 100.00 ->
    # calendar sum Feb 100, Mar 260.33, Apr 420.66 -> exit 2021-04-30 (handover:1).
    # Then Jan 160.33 arrives: Jan 160.33, Feb 260.33, Mar 420.66 -> exit 2021-03-31,
    # handover_revised (handover:2) replacing handover:1
    desk = Desk()
    desk.send(unemployed("2021-01-04"))
    desk.send_all(
        [hours_paid("2021-04", FULL), hours_paid("2021-03", FULL), hours_paid("2021-02", "100")]
    )
    case = desk.case()
    assert case.exit is not None and case.exit.on == D("2021-04-30")
    desk.send(hours_paid("2021-01", FULL))
    assert case.exit is not None and case.exit.on == D("2021-03-31")
    first, second = case.handovers
    assert (first["type"], first["content"]["effective_on"]) == ("handover", "2021-04-30")
    assert second["type"] == "handover_revised"
    assert second["replaces"] == first["message_id"]
    assert second["content"]["effective_on"] == "2021-03-31"
    assert case.live_handover == second


def test_r8_hours_before_the_case_are_kept_and_those_from_s_month_taken_over() -> None:
    # R8: hours for 2021-02 and 2021-03 arrive before the member registers on S = 2021-03-15:
    # both are kept in the member's record; at registration 2021-03 (S's month) is taken over,
    # 2021-02 (before S's month) is not
    desk = Desk()
    desk.send_all([hours_paid("2021-02", FULL), hours_paid("2021-03", "120.00")])
    assert desk.cases() == []
    assert len(desk.member().kept) == 2
    desk.send(unemployed("2021-03-15"))
    view = desk.view("2021-03-31")
    assert view.hours_paid == Decimal("120.00")
    kept = {k["message"]["month"]: k["applied_to"] for k in desk.member().kept}
    assert kept == {"2021-02": None, "2021-03": desk.case().id}


def test_r8_hours_for_a_month_before_s_after_registration_do_not_count() -> None:
    # R8: S = 2021-03-15; hours for 2021-02 arriving after registration find no case
    # (its opening month is 2021-03) -> kept in the member's record, not counted
    desk = Desk()
    desk.send(unemployed("2021-03-15"))
    desk.send(hours_paid("2021-02", FULL))
    assert desk.case().facts.payments == ()
    assert len(desk.member().kept) == 1


def test_r8_part_time_through_the_service() -> None:
    # R8 part-time: S = 2021-01-04; 130 + 130 + 73 = 333.00 -> exit 2021-03-31
    desk = Desk()
    desk.send(unemployed("2021-01-04", insurance="part_time"))
    desk.send_all(
        [hours_paid("2021-01", "130"), hours_paid("2021-02", "130"), hours_paid("2021-03", "73")]
    )
    case = desk.case()
    assert case.exit is not None
    assert (case.exit.reason, case.exit.on) == ("hours_threshold", D("2021-03-31"))


def test_r8_r2_hours_paid_in_the_notice_period_wait_for_the_insurance() -> None:
    # R2 + R8: notice sign-up 2021-02-01 (Aarhus); hours_paid 2021-03 150.00 arrives in the
    # notice period: kept in the member's record; registered part-time on S = 2021-03-01:
    # 150.00 is above the part-time 130.00 maximum, so it is not taken over and stays kept.
    # With 130.00 (2021-04) + 53.00 (2021-05) = 183.00 the case does not end.
    desk = _notice_then_hours("150.00")
    assert desk.case().facts.payments == ()
    assert [k["applied_to"] for k in desk.member().kept] == [None]
    desk.send_all([hours_paid("2021-04", "130.00"), hours_paid("2021-05", "53.00")])
    assert desk.view("2021-05-31").hours_paid == Decimal("183.00")
    assert desk.case().exit is None


def test_r8_r2_notice_period_hours_within_the_part_time_max_are_taken_over() -> None:
    # R2 + R8: the same with 120.00 for 2021-03: taken over at registration; then
    # 130.00 (2021-04) + 83.00 (2021-05) -> 333.00 -> exit 2021-05-31
    desk = _notice_then_hours("120.00")
    assert [p.hours for p in desk.case().facts.payments] == [Decimal("120.00")]
    assert [k["applied_to"] for k in desk.member().kept] == [desk.case().id]
    desk.send_all([hours_paid("2021-04", "130.00"), hours_paid("2021-05", "83.00")])
    exit_ = desk.case().exit
    assert exit_ is not None and (exit_.reason, exit_.on) == ("hours_threshold", D("2021-05-31"))
