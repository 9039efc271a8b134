"""Text for people of the operator's commands: ingest, dead letters, access log, audit, tick,
projections, migrate and erase."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.text import NOTHING, cell, moment, phrase, short_case, source, table, words, wrap


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def ingest_text(report: dict[str, Any]) -> str:
    """The counts, then each rejected line: its number, message id (if it had one) and why."""
    rejected = report["rejected"]
    lines = [
        f"{report['accepted']} accepted, {_count(report['duplicates'], 'duplicate')}, "
        f"{len(rejected)} rejected"
    ]
    for r in rejected:
        message = f" ({r['message_id']})" if r.get("message_id") is not None else ""
        lines += wrap(f"line {r['line']}{message}: {r['error']}", 4, first="  ")
    return "\n".join(lines)


def dead_letters_text(rows: Sequence[dict[str, Any]]) -> str:
    """A row per dead letter, why it was rejected below it."""
    header = ["id", "status", "seen", "last seen", "message", "from"]
    cells = [
        [
            str(r["id"]),
            words(r["status"]),
            f"{r['count']}x",
            moment(r["last_seen"]),
            cell(r["message_id"]),
            source({**(r.get("source") or {}), "message_id": None}),
        ]
        for r in rows
    ]
    notes = [str(r["error"]) for r in rows]
    return table(header, cells, right=(0, 2), notes=notes, empty="no dead letters")


def retry_text(outcome: dict[str, Any]) -> str:
    def ids(found: Sequence[int]) -> str:
        return f" ({', '.join(str(i) for i in found)})" if found else ""

    resolved, still = outcome["resolved"], outcome["still_rejected"]
    return f"{len(resolved)} resolved{ids(resolved)}, {len(still)} still rejected{ids(still)}"


def access_log_text(entries: Sequence[dict[str, Any]]) -> str:
    """A row per read of personal data; its parameters below it."""
    header = ["entry", "read at", "reader", "role", "what", "rows", "members"]
    cells = [
        [
            str(e["entry_id"]),
            moment(e["read_at"]),
            cell(e["reader"]),
            cell(e["role"]),
            cell(e["what"]),
            cell(e["rows"]),
            str(len(e["member_ids"])),
        ]
        for e in entries
    ]
    notes = [
        f"{cell(e.get('source'))}: {phrase(e['parameters'])}" if e.get("parameters") else None
        for e in entries
    ]
    return table(header, cells, right=(0, 5, 6), notes=notes, empty="no reads recorded")


def audit_text(report: dict[str, Any]) -> str:
    breaks = report["breaks"]
    head = f"{report['events_checked']} events checked, " + (
        _count(len(breaks), "broken chain") if breaks else "no broken chains"
    )
    lines = [head]
    for b in breaks:
        lines += wrap(
            f"case {short_case(b['aggregate_id'])} version {b['version']}: {b['problem']}",
            4,
            first="  ",
        )
    registry = report.get("registry_breaks", [])
    lines.append(
        f"{_count(report.get('members_checked', 0), 'registry row')} checked, "
        + (_count(len(registry), "not bound to its member") if registry else "all bound")
    )
    for r in registry:
        lines += wrap(f"member {short_case(r['member_id'])}: {r['problem']}", 4, first="  ")
    feed = report.get("feed_breaks", [])
    lines.append(
        f"{_count(report.get('feed_rows_checked', 0), 'handover feed row')} checked, "
        + (_count(len(feed), "not as its events make it") if feed else "as their events make them")
    )
    for f in feed:
        lines += wrap(
            f"position {f['position']} ({f['message_id']}): {f['problem']}", 4, first="  "
        )
    entries = report.get("access_log_breaks", [])
    checked = report.get("access_log_checked", 0)
    lines.append(
        f"{_count(checked, 'access log entry', 'access log entries')} checked, "
        + (_count(len(entries), "break") if entries else "the chain holds to its sealed head")
    )
    for e in entries:
        lines += wrap(f"entry {e['entry_id']}: {e['problem']}", 4, first="  ")
    return "\n".join(lines)


def audit_failed(report: dict[str, Any]) -> bool:
    """Whether `audit verify` found anything (its exit code 1)."""
    return any(report[k] for k in report if k.endswith("breaks"))


def tick_text(report: dict[str, Any]) -> str:
    return (
        f"{_count(report['exits'], 'exit')}, {_count(report['handovers'], 'handover')}, "
        f"{report.get('given_up', 0)} parked messages given up"
    )


def rebuilt_text(applied: dict[str, int]) -> str:
    done = [f"{name} ({_count(count, 'event')} applied)" for name, count in applied.items()]
    return "rebuilt " + (" and ".join(done) if done else "nothing")


def projections_text(rows: Sequence[dict[str, Any]]) -> str:
    cells = [
        [
            cell(r["name"]),
            "caught up" if r["caught_up"] else f"{_count(r['pending'], 'event')} to apply",
            str(r["position"]),
            str(r["head"]),
        ]
        for r in rows
    ]
    return table(["read model", "state", "position", "log head"], cells, right=(2, 3))


def migrate_check_text(report: dict[str, Any]) -> str:
    where = report["current"] or "none (before migrations)"
    if report["at_head"]:
        return f"the store's schema is {where}, this release's: up to date"
    text = (
        f"the store's schema is {where}, this release's is {report['head']}: run ledighed migrate"
    )
    return "\n".join(wrap(text, 2, first=""))


def migrated_text(report: dict[str, Any]) -> str:
    before = report["from"] or "none (before migrations)"
    if before == report["to"]:
        return f"the store's schema was {before} already; read models brought up to the log"
    return f"migrated the store's schema from {before} to {report['to']}"


def erase_text(erased: bool, cpr: str) -> str:
    if erased:
        return f"erased {cpr}: CPR and birth date removed, the member's keys deleted"
    return f"no member {cpr} in this store: nothing erased"


def written_text(path: str) -> str:
    return f"wrote {path}" if path else NOTHING


def keys_init_text(made: dict[str, Any]) -> str:
    if not made["made"]:
        return f"the key file {made['key_file']} is the store's already ({made['store']})"
    return (
        f"made the key file {made['key_file']} (mode 0600) for the store {made['store']}: back "
        "it up apart from the database and give every instance the same file "
        "(LEDIGHED_SECRETS_FILE)"
    )


def backup_text(written: dict[str, Any]) -> str:
    lines = [f"wrote {written['store']}"] if written["store"] else []
    lines.append(f"wrote {written['key_file']} (the store's keys: keep it apart from the copy)")
    if written["pg_dump"]:
        lines.append(f"the database itself: {written['pg_dump']}")
    return "\n".join(lines)
