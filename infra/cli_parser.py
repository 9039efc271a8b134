"""The `ledighed` command line's grammar: every command, its options and their types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from importlib import metadata
from typing import Any
from uuid import UUID

from domain import outbound
from domain.cpr import normalize_cpr
from domain.messages import contract_json_schema
from infra.application import DEAD_LETTER_STATUSES, PROJECTIONS
from infra.clock import parse_day, parse_moment, parse_since

SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "inbound": contract_json_schema,
    "handover": lambda: outbound.schema(outbound.HandoverMessage),
    "case": lambda: outbound.schema(outbound.CaseObject),
    "worklist-item": lambda: outbound.schema(outbound.WorklistItem),
    "history-item": lambda: outbound.schema(outbound.HistoryItem),
}


def _version() -> str:
    """The installed package's version (importlib.metadata), as pip and the image know it."""
    try:
        return metadata.version("ledighed")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _since(text: str) -> datetime:
    try:
        return parse_since(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cpr(text: str) -> str:
    try:
        return normalize_cpr(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@cache  # built once: tests and tools call main() many times in one process
def build_parser() -> argparse.ArgumentParser:
    store_only = argparse.ArgumentParser(add_help=False)  # commands with no JSON to give
    store_only.add_argument(
        "--db", help="store URL (default $LEDIGHED_DB_URL or sqlite:///ledighed.db)"
    )
    common = argparse.ArgumentParser(add_help=False, parents=[store_only])
    common.add_argument("--json", action="store_true", help="one JSON document on stdout")
    reads = argparse.ArgumentParser(add_help=False)
    reads.add_argument(
        "--as-of", type=_day, help="YYYY-MM-DD: the day to judge the state on (default today)"
    )
    reads.add_argument(
        "--known-at",
        type=_moment,
        help="only what had been recorded by then: YYYY-MM-DDTHH:MM[:SS][+zone] or a day "
        "(its end); Europe/Copenhagen unless a zone is given",
    )

    parser = argparse.ArgumentParser(
        prog="ledighed", description="Case engine of the a-kasse contact-course trial."
    )
    parser.add_argument("--version", action="version", version=f"ledighed {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser = commands.add_parser

    def described(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """A subcommand whose --help opens with the line the command list shows."""
        return add_parser(name, description=kwargs.get("help"), **kwargs)

    commands.add_parser = described  # type: ignore[method-assign]

    p = commands.add_parser("ingest", parents=[common], help="apply a JSON-lines file of messages")
    p.add_argument("file", help="JSON-lines file, or - for standard input")
    p.add_argument("--batch-size", type=int, help="messages per transaction (default 2000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = commands.add_parser("case", parents=[common, reads], help="the member's latest case")
    p.add_argument(
        "cpr", nargs="?", type=_cpr, help="the member's CPR number, DDMMYYSSSS or DDMMYY-SSSS"
    )
    p.add_argument("--member-id", type=UUID, help="the member by its opaque id (erased too)")
    p.add_argument("--all", action="store_true", help="every case of the member, oldest first")

    p = commands.add_parser("history", parents=[common, reads], help="the member's audit trail")
    p.add_argument(
        "cpr", nargs="?", type=_cpr, help="the member's CPR number, DDMMYYSSSS or DDMMYY-SSSS"
    )
    p.add_argument("--member-id", type=UUID, help="the member by its opaque id (erased too)")

    p = commands.add_parser(
        "worklist", parents=[common, reads], help="open tasks, oldest due first"
    )
    p.add_argument("--adviser", help="only this adviser's cases")

    commands.add_parser("handovers", parents=[common, reads], help="the handover feed")

    p = commands.add_parser(
        "timeline", parents=[store_only, reads], help="a picture of the member's latest case (SVG)"
    )
    p.add_argument("cpr", type=_cpr, help="the member's CPR number, DDMMYYSSSS or DDMMYY-SSSS")
    p.add_argument("--svg", required=True, metavar="FILE", help="where to write it; - for stdout")

    p = commands.add_parser(
        "explain",
        parents=[common, reads],
        help="every derived fact of the member's latest case, its rule and its events",
    )
    p.add_argument("cpr", type=_cpr, help="the member's CPR number, DDMMYYSSSS or DDMMYY-SSSS")

    p = commands.add_parser(
        "access-log",
        parents=[common],
        help="every recorded read of personal data over HTTP: who, when, what, which members",
    )
    p.add_argument("--cpr", type=_cpr, help="only reads that showed this member")
    p.add_argument("--reader", help="only this reader's reads (the token's name)")
    p.add_argument("--since", type=_since, help="from this moment (a day alone: its start)")
    p.add_argument("--until", type=_moment, help="to this moment (a day alone: its end)")
    p.add_argument("--after", type=int, default=0, help="entries after this entry_id")
    p.add_argument("--limit", type=_positive, default=1000, help="at most (default 1000)")

    p = commands.add_parser("audit", help="tamper evidence of the stored events")
    audit = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit.add_parser(
        "verify", parents=[common], help="check every case's hash chain; exit 1 on a break"
    )

    p = commands.add_parser(
        "run", parents=[common], help="the service: consumers, projections, publisher, tick"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--kafka", help="HOST:PORT of the cluster (default $LEDIGHED_KAFKA_BOOTSTRAP)"
    )
    where.add_argument(
        "--local-broker",
        action="store_true",
        help="start a development broker on this machine (its topics in memory) and use it",
    )
    p.add_argument("--http", type=int, metavar="PORT", help="also serve the HTTP API on PORT")
    p.add_argument("--host", default="127.0.0.1", help="the HTTP API's address (127.0.0.1)")

    p = commands.add_parser("serve", parents=[common], help="the HTTP API (README: HTTP API)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")

    p = commands.add_parser("tick", parents=[common], help="apply the calendar's rules (R16)")
    p.add_argument("--on", type=_day, help="the day to tick for (default today)")
    p.add_argument(
        "--yes",
        action="store_true",
        help="tick for today even when the store's latest message is over a year older",
    )

    p = commands.add_parser("projections", help="the read models built from the event log")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "rebuild", parents=[common], help="drop a read model and rebuild it from the log"
    )
    p.add_argument("name", nargs="?", choices=PROJECTIONS, help="default: all of them")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    actions.add_parser("status", parents=[common], help="each read model's position in the log")

    p = commands.add_parser(
        "migrate",
        parents=[common],
        help="bring a store written by an earlier release up to this release's schema",
    )
    p.add_argument(
        "--check", action="store_true", help="only say where the store stands; exit 1 if behind"
    )

    p = commands.add_parser("keys", help="the store's key file (README: Keys and backups)")
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys.add_parser(
        "init",
        parents=[common],
        help="make the key file of a store that has none (PostgreSQL: once, before any instance)",
    )

    p = commands.add_parser(
        "backup",
        parents=[common],
        help="a consistent copy of a SQLite store and its key file (PostgreSQL: the key file)",
    )
    p.add_argument(
        "dest", metavar="DEST", help="the copy's file (its key file goes to DEST.secrets.json)"
    )

    p = commands.add_parser("schema", help="the JSON Schema of a message of the contract")
    p.add_argument("name", nargs="?", default="inbound", choices=sorted(SCHEMAS))

    p = commands.add_parser(
        "dead-letters",
        parents=[common],
        help="rejected messages: list them, show one as it came, apply them again",
    )
    p.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=("list", "show", "retry"),
        help="list (default), show ID (the raw message), retry ID or retry --all",
    )
    p.add_argument("id", nargs="?", type=_positive, help="the dead letter's id (see the list)")
    p.add_argument("--status", default="open", choices=DEAD_LETTER_STATUSES)
    p.add_argument("--topic", help="only those from this topic (or file name)")
    p.add_argument("--day", type=_day, help="only those last seen on this day (UTC)")
    p.add_argument("--all", action="store_true", help="retry: every open dead letter")

    p = commands.add_parser(
        "erase", parents=[common], help="erase a member's CPR and birth date from the registry"
    )
    p.add_argument("cpr", type=_cpr, help="the member's CPR number, DDMMYYSSSS or DDMMYY-SSSS")

    p = commands.add_parser(
        "demo", help="generate a year of messages and run it through the service"
    )
    p.add_argument(
        "--db",
        help="store URL (default sqlite:///DIR/ledighed.db, made anew; $LEDIGHED_DB_URL is not "
        "used)",
    )
    p.add_argument(
        "--members", type=_positive, default=3000, help="how many members (default 3000)"
    )
    p.add_argument("--seed", type=int, default=2021, help="the generator's seed (default 2021)")
    p.add_argument("--dir", default="demo", help="where the demo's files go (default ./demo)")
    p.add_argument(
        "--no-kafka", action="store_true", help="ingest the file instead of running the service"
    )
    return parser
