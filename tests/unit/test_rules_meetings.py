"""R4 meeting plan, R5 extra meetings, R20 working days and R18 waived meetings.

The rule functions, called directly with worked dates; the same rules through the
service are in tests/service/test_meetings_service.py."""

from __future__ import annotations

from datetime import date

from domain.facts import MeetingHeld
from domain.rules.meetings import extra_meetings, held_state, mandatory_window

D = date.fromisoformat


S = "2021-03-01"  # a Monday; S+14, S+42, S+49, S+63 and S+77 are all working days


def test_r4_held_state_is_pure_window_arithmetic() -> None:
    window = mandatory_window("cv_and_job", D(S))
    assert held_state(window, D("2021-02-28")) == "early"
    assert held_state(window, D("2021-03-10")) == "held"
    assert held_state(window, D("2021-03-16")) == "late"


def test_r5_extra_meetings_pure() -> None:
    # R5: agreed 2021-03-10, held cv 2021-03-08 and extra 2021-03-22
    held = [MeetingHeld("cv_and_job", D("2021-03-08")), MeetingHeld("extra_job", D("2021-03-22"))]
    done, open_window = extra_meetings(D("2021-03-10"), held)
    assert [(w.due_by, m.held_on) for w, m in done] == [(D("2021-03-24"), D("2021-03-22"))]
    assert open_window is not None
    assert (open_window.due_from, open_window.due_by) == (D("2021-03-23"), D("2021-03-31"))
    # without an agreement: extra meetings actually held are listed, none is open
    done, open_window = extra_meetings(None, held)
    assert open_window is None and len(done) == 1
