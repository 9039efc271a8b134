"""Golden files of the command line's text output: what a person reads, command by command.

Every scenario file of `tests/scenarios/` is ingested, in name order, into a fresh SQLite
store; then each command runs in text (no `--json`) and its output, with the random ids and
the recorded moments made stable (below), must equal `tests/golden/cli/<command>.txt`
byte for byte. Every line must also fit 100 columns.

After a deliberate change of the text, write the files anew and read the diff:

    LEDIGHED_UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_cli_text.py

Stable output: the aggregates' ids are numbered in the order they are made instead of random
(`NNNNNNNN-0000-4000-8000-00000000NNNN`, so a case's short reference is `NNNNNNNN`), and every
recorded moment in text (`2026-11-30 01:13[:24]`) becomes `YYYY-MM-DD hh:mm[:ss]`.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from uuid import UUID

import eventsourcing.domain
import pytest

from infra.cli import main
from infra.store import access_log
from infra.store.store import Store
from tests.scenario_helpers import SCENARIOS

GOLDEN = Path(__file__).parent.parent / "golden" / "cli"
UPDATE = os.environ.get("LEDIGHED_UPDATE_GOLDEN") == "1"

_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?\b")

CASES = ["0203851234", "1104881234", "1506961234", "0202822222", "0909791234", "0808781234"]
"""Members whose case, history and explain are shown: an exit on hours, a revised handover,
an education order, a holiday, two cases of one member, messages kept before registration."""


class Session:
    """The command line over one store, its text outputs made stable."""

    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_url, self.capsys = db_url, capsys

    def run(self, *args: str, code: int = 0) -> str:
        """stdout; on a failure (exit `code` not 0) stderr too, each line marked `stderr: `."""
        self.capsys.readouterr()
        assert main([*args, "--db", self.db_url]) == code, (args, self.capsys.readouterr())
        captured = self.capsys.readouterr()
        said = "".join(f"stderr: {line}\n" for line in captured.err.splitlines() if code)
        return captured.out + said

    def shown(self, *args: str, code: int = 0) -> str:
        """`$ ledighed ARGS` and its text output, the recorded moments made stable."""
        text = _MOMENT.sub(
            lambda m: "YYYY-MM-DD hh:mm" + (":ss" if m.group(1) else ""), self.run(*args, code=code)
        )
        return f"$ ledighed {' '.join(args)}\n{text}"


def _numbered_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregates get the ids `NNNNNNNN-0000-4000-8000-00000000NNNN` in the order they are
    made (so a case's short reference is `NNNNNNNN`), not random ones."""
    made = itertools.count(1)
    monkeypatch.setattr(
        eventsourcing.domain,
        "uuid4",
        lambda: UUID(f"{(n := next(made)):08d}-0000-4000-8000-{n:012d}"),
    )


def _build(session: Session, folder: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}

    def add(command: str, *args: str, code: int = 0) -> None:
        out.setdefault(command, []).append(session.shown(*args, code=code))

    for path in sorted(SCENARIOS.glob("*.jsonl")):
        text = session.run("ingest", str(path), "--quiet")
        out.setdefault("ingest", []).append(f"$ ledighed ingest {path.name}\n{text}")
    for cpr in CASES:
        add(
            "case",
            "case",
            cpr,
            *(["--all"] if cpr == "0909791234" else []),
            "--as-of",
            "2021-06-30",
        )
        add("history", "history", cpr)
        add("explain", "explain", cpr, "--as-of", "2021-12-31")
    add("case", "case", "0101901234", code=1)
    add("worklist", "worklist", "--as-of", "2021-04-20")
    add("worklist", "worklist", "--as-of", "2021-04-20", "--adviser", "bent")
    add("worklist", "worklist", "--as-of", "2019-01-01")
    add("handovers", "handovers")
    add("dead-letters", "dead-letters")
    add("dead-letters", "dead-letters", "retry", "5")
    add("audit", "audit", "verify")
    add("projections", "projections", "status")
    add("projections", "projections", "rebuild", "worklist", "--quiet")
    add("migrate", "migrate", "--check")
    add("timeline", "timeline", CASES[0], "--svg", str(folder / "case.svg"))
    add("keys", "keys", "init")
    add("backup", "backup", str(folder / "backup.db"))
    add("backup", "backup", str(folder / "backup.db"), code=1)
    store = Store(session.db_url)
    try:
        members = store.member_ids(["0203851234"])
        access_log.record(
            store.engine,
            store.secrets,
            reader="anna",
            role="adviser",
            source="api",
            what="case",
            parameters={"as_of": "2021-06-30", "known_at": None, "all": False},
            member_ids=members.values(),
            rows=1,
        )
    finally:
        store.close()
    add("access-log", "access-log")
    add("tick", "tick", "--on", "2024-01-02")
    add("erase", "erase", "0203851234")
    add("erase", "erase", "0203851234", code=1)
    erased = str(next(iter(members.values())))  # what is left of an erased member: no CPR
    add("case", "case", "--member-id", erased, "--as-of", "2021-06-30")
    add("history", "history", "--member-id", erased, "--as-of", "2021-03-10")
    return out


def test_every_commands_text_equals_its_golden_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDIGHED_SECRETS_FILE", str(tmp_path / "secrets.json"))
    _numbered_ids(monkeypatch)
    session = Session(f"sqlite:///{tmp_path / 'golden.db'}", capsys)
    outputs = _build(session, tmp_path)
    for command in ("timeline", "keys", "backup"):
        outputs[command] = [t.replace(str(tmp_path), "TMP") for t in outputs[command]]
    wrong = []
    for command, shown in outputs.items():
        for one in shown:  # no `None`, `True`/`False` or JSON object in any text
            body = one.split("\n", 1)[1]
            assert not re.search(r"\b(None|True|False)\b|[{}]", body), (command, body)
        text = "\n".join(shown)
        for line in text.splitlines():
            assert len(line) <= 100 or line.startswith("$ "), (command, line)
        golden = GOLDEN / f"{command}.txt"
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        elif not golden.exists() or golden.read_text(encoding="utf-8") != text:
            wrong.append(command)
    assert not wrong, (
        f"text output differs from tests/golden/cli/ for {wrong}; if the change is meant, "
        "LEDIGHED_UPDATE_GOLDEN=1 writes the files anew (then read the diff)"
    )


def test_help_offers_only_what_a_command_uses(capsys: pytest.CaptureFixture[str]) -> None:
    """`timeline` has no JSON to give; `demo` names its own store; `projections rebuild` can
    be quiet."""
    helps = {}
    for command in (["timeline"], ["demo"], ["projections", "rebuild"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        helps[command[0]] = capsys.readouterr().out
    assert "--json" not in helps["timeline"]
    assert "sqlite:///DIR/ledighed.db" in helps["demo"]
    assert "sqlite:///ledighed.db" not in helps["demo"]
    assert "--quiet" in helps["projections"]
