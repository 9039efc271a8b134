"""The HTTP API's plumbing: error bodies and handlers, shared parameters, metrics, OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy.exc
from eventsourcing import persistence
from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import BaseModel, TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.cpr import CPR_PATTERN, normalize_cpr
from domain.message_fields import MOMENT_PATTERN, IsoDate
from domain.messages import InboundMessage
from infra.application import Ledighed
from infra.clock import parse_day, parse_moment, parse_since

DB_DOWN = (
    persistence.OperationalError,
    persistence.InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
)
# How long a client waits before it asks again after a 503.
RETRY_AFTER = {"Retry-After": "1"}


class ErrorBody(BaseModel):
    error: str
    error_field: str | None = None
    message_id: str | None = None


class Posted(BaseModel):
    accepted: bool
    duplicate: bool
    message_id: str | None


CprPath = Annotated[str, Path(pattern=CPR_PATTERN, description="the member's CPR")]
# Days only as YYYY-MM-DD (pydantic's own dates would take 0 as 1970-01-01), in the OpenAPI
# document with the contract's pattern and format.
AsOf = Annotated[
    IsoDate | None, Query(description="the day to judge the state on (default today), as --as-of")
]
MOMENT_WORDS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
KnownAt = Annotated[
    str | None,
    Query(
        pattern=MOMENT_PATTERN,
        description=f"only what had been recorded by then, as --known-at: {MOMENT_WORDS} "
        "(a day: its end; encode + as %2B); Europe/Copenhagen unless a zone",
    ),
]
MAX_INT64 = 2**63 - 1
"""The largest position or count a query may name: SQLite's and PostgreSQL's integers stop
there, and a larger one would reach the database as an overflow (a 500), not a 422."""
AFTER = "skip the feed's first `after` messages (those read already; X-Next-After: the next)"
LIMIT = "at most this many (and never more than LEDIGHED_API_MAX_PAGE, the default)"
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422, 429)
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 413, 415)
}
MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/InboundMessage"}}
        },
    }
}
SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}
}


class Invalid(Exception):
    """A 422 with the contract's reason and field."""

    def __init__(self, reason: str, field: str | None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


def moment(known_at: str | None, field: str = "known_at", since: bool = False) -> datetime | None:
    """`known_at` parsed as the command line's --known-at (`since`: a day is its start)."""
    if known_at is None:
        return None
    try:  # a "+" left unencoded in a query string arrives as a space
        text = known_at[:11] + known_at[11:].replace(" ", "+")
        return parse_since(text) if since else parse_moment(text)
    except ValueError as error:
        raise Invalid(str(error), field) from None


def closed_query(request: Request) -> None:
    """Refuse a query parameter the operation does not have (a mistyped `as-of` would
    otherwise be ignored and the answer given for today): a 422 naming it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return  # the pages and the docs read their own queries
    known, dependants = set(), [route.dependant]
    while dependants:  # the operation's own parameters and its dependencies'
        dependant = dependants.pop()
        known |= {param.alias for param in dependant.query_params}
        dependants += dependant.dependencies
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise Invalid(
            f"unknown query parameter {unknown[0]!r} (this operation takes: {expected})",
            unknown[0],
        )


def _moment_text(text: str) -> None:
    """Refuse what the moment parameters' pattern refuses, in the command line's words."""
    if re.fullmatch(MOMENT_PATTERN, text) is None:
        raise ValueError(f"{text!r} is not a moment (expected {MOMENT_WORDS})")


PARAMETERS: dict[str, Callable[[str], object]] = {
    "cpr": normalize_cpr,
    "as_of": parse_day,
    "day": parse_day,
    "known_at": _moment_text,
    "since": _moment_text,
    "until": _moment_text,
}
"""The parameters the command line takes too, each with the function both read it with."""


def parameter_reason(field: str | None, given: object) -> str | None:
    """Why a parameter of PARAMETERS is wrong, in the command line's words (None: not one of
    them, or its function finds nothing wrong)."""
    parse = PARAMETERS.get(field or "")
    if parse is None or not isinstance(given, str):
        return None
    try:
        parse(given)
    except ValueError as error:
        return str(error)
    return None


def optional(module: Any, name: str) -> Callable[..., Any]:
    """A function another part of the project adds; 501 until it is there."""
    found = getattr(module, name, None)
    if found is None:
        raise HTTPException(501, f"{module.__name__}.{name} is not there yet")
    return found


def install_error_handlers(app: FastAPI) -> None:
    """Every error as {"error", "error_field"}: the contract's shape, also for parameters."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": error.detail}, error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or None
        reason = parameter_reason(field, first.get("input"))
        if reason is not None:
            return JSONResponse({"error": reason, "error_field": field}, 422)
        return JSONResponse({"error": f"{field}: {first['msg']}", "error_field": field}, 422)

    @app.exception_handler(Invalid)
    async def _invalid(_: Request, error: Invalid) -> JSONResponse:
        return JSONResponse({"error": error.reason, "error_field": error.field}, 422)

    async def _down(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            {"error": f"the store is not reachable: {type(error).__name__}"},
            503,
            headers=RETRY_AFTER,
        )

    async def _busy(_: Request, error: Exception) -> JSONResponse:
        # Every connection of the pool in use for its whole timeout: the client's load, not
        # a fault of the service, so a 503 to come back to (issue 26: it was a 500).
        return JSONResponse(
            {"error": "the service is busy: every connection to the store is in use"},
            503,
            headers=RETRY_AFTER,
        )

    for db_error in DB_DOWN:
        app.add_exception_handler(db_error, _down)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _busy)


