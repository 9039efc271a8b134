"""Schemathesis against the API's own OpenAPI document: no request it generates gets a 5xx.

Reads with an auditor's token, posts with the system's, on a store seeded with scenarios
first. Bounded: at most 20 generated examples per operation, no deadline. The schema is
loaded when the module is imported (schemathesis' lazy `from_fixture` does not run on
pytest 9: it sets `Node._nodeid`, which pytest no longer has); the app's store is an empty
SQLite file in a temporary directory until the module's fixture seeds it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from infra.cli import main
from infra.http.api import create_app
from infra.settings import Settings
from infra.store.store import Store
from tests.scenario_helpers import SCENARIOS

TOKENS = "fuzz-auditor=auditor:fuzz,fuzz-system=system:fuzz"
DIRECTORY = Path(tempfile.mkdtemp(prefix="ledighed-fuzz-"))
URL = f"sqlite:///{DIRECTORY / 'fuzz.db'}"
STORE = Store(URL)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(db_url=URL, api_tokens=TOKENS, api_rate_burst=100_000), STORE),
)


@pytest.fixture(scope="module", autouse=True)
def seeded() -> Iterator[None]:
    for name in ("02_late_move_revises_handover.jsonl", "04_worklist_two_advisers.jsonl"):
        assert main(["ingest", str(SCENARIOS / name), "--db", URL, "--quiet", "--json"]) == 0
    yield
    STORE.close()
    shutil.rmtree(DIRECTORY, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any) -> None:
    token = "fuzz-system" if case.method.upper() == "POST" else "fuzz-auditor"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )
