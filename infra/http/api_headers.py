"""`Cache-Control: no-store` on every answer that may hold personal data (all but the docs)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What holds no data and may be cached: the API's docs, its scripts and the pages' styles.
CACHEABLE = ("/docs", "/docs-assets/", "/openapi.json", "/ui/static/")


class NoStore:
    """ASGI middleware: a browser or proxy keeps no copy of a case, a feed or a log
    (issue 26); an answer that set its own Cache-Control keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CACHEABLE):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_no_store)
