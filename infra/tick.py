"""The daily tick: the rules that fire by the calendar alone (R16), saved as events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.params import PROGRAMME_END, Settings
from domain.service import CaseService
from infra.store import Store


@dataclass
class TickReport:
    exits: int = 0
    handovers: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"exits": self.exits, "handovers": self.handovers}


def tick(store: Store, on: date, settings: Settings) -> TickReport:
    """R16: on or after 2023-12-31, every case still in the trial exits, effective 2023-12-31.

    Running it again changes nothing: a case that already ended is left as it is.
    """
    report = TickReport()
    if on < PROGRAMME_END:
        return report
    uow = store.unit_of_work()
    service = CaseService(uow, settings)
    source = {
        "message_id": f"tick:{on.isoformat()}",
        "topic": "tick",
        "partition": None,
        "offset": None,
    }
    try:
        for case_id in store.case_ids():
            case = uow.case(case_id)
            handovers_before = len(case.handovers)
            if service.end_programme(case, on, source):
                report.exits += 1
                report.handovers += len(case.handovers) - handovers_before
        uow.commit()
    except BaseException:
        # As in apply_batch: the unit of work changed the store's cached aggregates in place,
        # so a tick that fails (another instance saved one of the cases meanwhile, or the
        # database went away) must drop them, or the next batch builds on events that were
        # never saved and stores its own after a gap in the versions.
        store.forget()
        raise
    return report
