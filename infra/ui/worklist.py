"""The worklist page's view: the application's rows filtered (task type, overdue only,
municipality), sorted and cut into pages of 50, with the counts of the whole filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PAGE_ROWS = 50
SORTS = {
    "due": lambda r: (r["due_by"], r["case_id"], r["task"]),
    "overdue": lambda r: (-r["days_overdue"], r["due_by"], r["case_id"], r["task"]),
    "adviser": lambda r: ((r["adviser"] or "").lower(), r["due_by"], r["case_id"], r["task"]),
    "municipality": lambda r: (
        r["municipality_code"] or 0,
        r["due_by"],
        r["case_id"],
        r["task"],
    ),
}
"""How rows sort: by due date (the application's order), days overdue (most first), adviser
or municipality (each then by due date)."""


def task_type(task: str) -> str:
    """`meeting:<kind>` (also to rebook), `holiday` or `sickness`: what the filter offers."""
    parts = task.split(":")
    return ":".join(parts[:2]) if parts[0] == "meeting" else parts[0]


@dataclass(frozen=True)
class Filter:
    """The worklist's filters as its URL has them (unknown values are left out)."""

    task: str = ""
    overdue: bool = False
    municipality: int | None = None
    sort: str = "due"
    page: int = 1

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filter:
        municipality = query.get("kommune", "").strip()
        page = query.get("side", "1").strip()
        sort = query.get("sorter", "due")
        return cls(
            task=query.get("opgave", "").strip(),
            overdue=query.get("overskredet", "") == "1",
            municipality=int(municipality) if municipality.isdigit() else None,
            sort=sort if sort in SORTS else "due",
            page=max(1, int(page)) if page.isdigit() and len(page) < 7 else 1,
        )

    def keeps(self, row: Mapping[str, Any]) -> bool:
        return (
            (not self.task or task_type(row["task"]) == self.task)
            and (not self.overdue or row["overdue"])
            and (self.municipality is None or row["municipality_code"] == self.municipality)
        )

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (defaults left out), for the page links."""
        query = {"opgave": self.task, "overskredet": "1" if self.overdue else ""}
        query["kommune"] = str(self.municipality) if self.municipality is not None else ""
        query["sorter"] = "" if self.sort == "due" else self.sort
        return {k: v for k, v in query.items() if v}


@dataclass(frozen=True)
class Shown:
    """One page of the filtered rows, with the counts of the whole filter and the choices
    the filter offers (from every row of the day, before filtering)."""

    rows: list[dict[str, Any]]
    members: list[Any]
    total: int
    overdue: int
    page: int
    pages: int
    task_types: list[str] = field(default_factory=list)
    municipalities: list[int] = field(default_factory=list)


def shown(rows: list[tuple[Any, dict[str, Any]]], chosen: Filter) -> Shown:
    kept = sorted(
        (pair for pair in rows if chosen.keeps(pair[1])), key=lambda p: SORTS[chosen.sort](p[1])
    )
    pages = max(1, -(-len(kept) // PAGE_ROWS))
    page = min(chosen.page, pages)
    cut = kept[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
    return Shown(
        rows=[r for _, r in cut],
        members=[m for m, _ in cut],
        total=len(kept),
        overdue=sum(1 for _, r in kept if r["overdue"]),
        page=page,
        pages=pages,
        task_types=sorted({task_type(r["task"]) for _, r in rows}),
        municipalities=sorted({r["municipality_code"] for _, r in rows if r["municipality_code"]}),
    )