def service_state(status: dict[str, Any]) -> str | None:
    """`stalled` or `unassigned` when the running service says it is stuck (the word before
    its problem's colon, infra/runtime/service.py live_status); None when it is not."""
    problem = status.get("problem")
    return str(problem).split(":", 1)[0] if problem else None


class Metrics:
    """The store's numbers, read at each scrape (a few rows, however many dead letters), and
    the running service's: counters end in `_total`, gauges hold what is now, a number not
    known (no service in this process, a lag the broker did not give) is left out."""

    def __init__(
        self,
        ledighed: Ledighed,
        status: Callable[[], dict[str, Any]] | None,
        roles: Sequence[str] = (),
    ) -> None:
        self.ledighed, self.status, self.roles = ledighed, status, roles

    def collect(self) -> Iterator[Metric]:
        counts = self.ledighed.counts(self.roles)
        open_letters = GaugeMetricFamily(
            "ledighed_dead_letters_open",
            "dead letters not yet resolved, by source: the inbound topic, http:ROLE, file, tick",
            labels=["source"],
        )
        for source, count in counts["open_by_source"].items():
            open_letters.add_metric([source], count)
        yield open_letters
        yield GaugeMetricFamily(
            "ledighed_dead_letters", "rejected messages kept", value=counts["dead_letters"]
        )
        yield CounterMetricFamily(
            "ledighed_events_stored", "events in the log (its head)", value=counts["log_head"]
        )
        yield CounterMetricFamily(
            "ledighed_handovers_published",
            "handover messages the broker acknowledged",
            value=counts["handovers_published"],
        )
        status = self.status() if self.status else {}
        if status.get("consumer_lag") is not None:
            yield GaugeMetricFamily(
                "ledighed_consumer_lag",
                "records behind the end of the inbound partitions this instance holds",
                value=status["consumer_lag"],
            )
        if "partitions_assigned" in status:
            yield GaugeMetricFamily(
                "ledighed_consumer_partitions_assigned",
                "inbound partitions this instance holds",
                value=status["partitions_assigned"],
            )
            yield GaugeMetricFamily(
                "ledighed_service_stalled",
                "1 when records wait and nothing was applied for a minute (/health says why)",
                value=int(service_state(status) == "stalled"),
            )
        if "handovers_refused" in status:
            yield CounterMetricFamily(
                "ledighed_handovers_refused",
                "outbox rows not sent since start: not what their handover event makes",
                value=status["handovers_refused"],
            )
        if "applied" in status:
            messages = CounterMetricFamily(
                "ledighed_service_messages",
                "inbound messages this process applied since it started, by outcome",
                labels=["outcome"],
            )
            for outcome, key in (
                ("accepted", "accepted"),
                ("duplicate", "duplicates"),
                ("rejected", "rejected"),
            ):
                messages.add_metric([outcome], status.get(key, 0))
            yield messages


def metrics_registry(
    ledighed: Ledighed, status: Callable[[], dict[str, Any]] | None, roles: Sequence[str]
) -> CollectorRegistry:
    """/metrics' registry: the service's numbers and prometheus_client's default process,
    platform (Python) and garbage-collector collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Metrics(ledighed, status, roles))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the contract's message models as the body of POST /messages."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema = TypeAdapter(InboundMessage).json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(schema.pop("$defs", {}))
        components["InboundMessage"] = schema
        app.openapi_schema = document
    return app.openapi_schema
