"""The HTTP API's limits on time and rate: a request read timeout and a token bucket per token."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class RateLimiter:
    """A token bucket per key: `burst` requests at once, refilled at `rate_per_s`."""

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate_per_s, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key: (tokens, when counted)
        self._lock = threading.Lock()  # sync routes run on a thread pool

    def take(self, key: str) -> float:
        """Take one request from the key's bucket: 0 when allowed, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def retry_after(wait_s: float) -> str:
    """A Retry-After header's whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))


class ReadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request to arrive whole.

    uvicorn times out idle keep-alive connections only: a client that sends its headers or
    its body a byte at a time holds a connection (and a task) for as long as it likes. Here
    every request must be received, headers and body, within `request_timeout_s` of the
    connection opening or of the previous response; else the connection is closed (408
    first, when no response has begun).
    """

    request_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_timeout(cls, seconds: float) -> type[ReadTimeoutH11Protocol]:
        """This protocol with its own deadline (uvicorn instantiates the class it is given)."""
        return type(cls.__name__, (cls,), {"request_timeout_s": seconds})

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.request_timeout_s, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._arm()  # the next request on this connection gets its own deadline
        super().on_response_complete()

    def _waiting_for_request(self) -> bool:
        """Whether a request is still arriving (its headers, or the rest of its body)."""
        return self.cycle is None or self.cycle.response_complete or self.cycle.more_body

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing() or not self._waiting_for_request():
            return  # the request arrived whole: the application may take its time
        if self.cycle is None or self.cycle.response_complete:
            try:  # no application is answering: say why before closing
                response = h11.Response(
                    status_code=408,
                    headers=[(b"content-type", b"text/plain"), (b"connection", b"close")],
                    reason=b"Request Timeout",
                )
                self.transport.write(self.conn.send(response))
                self.transport.write(self.conn.send(h11.Data(data=b"request not received in time")))
                self.transport.write(self.conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass
        self.transport.close()
