"""The adviser's and auditor's pages (issue 10): server-rendered HTML under /ui/ beside the API."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from infra.application import Ledighed
from infra.http.api_auth import Tokens
from infra.http.api_records import ReadRecorder
from infra.settings import Settings


def install_ui(
    app: FastAPI,
    settings: Settings,
    ledighed: Ledighed,
    tokens: Tokens,
    recorder: ReadRecorder,
    writing: threading.Lock,
) -> None:
    """Mount the pages on the API's app: the same application, tokens, read recorder and
    write lock."""
    from infra.ui.pages import Ui, router
    from infra.ui.session import Sessions

    sessions = Sessions(tokens, settings.ui_session_key, settings.ui_session_hours)
    ui = Ui(settings, ledighed, sessions, recorder, writing)
    app.include_router(router(ui))
    static = StaticFiles(directory=Path(__file__).parent / "static")
    app.mount("/ui/static", static, name="ui-static")
