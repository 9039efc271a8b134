"""Helpers for the scenario tests: run the real command line and make its JSON comparable.

`Ledighed` drives `infra.cli.main([...])` against one store and parses what it printed;
`Stable` replaces what differs from run to run (random case and member ids, the
`recorded_at` timestamps) by placeholders, so a whole output can be compared with the
expected JSON; `Golden` keeps those expectations in a file beside the scenario's input,
`tests/scenarios/<name>.expected.json`.

The golden files are the reviewed expectations. When a change of behaviour is meant,
regenerate them from the code's output and review the diff like any other change:

    LEDIGHED_UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_scenarios.py -k sqlite
    git diff tests/scenarios/
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.records import InboundRecord
from domain.params import Settings as RuleSettings
from infra.application import Ledighed as Application
from infra.application import Report
from infra.cli import main

SCENARIOS = Path(__file__).parent / "scenarios"


def ingest(
    store: Any, rules: RuleSettings, records: Iterable[InboundRecord], batch_size: int = 2000
) -> Report:
    """Records applied on `store` as `ledighed ingest` applies them (the application's
    `ingest`), with these rules."""
    return Application(store, rules=rules).ingest(records, batch_size)


TRIAL_DAY = date(2023, 12, 30)
"""A calendar inside the trial (the programme's last day but one) for a service or API under
test: past the end, each batch and post would also end its cases (R16)."""


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Stable:
    """Replaces ids and timestamps by placeholders that are stable within one scenario.

    Each distinct UUID becomes `<id:N>`, numbered in the order first seen over every
    output of the scenario, so the same case has the same placeholder in `case`,
    `history`, `worklist` and `handovers` (and a handover's message id becomes
    `<id:N>:handover:1`). Use `name()` to give an id a readable placeholder first.
    Every `recorded_at` must be a timezone-aware ISO timestamp and becomes `<recorded_at>`.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self._unnamed = 0

    def name(self, uuid: str, placeholder: str) -> None:
        assert _UUID.fullmatch(uuid), uuid
        assert self.names.get(uuid, placeholder) == placeholder, (uuid, self.names[uuid])
        self.names[uuid] = placeholder

    def _placeholder(self, match: re.Match[str]) -> str:
        uuid = match.group(0)
        if uuid not in self.names:
            self._unnamed += 1
            self.names[uuid] = f"<id:{self._unnamed}>"
        return self.names[uuid]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if key == "recorded_at":
                    stamp = datetime.fromisoformat(item)
                    assert stamp.tzinfo is not None, f"recorded_at {item!r} has no time zone"
                    result[key] = "<recorded_at>"
                else:
                    result[key] = self(item)
            return result
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return _UUID.sub(self._placeholder, value)
        return value


REGENERATE = os.environ.get("LEDIGHED_UPDATE_GOLDEN") == "1"
"""Write the golden files from the output instead of comparing (see the module's docstring)."""


class Golden:
    """The expected outputs of one scenario test, by a key that names the command
    (`case 0203851234 --as-of 2021-03-05`, with the test's words on when, if it gives them:
    `..., after tick --on 2024-01-02`; ` #2` for the second time the same key is checked),
    in `tests/scenarios/<scenario>.expected.json`. Each output must equal its expectation
    whole; `finish()` fails when an expectation in the file was not checked, so a check
    dropped from a test is noticed. With LEDIGHED_UPDATE_GOLDEN=1 the outputs are
    written to the file instead."""

    def __init__(
        self, scenario: str, directory: Path = SCENARIOS, regenerate: bool = REGENERATE
    ) -> None:
        self.path = directory / f"{Path(scenario).name.removesuffix('.jsonl')}.expected.json"
        self.regenerate = regenerate
        self.expected: dict[str, Any] = {}
        if not regenerate:
            assert self.path.exists(), f"{self.path.name} is missing: regenerate it (see above)"
            self.expected = json.loads(self.path.read_text(encoding="utf-8"))
        self.seen: dict[str, Any] = {}
        self.times: Counter[str] = Counter()
        self.failed = False

    def check(self, command: str, actual: Any) -> Any:
        self.times[command] += 1
        key = command if self.times[command] == 1 else f"{command} #{self.times[command]}"
        self.seen[key] = actual
        if not self.regenerate:
            assert key in self.expected, f"{key!r} is not in {self.path.name}: regenerate it"
            self.failed = self.failed or actual != self.expected[key]
            assert actual == self.expected[key], f"{key} (expected: {self.path.name})"
        return actual

    def finish(self, passed: bool = True) -> None:
        """At the test's end: write the file (regenerating), or fail on expectations the
        test did not check (when it passed otherwise)."""
        if self.regenerate:
            text = json.dumps(self.seen, indent=2, ensure_ascii=False) + "\n"
            self.path.write_text(text, encoding="utf-8")
        elif passed and not self.failed:
            unchecked = sorted(set(self.expected) - set(self.seen))
            assert not unchecked, f"{self.path.name} expects what the test no longer checks"


class Ledighed:
    """The `ledighed` command line over one store, as a test calls it."""

    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db_url = db_url
        self.capsys = capsys
        self.stable = Stable()
        self.golden: Golden | None = None

    def raw(self, *args: str) -> tuple[int, str, str]:
        """Run `ledighed ARGS --db URL`; its exit code, stdout and stderr."""
        self.capsys.readouterr()
        code = main([*args, "--db", self.db_url])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> Any:
        """Run `ledighed ARGS --json`; exit 0 and one JSON document on stdout, parsed as is."""
        code, out, err = self.raw(*args, "--json")
        assert code == 0, f"ledighed {' '.join(args)} exited {code}: {err}"
        return json.loads(out)

    def __call__(self, *args: str) -> Any:
        """Run `ledighed ARGS --json`, with ids and timestamps replaced by placeholders."""
        return self.stable(self.json(*args))

    def name_cases(self, cpr: str, *placeholders: str) -> None:
        """Give the member's cases (oldest first, as `case --all` lists them) these placeholders."""
        cases = self.json("case", cpr, "--all", "--as-of", "2099-12-31")
        assert len(cases) == len(placeholders), cases
        for case, placeholder in zip(cases, placeholders, strict=True):
            self.stable.name(case["case_id"], placeholder)

    def ingest(self, name: str, *options: str) -> Any:
        """Ingest `tests/scenarios/NAME` (or any path) and return its report."""
        path = Path(name) if Path(name).is_absolute() else SCENARIOS / name
        return self("ingest", str(path), *options)

    def expect(self, *args: str, when: str | None = None) -> Any:
        """Run `ledighed ARGS --json` (as `__call__`) and check the output against the golden
        file's expectation for this command (`when`: words added to its key); the output,
        for further checks."""
        assert self.golden is not None, "no golden file: start with expect_ingest(NAME)"
        key = " ".join(args) + (f", {when}" if when else "")
        return self.golden.check(key, self(*args))

    def expect_ingest(self, name: str, *options: str, when: str | None = None) -> Any:
        """`ingest(NAME, OPTIONS)` checked against the golden file, whose key leaves the
        options out (a batch size never changes a result). The first one names the golden
        file: `tests/scenarios/<NAME without .jsonl>.expected.json`."""
        if self.golden is None:
            self.golden = Golden(name)
        key = f"ingest {name}" + (f", {when}" if when else "")
        return self.golden.check(key, self.ingest(name, *options))


def scenario_lines(name: str) -> list[str]:
    """The lines of a scenario file, as in the file (line n is element n - 1)."""
    return (SCENARIOS / name).read_text(encoding="utf-8").splitlines()
