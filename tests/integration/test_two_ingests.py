"""Writers that meet (issue 11): two `ledighed ingest` runs of overlapping files on one
store at the same time end as one run of both would, on SQLite (the second writer waits
for the first) and on PostgreSQL (a version conflict reloads the cases and tries again)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.demo.demo_data import generate_lines
from tools.release_store import run_cli


def _ingest(path: Path, db_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "ingest", str(path), "--json", "--quiet",
         "--batch-size", "40", "--db", db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )


def _cases(db_url: str, cprs: list[str]) -> dict[str, object]:
    """Each member's cases as of the year's end, without their random ids."""
    found: dict[str, object] = {}
    for cpr in cprs:
        answer = run_cli(["case", cpr, "--all", "--json", "--as-of", "2021-12-31", "--db", db_url])
        cases = answer["output"] or []
        found[cpr] = [{k: v for k, v in case.items() if k != "case_id"} for case in cases]
    return found


def test_two_ingests_of_overlapping_files_at_once_end_as_one_would(
    db_url: str, tmp_path: Path
) -> None:
    # Two sources that overlap as two Kafka partitions re-read would: each member's
    # messages in their own order, a third of the members in both files. (Two files that
    # split one member's messages between them change that member's order, and order within
    # one topic may decide, e.g. a notice sign-up read after a later registration.)
    lines = generate_lines(seed=7, members=60)
    cprs = sorted({_cpr(line) for line in lines} - {None}, key=str)
    group = {cpr: i % 3 for i, cpr in enumerate(cprs)}  # 0: first file, 1: second, 2: both
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(x for x in lines if _group(x, group) in (0, 2)) + "\n")
    second.write_text("\n".join(x for x in lines if _group(x, group) in (1, 2)) + "\n")
    both = tmp_path / "both.jsonl"
    both.write_text("\n".join(lines) + "\n")

    runs = [_ingest(first, db_url), _ingest(second, db_url)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()
        assert b"Traceback" not in err
    reports = [json.loads(out) for out, _ in outputs]

    reference = str(tmp_path / "reference.db")
    once = run_cli(["ingest", str(both), "--json", "--db", f"sqlite:///{reference}"])["output"]
    assert sum(r["accepted"] for r in reports) == once["accepted"]
    readable = [c for c in cprs if isinstance(c, str) and c.isdigit() and len(c) == 10]
    assert _cases(db_url, readable) == _cases(f"sqlite:///{reference}", readable)
    assert run_cli(["audit", "verify", "--json", "--db", db_url])["exit"] == 0


def _cpr(line: str) -> object:
    try:
        return json.loads(line).get("cpr")
    except (ValueError, AttributeError):
        return None


def _group(line: str, group: dict[object, int]) -> int:
    """Which file a line goes to, by its member (a line without a readable CPR: both)."""
    return group.get(_cpr(line), 2)
