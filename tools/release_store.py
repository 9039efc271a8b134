"""Make a small store with this checkout's release, and record the answers it gives.

`tests/releases/` keeps one such store per release, with its answers; the upgrade tests
open each with the current code after `ledighed migrate` and compare. Only the command
line, the stable interface, is used, so the same script runs on every release:

    python tools/release_store.py DIR [--postgres ADMIN_URL]

writes DIR/store.sqlite.gz, DIR/answers.sqlite.json.gz and, with --postgres, the same
year ingested into PostgreSQL as DIR/store.postgres.sql.gz and DIR/answers.postgres.json.gz.
A release that keeps keys outside the database (infra/store/secrets.py, since schema 0004)
also leaves each store's key file, saved as DIR/store.sqlite.secrets.json and
DIR/store.postgres.secrets.json (test keys of generated data): without it the store's
erased-data keys and its hash chain cannot be read.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MEMBERS = 300
AS_OF = ("2021-06-30", "2021-12-31")


def run_cli(argv: list[str]) -> dict[str, Any]:
    """One `ledighed` command in this process: its exit code and its JSON output."""
    from infra.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:  # a usage error
            code = exit_.code if isinstance(exit_.code, int) else 2
    return {"argv": argv, "exit": code, "output": json.loads(out.getvalue() or "null")}


def commands(cprs: list[str]) -> list[list[str]]:
    """The reads whose answers a release is held to (the store URL is added per store)."""
    reads: list[list[str]] = [["handovers", "--json"], ["audit", "verify", "--json"]]
    for day in AS_OF:
        reads.append(["worklist", "--json", "--as-of", day])
    for cpr in cprs:
        reads.append(["history", cpr, "--json"])
        reads.append(["explain", cpr, "--json", "--as-of", AS_OF[-1]])
        for day in AS_OF:
            reads.append(["case", cpr, "--all", "--json", "--as-of", day])
    return reads


def answers(db_url: str, cprs: list[str]) -> list[dict[str, Any]]:
    return [{**run_cli([*argv, "--db", db_url]), "argv": argv} for argv in commands(cprs)]


def member_cprs(messages: Path) -> list[str]:
    """Every CPR the year's messages name, as written, in first-seen order."""
    seen: dict[str, None] = {}
    for line in messages.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError, AttributeError):
            cpr = json.loads(line).get("cpr")
            if isinstance(cpr, str) and re.fullmatch(r"[0-9]{6}-?[0-9]{4}", cpr):
                seen.setdefault(cpr.replace("-", ""), None)
    return list(seen)


def write_json_gz(path: Path, data: Any) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)


def save_key_file(made: Path, saved: Path) -> None:
    """Keep the store's key file beside it, if this release made one (releases before
    schema 0004 kept no keys outside the database)."""
    if made.exists():
        shutil.copyfile(made, saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (optional)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    sqlite_file = work / "ledighed.db"
    # Each store's keys in a file of its own: the SQLite one beside the file (the default),
    # the PostgreSQL one named here (its default is the user's config dir, shared).
    os.environ.pop("LEDIGHED_SECRETS_FILE", None)
    os.environ.pop("LEDIGHED_CHAIN_KEY", None)
    from infra.cli import main as cli

    demo = ["demo", "--no-kafka", "--members", str(MEMBERS), "--dir", str(work)]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli([*demo, "--db", f"sqlite:///{sqlite_file}"]) == 0, "the demo failed"
    messages = work / "messages.jsonl"
    cprs = member_cprs(messages)
    with sqlite_file.open("rb") as src, gzip.open(args.dir / "store.sqlite.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    write_json_gz(args.dir / "answers.sqlite.json.gz", answers(f"sqlite:///{sqlite_file}", cprs))
    save_key_file(Path(f"{sqlite_file}.secrets.json"), args.dir / "store.sqlite.secrets.json")
    if args.postgres:
        name = f"ledighed_release_{secrets.token_hex(4)}"
        libpq = args.postgres.replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(["psql", libpq, "-qc", f'CREATE DATABASE "{name}"'], check=True)
        url = libpq.rsplit("/", 1)[0] + "/" + name
        postgres_keys = work / "postgres.secrets.json"
        os.environ["LEDIGHED_SECRETS_FILE"] = str(postgres_keys)
        try:
            code = run_cli(["ingest", str(messages), "--json", "--db", url])["exit"]
            assert code == 0, "the ingest into PostgreSQL failed"
            dump = subprocess.run(
                ["pg_dump", "--no-owner", "--no-privileges", url],
                check=True,
                capture_output=True,
            ).stdout
            with gzip.open(args.dir / "store.postgres.sql.gz", "wb") as f:
                f.write(dump)
            write_json_gz(args.dir / "answers.postgres.json.gz", answers(url, cprs))
            save_key_file(postgres_keys, args.dir / "store.postgres.secrets.json")
        finally:
            subprocess.run(["psql", libpq, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'])
    shutil.rmtree(work)
    print(f"wrote {args.dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
