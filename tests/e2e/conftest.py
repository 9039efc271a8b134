"""The pages' browser tests: the app on a real uvicorn on 127.0.0.1, and Debian's Chromium
driven by Playwright. They fail, never skip, when Chromium or Playwright is missing, unless
LEDIGHED_SKIP_BROWSER=1 says to skip them."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from infra.settings import Settings
from tests.kafka_helpers import ServiceThreads
from tests.scenario_helpers import SCENARIOS, TRIAL_DAY

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKENS = (
    "tok-anna=adviser:anna,tok-bent=adviser:bent,tok-ida=auditor:ida,"
    "tok-aarhus=jobcenter:751:aarhus,tok-sys=system:membership"
)
SCENARIO_FILES = (
    "02_late_move_revises_handover.jsonl",
    "04_worklist_two_advisers.jsonl",
    "01b_availability_overdue.jsonl",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("LEDIGHED_SKIP_BROWSER") == "1":
        pytest.skip(f"LEDIGHED_SKIP_BROWSER=1 and {reason}")
    pytest.fail(
        f"{reason}. `make browser` (or .ci/run) installs Debian's chromium; set "
        "LEDIGHED_SKIP_BROWSER=1 to skip the browser tests on purpose.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for a module (Debian's, never a downloaded build); closed with
    it, so that Playwright's event loop is gone before other modules run."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"there is no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"Playwright is not installed ({error})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """The app served on a real uvicorn: where, and the store it serves."""

    base: str
    db_url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Three scenarios' store served by `ledighed serve`'s server (its h11 protocol and time
    limits) on a thread, on 127.0.0.1 and a free port, as `ledighed run --http` serves it."""
    from infra.http.serve import ApiThread

    path: Path = tmp_path_factory.mktemp("ui") / "ui.db"
    url = f"sqlite:///{path}"
    for name in SCENARIO_FILES:
        assert main(["ingest", str(SCENARIOS / name), "--db", url, "--quiet"]) == 0
    port = free_port()
    # a generous rate: the tests make a few hundred requests a minute with one token
    # and a calendar inside the trial: past its end, a posted message ends its case (R16)
    settings = Settings(db_url=url, api_tokens=TOKENS, api_rate_burst=1000, today=TRIAL_DAY)
    api = ApiThread(settings, "127.0.0.1", port).start()
    try:
        yield Served(f"http://127.0.0.1:{port}", url)
    finally:
        api.stop()


@pytest.fixture
def services() -> Iterator[ServiceThreads]:
    """Services each in a thread of its own, stopped at the test's end (the Kafka tests)."""
    threads = ServiceThreads()
    yield threads
    threads.stop_all()
