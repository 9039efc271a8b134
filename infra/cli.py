"""The `ledighed` command line: the contract's commands, each a call on the application."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing import persistence
from kafka.errors import KafkaError
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from infra import bootstrap as compose
from infra import text_ops, text_reads
from infra.application import (
    SQLITE_BUSY_TIMEOUT_S,
    KeysRefused,
    Ledighed,
    Report,
    StoreNotMigrated,
    sqlalchemy_url,
)
from infra.cli_parser import SCHEMAS, build_parser
from infra.failures import describe
from infra.progress import bar as progress_bar
from infra.runtime import logs
from infra.settings import Settings, unknown_variables


def _print(payload: Any, as_json: bool, text: str) -> None:
    if as_json:
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(text)


SERVICES = frozenset({"run", "serve"})
"""Commands that run until stopped: everything they say on stderr is a JSON log line."""


def _say(args: argparse.Namespace, line: str, level: int = logging.ERROR) -> None:
    """One line on stderr: a JSON log line from a service, plain text from any other command."""
    if args.command in SERVICES:
        logging.getLogger("ledighed.cli").log(level, line)
    else:
        print(line, file=sys.stderr)


STALE_DAYS = 365
"""How much older than today the store's latest message may be before `tick` asks for --on."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in SERVICES:
        logs.configure()
    for unknown in unknown_variables(os.environ):
        _say(args, f"ledighed {args.command}: {unknown}", logging.WARNING)
    try:
        return _dispatch(args)
    except BrokenPipeError:  # e.g. `ledighed handovers --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (
        OSError,
        SQLAlchemyError,
        KafkaError,
        ValueError,
        ModuleNotFoundError,
        StoreNotMigrated,
        KeysRefused,
        persistence.IntegrityError,
    ) as error:
        # Input a person got wrong (a file, a store URL, a broker address, a setting):
        # one line, not a traceback. LEDIGHED_DEBUG=1 shows the traceback.
        if os.environ.get("LEDIGHED_DEBUG") == "1":
            raise
        _say(args, f"ledighed {args.command}: {_reason(error)}")
        return 1
    except Exception as error:
        # Anything else is a fault of this program; its traceback could show SQL with bound
        # parameters (CPR numbers), so only with LEDIGHED_DEBUG=1.
        if os.environ.get("LEDIGHED_DEBUG") == "1":
            raise
        _say(
            args,
            f"ledighed {args.command}: internal error ({describe(error)}); "
            "LEDIGHED_DEBUG=1 shows the traceback",
        )
        return 1


def _reason(error: BaseException) -> str:
    if isinstance(error, persistence.IntegrityError):
        return (
            "another writer kept changing the same cases at the same time; nothing of the "
            "batch in hand was saved (what was saved before stays): run it again"
        )
    if isinstance(error, ModuleNotFoundError | NoSuchModuleError | ArgumentError):
        return f"the store URL is not one ledighed can use ({error}); use sqlite:///FILE or postgresql://..."
    if isinstance(error, SQLAlchemyError) and "database is locked" in str(error):
        return (
            f"the SQLite store stayed locked by another writer for {SQLITE_BUSY_TIMEOUT_S:.0f} s "
            "(SQLite takes one writer at a time): try again when it is done, or use "
            "PostgreSQL for several writers"
        )
    if isinstance(error, SQLAlchemyError):
        return f"cannot use the store: {describe(error)}"
    if isinstance(error, KafkaError):
        return f"Kafka: {describe(error)}"
    return str(error)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "schema":
        _print(SCHEMAS[args.name](), True, "")
        return 0
    settings = Settings(
        **({"db_url": getattr(args, "db", None)} if getattr(args, "db", None) else {})
    )
    if args.command == "run":
        from infra.runtime.run import run_service

        if args.kafka:
            settings = settings.model_copy(update={"kafka_bootstrap": args.kafka})
        return run_service(
            settings,
            http=(args.host, args.http) if args.http else None,
            local_broker=args.local_broker,
        )
    if args.command == "serve":
        from infra.http.serve import serve

        return serve(settings, args.host, args.port)
    if args.command == "demo":
        from infra.demo.demo import run_demo

        return run_demo(
            settings,
            members=args.members,
            seed=args.seed,
            directory=Path(args.dir),
            kafka=not args.no_kafka,
            db_url=args.db,
        )
    if args.command == "ingest" and args.file != "-" and not Path(args.file).is_file():
        raise FileNotFoundError(f"no file {args.file!r} to ingest")
    if args.command not in CREATES_THE_STORE:
        _require_existing_sqlite(settings.db_url)
    if args.command == "migrate":
        return _migrate(settings.db_url, args.check, args.json)
    if args.command == "keys":
        made = compose.init_keys(settings.db_url)
        _print(made, args.json, text_ops.keys_init_text(made))
        return 0
    if args.command == "backup":
        written = compose.backup(settings.db_url, Path(args.dest))
        _print(written, args.json, text_ops.backup_text(written))
        return 0
    ledighed = compose.application(settings, access=_access(args))
    try:
        return _run(args, settings, ledighed)
    finally:
        ledighed.close()


