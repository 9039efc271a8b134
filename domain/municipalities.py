"""Denmark's municipalities (kommunekoder) and the trial's seven (R1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

CHRISTIANSOE = 411
"""Christiansø has no municipality of its own but a code of its own, accepted as Danish."""


def _load() -> Mapping[int, str]:
    text = resources.files("domain").joinpath("kommuner.csv").read_text(encoding="utf-8")
    names = {int(row["kode"]): row["navn"] for row in csv.DictReader(io.StringIO(text))}
    names.setdefault(CHRISTIANSOE, "Christiansø")
    return MappingProxyType(names)


DANISH_MUNICIPALITIES: Mapping[int, str] = _load()
"""Every Danish municipality code (as an int, `0101` → 101) and its name."""

TRIAL_MUNICIPALITIES: frozenset[int] = frozenset({101, 147, 330, 751, 630, 607, 621})
"""R1: København, Frederiksberg, Slagelse, Aarhus, Vejle, Fredericia and Kolding."""


def is_danish(code: int) -> bool:
    """Whether `code` is a Danish municipality code (kommuner.csv, plus 411 Christiansø)."""
    return code in DANISH_MUNICIPALITIES


def is_trial(code: int) -> bool:
    """R1: whether `code` is one of the trial's seven municipalities."""
    return code in TRIAL_MUNICIPALITIES


def name(code: int) -> str:
    """The municipality's name; KeyError for a code that is not Danish."""
    try:
        return DANISH_MUNICIPALITIES[code]
    except KeyError:
        raise KeyError(f"{code} is not a Danish municipality code") from None
