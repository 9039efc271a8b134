"""Schemathesis against the API's own OpenAPI document with every check it has (the CLI's
`--checks all`): no 5xx, status codes, content types, headers and bodies as documented,
what the document refuses refused and what it admits accepted, Allow headers, auth.

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
from schemathesis.checks import CHECKS, load_all_checks

from infra.cli import main
from infra.http.api import create_app
from infra.settings import Settings
from infra.store.store import Store
from tests.scenario_helpers import SCENARIOS

TOKENS = "fuzz-auditor=auditor:fuzz,fuzz-system=system:fuzz"
DIRECTORY = Path(tempfile.mkdtemp(prefix="ledighed-fuzz-"))
URL = f"sqlite:///{DIRECTORY / 'fuzz.db'}"
STORE = Store(URL)
load_all_checks()
ALL_CHECKS = CHECKS.get_all()
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


@schema.auth()
class Tokens:
    """The system's token for posts, an auditor's for reads; schemathesis leaves it out
    itself where it tests that a missing token is refused."""

    def get(self, case: Any, context: Any) -> str:
        return "fuzz-system" if case.method.upper() == "POST" else "fuzz-auditor"

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_check(case: Any) -> None:
    case.call_and_validate(checks=ALL_CHECKS)


def test_every_check_is_run() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"not_a_server_error", "negative_data_rejection", "positive_data_acceptance"} <= names
    assert {"unsupported_method", "allow_header_conformance", "ignored_auth"} <= names
    assert {"response_schema_conformance", "status_code_conformance"} <= names