def _migrate(db_url: str, check_only: bool, as_json: bool) -> int:
    """`ledighed migrate`: apply the migrations the store lacks, then bring the read models
    up to the log (a migration that changes one drops it; it is rebuilt here)."""
    schema = compose.store_schema(db_url)
    try:
        found = schema.state()
        if check_only:
            report = {"current": found.current, "head": found.head, "at_head": found.at_head}
            _print(report, as_json, text_ops.migrate_check_text(report))
            return 0 if found.at_head else 1
        if not found.known:
            raise StoreNotMigrated(
                f"the store is at schema {found.current}, which this release does not know "
                "(written by a newer release?): use that release"
            )
        before, after = schema.upgrade()
    finally:
        schema.close()
    ledighed = compose.application(Settings(db_url=db_url))
    try:
        total = ledighed.log_head()
        with progress_bar(total=total, desc="read models", unit=" events", disable=as_json) as bar:
            ledighed.catch_up(progress=lambda at: bar.update(max(0, at - bar.n)))
            bar.update(max(0, total - bar.n))
    finally:
        ledighed.close()
    report = {"from": before, "to": after}
    _print(report, as_json, text_ops.migrated_text(report))
    return 0


CREATES_THE_STORE = frozenset({"ingest", "run", "serve", "demo"})
"""Commands that write messages and may start a new store; the rest need one that exists."""


def _access(args: argparse.Namespace) -> str:
    """What the command may do to the store's keys: make them for a new store (the commands
    that may start one), record their fingerprints (a write) or only read (never a file)."""
    if args.command in CREATES_THE_STORE:
        return "create"
    action = getattr(args, "action", None)
    if args.command in ("tick", "erase") or action in ("retry", "rebuild"):
        return "write"
    return "read"


def _require_existing_sqlite(db_url: str) -> None:
    """A read of a SQLite file that does not exist says so, instead of creating an empty
    store that knows no member (a mistyped path)."""
    url = make_url(sqlalchemy_url(db_url))
    if not url.drivername.startswith("sqlite"):
        return
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    if not Path(database).exists():
        raise FileNotFoundError(f"no store at {database!r}: the SQLite file does not exist")


def _dead_letters(args: argparse.Namespace, ledighed: Ledighed) -> int:
    if args.action == "list":
        rows = ledighed.dead_letters(args.status, args.topic, args.day)
        for row in rows:
            row["topic"] = row["source"].get("topic")
        text = text_ops.dead_letters_text(rows)
        _print([{k: v for k, v in r.items() if k != "topic"} for r in rows], args.json, text)
        return 0
    if args.action == "show":
        if args.id is None:
            raise ValueError("dead-letters show needs the dead letter's id")
        raw = ledighed.dead_letter_raw(args.id)
        if raw is None:
            raise ValueError(f"no dead letter {args.id}")
        sys.stdout.buffer.write(raw + b"\n")
        return 0
    if args.id is None and not args.all:
        raise ValueError("dead-letters retry needs an id, or --all for every open one")
    outcome = ledighed.retry_dead_letters(None if args.all else [args.id])
    ledighed.catch_up()
    _print(outcome, args.json, text_ops.retry_text(outcome))
    return 0


def _no_case(ledighed: Ledighed, args: argparse.Namespace, day: date) -> int:
    """No case to show: say why (no such member, or none yet by the clocks); exit 1."""
    who = args.cpr or f"member {args.member_id}"
    if args.cpr is not None and ledighed.member_id(args.cpr) is None:
        reason = f"no case for {args.cpr}: no member with this CPR in this store"
    else:
        known = f", known at {args.known_at.isoformat()}" if args.known_at else ""
        reason = f"no case for {who} as of {day}{known}"
    print(reason, file=sys.stderr)
    if getattr(args, "json", False):
        print("null")  # still one JSON document on stdout
    return 1


