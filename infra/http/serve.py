"""Serving the HTTP API: `ledighed serve`, and inside `ledighed run --http PORT` on a thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from infra import bootstrap as compose
from infra.http.api import create_app
from infra.http.api_auth import load_tokens
from infra.http.api_limits import ReadTimeoutH11Protocol
from infra.settings import Settings

log = logging.getLogger("ledighed.api")


def _config(app: Any, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's h11 server with the API's time limits: a request must arrive whole within
    LEDIGHED_API_REQUEST_TIMEOUT_S, an idle connection closes after LEDIGHED_API_KEEP_ALIVE_S."""
    # No access log: its request lines would carry CPR numbers (reads are in the audit trail).
    # No log_config: uvicorn's loggers propagate to the root's JSON lines (infra/runtime/logs.py).
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        http=ReadTimeoutH11Protocol.with_timeout(settings.api_request_timeout_s),
        timeout_keep_alive=settings.api_keep_alive_s,
        log_config=None,
        **options,
    )


def _warn_without_tokens(settings: Settings) -> None:
    if not load_tokens(settings.api_tokens, settings.api_tokens_file):
        log.warning(
            "no API tokens (LEDIGHED_API_TOKENS or LEDIGHED_API_TOKENS_FILE): every request "
            "but /health, /metrics and the OpenAPI document will be refused"
        )


def serve(settings: Settings, host: str, port: int) -> int:
    """`ledighed serve`: the API in the foreground until SIGTERM/SIGINT."""
    compose.check_keys(settings.db_url)  # a missing or wrong key file: refused first, alone
    _warn_without_tokens(settings)
    log.info(
        f"HTTP API on http://{host}:{port} (OpenAPI: /docs, /openapi.json; pages: /ui/)",
        extra={"url": f"http://{host}:{port}"},
    )
    uvicorn.Server(_config(create_app(settings), settings, host, port)).run()
    return 0


class ApiThread:
    """The API on a thread of the running service, with the service's live numbers."""

    def __init__(
        self,
        settings: Settings,
        host: str,
        port: int,
        service_status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        app = create_app(settings, service_status=service_status)
        self.server = uvicorn.Server(_config(app, settings, host, port))
        self.thread = threading.Thread(target=self.server.run, name="ledighed-api", daemon=True)
        self.where = f"http://{host}:{port}"

    def start(self, timeout_s: float = 15.0) -> ApiThread:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP API did not start on {self.where}")
            time.sleep(0.05)
        log.info("HTTP API started", extra={"url": self.where})
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