def _ingest(args: argparse.Namespace, settings: Settings, ledighed: Ledighed) -> int:
    """Apply the file; the report is printed also when the store fails midway (then it says
    what was saved before the failure, and the error follows on stderr: exit 1)."""
    # Bytes, not text: a line that is not UTF-8 is one rejected line, not the end of the run.
    # (A stand-in for stdin without a byte stream gives text lines; those are read too.)
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    stream = stdin if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    report = Report()
    try:
        with stream:
            progress = progress_bar(desc="ingest", unit=" msgs", disable=args.quiet or args.json)
            records = ledighed.file_records(
                stream, "stdin" if args.file == "-" else Path(args.file).name
            )
            ledighed.ingest(records, args.batch_size or settings.batch_size, progress, report)
            progress.close()
        ledighed.catch_up()
    finally:
        _print(report.as_dict(), args.json, text_ops.ingest_text(report.as_dict()))
    return 0


def _run(args: argparse.Namespace, settings: Settings, ledighed: Ledighed) -> int:
    day: date = getattr(args, "as_of", None) or ledighed.today()
    if args.command == "ingest":
        return _ingest(args, settings, ledighed)
    if args.command in ("case", "history") and (args.cpr is None) == (args.member_id is None):
        raise ValueError(f"{args.command} needs a CPR or --member-id, not both")
    if args.command == "case":
        cases = ledighed.cases(args.cpr, day, args.known_at, args.member_id)
        if not cases:
            return _no_case(ledighed, args, day)
        payload: Any = cases if args.all else cases[-1]
        _print(payload, args.json, text_reads.cases_text(cases if args.all else cases[-1:]))
        return 0
    if args.command == "history":
        rows = ledighed.history(args.cpr, args.as_of, args.known_at, args.member_id)
        _print(rows, args.json, text_reads.history_text(rows))
        return 0
    if args.command == "worklist":
        rows = ledighed.worklist(day, args.adviser, args.known_at)
        _print(rows, args.json, text_reads.worklist_text(rows))
        return 0
    if args.command == "explain":
        explained = ledighed.explain(args.cpr, day, args.known_at)
        if explained is None:
            return _no_case(ledighed, args, day)
        _print(explained, args.json, text_reads.explain_text(explained))
        return 0
    if args.command == "timeline":
        svg = ledighed.timeline_svg(args.cpr, day, args.known_at)
        if svg is None:
            return _no_case(ledighed, args, day)
        if args.svg == "-":
            sys.stdout.write(svg)
        else:
            Path(args.svg).write_text(svg, encoding="utf-8")
            print(text_ops.written_text(args.svg))
        return 0
    if args.command == "handovers":
        rows = ledighed.handovers(args.known_at)
        if getattr(args, "as_of", None):
            rows = [r for r in rows if r["effective_on"] <= day.isoformat()]
        _print(rows, args.json, text_reads.handovers_text(rows))
        return 0
    if args.command == "tick":
        if args.on is None and not args.yes and (stale := _stale_today(ledighed)):
            print(f"ledighed tick: {stale}", file=sys.stderr)
            return 2
        report = ledighed.tick(args.on)
        ledighed.catch_up()
        _print(report.as_dict(), args.json, text_ops.tick_text(report.as_dict()))
        return 0
    if args.command == "access-log":
        member_id = ledighed.member_id(args.cpr) if args.cpr else None
        entries = (
            []
            if args.cpr and member_id is None
            else ledighed.access_log(
                member_id=member_id,
                reader=args.reader,
                since=args.since,
                until=args.until,
                after=args.after,
                limit=args.limit,
            )
        )
        _print(entries, args.json, text_ops.access_log_text(entries))
        return 0
    if args.command == "audit":
        report = ledighed.verify_audit()
        _print(report, args.json, text_ops.audit_text(report))
        return 1 if text_ops.audit_failed(report) else 0
    if args.command == "dead-letters":
        return _dead_letters(args, ledighed)
    if args.command == "erase":
        erased = ledighed.erase_member(args.cpr)
        _print({"erased": erased}, args.json, text_ops.erase_text(erased, args.cpr))
        return 0 if erased else 1
    if args.command == "projections" and args.action == "rebuild":
        quiet = args.json or args.quiet
        applied = ledighed.rebuild_projections([args.name] if args.name else None, quiet)
        _print(applied, args.json, text_ops.rebuilt_text(applied))
        return 0
    if args.command == "projections":
        rows = ledighed.projection_status()
        _print(rows, args.json, text_ops.projections_text(rows))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())


def _stale_today(ledighed: Ledighed) -> str | None:
    """Why ticking for today is likely a mistake: the store's latest message is over a year
    older than today (a replayed or demo store), where R16 would end every open case."""
    latest = ledighed.latest_message_day()
    today = ledighed.today()
    if latest is None or (today - latest).days <= STALE_DAYS:
        return None
    return (
        f"the store's latest message is dated {latest}, {(today - latest).days} days before "
        f"today ({today}); ticking for today would end every open case past the programme "
        f"end (R16). Give the day to tick for with --on {latest}, or --yes to tick for today"
    )
