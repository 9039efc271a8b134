"""The HTTP API (FastAPI): the command line's reads and the contract's messages, by role."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from domain import outbound
from domain.cpr import CPR_PATTERN, normalize_cpr
from domain.message_fields import MOMENT_PATTERN, IsoDate
from infra import bootstrap as compose
from infra.application import Ledighed
from infra.http import posting
from infra.http.api_auth import (
    ROLES,
    Principal,
    Tokens,
    load_tokens,
    requires,
    visible_handovers,
)
from infra.http.api_body import check_content_type, read_limited, strict_text
from infra.http.api_docs import install_offline_docs
from infra.http.api_headers import NoStore
from infra.http.api_limits import RateLimiter
from infra.http.api_records import ReadRecorder
from infra.http.api_support import (
    AFTER,
    BODY_ERRORS,
    ERRORS,
    LIMIT,
    MAX_INT64,
    MESSAGE_BODY,
    SVG,
    AsOf,
    CprPath,
    Invalid,
    KnownAt,
    Posted,
    closed_query,
    install_error_handlers,
    metrics_registry,
    moment,
    openapi,
    service_state,
)
from infra.settings import Settings
from infra.ui import install_ui

# A dead letter's id is a 64-bit integer in both stores: a larger one is a 422, not a 500.
LetterId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
# In the path only digits (`{letter_id:int}`), so that /dead-letters/retry is never read as
# an id: a GET there is a 405 naming POST, as the document says.
LetterPath = Annotated[int, Path(ge=0, le=2**63 - 1, description="the dead letter's id")]


def create_app(
    settings: Settings,
    application: Ledighed | Any = None,
    service_status: Callable[[], dict[str, Any]] | None = None,
) -> FastAPI:
    """The API over `application` (one of its own on settings.db_url if none; a store a
    test opened is put under an application by the composition root); `service_status`
    gives the running service's live numbers (consumer lag) to /health and /metrics."""
    limiter = RateLimiter(settings.api_rate_per_s, settings.api_rate_burst)
    tokens = Tokens(load_tokens(settings.api_tokens, settings.api_tokens_file), limiter)
    own_store = application is None
    ledighed = (
        application
        if isinstance(application, Ledighed)
        else compose.application(settings, application)
    )
    writing = threading.Lock()  # posted messages and recorded reads: one at a time
    recorder = ReadRecorder(ledighed, writing)
    record_access, record_read = recorder.access, recorder.case_read

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own_store:
            ledighed.close()

    app = FastAPI(
        title="ledighed",
        version="0.1.0",
        description="The case engine's reads and inbound messages over HTTP (README: HTTP API). "
        "Bearer tokens from LEDIGHED_API_TOKENS; roles adviser, auditor, jobcenter, system.",
        lifespan=lifespan,
        docs_url=None,  # served below from the package's own files, not a CDN
        dependencies=[Depends(closed_query)],
    )
    install_error_handlers(app)
    install_offline_docs(app)
    app.add_middleware(NoStore)
    reader = Depends(requires(tokens, "adviser", "auditor"))
    auditor = Depends(requires(tokens, "auditor"))
    feed_reader = Depends(requires(tokens, "jobcenter", "auditor"))
    poster = Depends(requires(tokens, "adviser", "system"))
    operator = Depends(requires(tokens, "system", "auditor"))
    system = Depends(requires(tokens, "system"))

    def member_of(cpr: str, who: Principal, what: str) -> tuple[str, UUID]:
        """The member behind a CPR; a CPR that names no member is a 404, and the miss is in
        the access log too (with no CPR), so that probing for members leaves a trace."""
        try:
            cpr = normalize_cpr(cpr)
        except ValueError as error:
            raise Invalid(str(error), "cpr") from None
        member_id = ledighed.member_id(cpr)
        if member_id is None:
            record_access(who, what, [], 0, found="no member")
            raise HTTPException(404, f"no member {cpr}")
        return cpr, member_id

    def no_case(
        cpr: str, member_id: UUID, day: date | None, who: Principal, what: str
    ) -> HTTPException:
        """A member with no case on the day: a 404, recorded against the member."""
        record_access(who, what, [member_id], 0, as_of=day, found="no case")
        return HTTPException(404, f"no case for {cpr} as of {day or ledighed.today()}")

    @app.get(
        "/cases/{cpr}",
        tags=["cases"],
        response_model=None,
        responses={200: {"model": outbound.CaseObject | list[outbound.CaseObject]}, **ERRORS},
    )
    def case(
        cpr: CprPath,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        every: Annotated[bool, Query(alias="all", description="every case, oldest first")] = False,
        who: Principal = reader,
    ) -> Any:
        """The member's latest case as of a day (`ledighed case CPR --json`; 404: none yet)."""
        cpr, member_id = member_of(cpr, who, "case")
        cases = ledighed.cases(cpr, as_of or ledighed.today(), moment(known_at))
        if not cases:
            raise no_case(cpr, member_id, as_of, who, "case")
        record_read(who, member_id, "case", as_of=as_of, known_at=known_at, all=every)
        return JSONResponse(cases if every else cases[-1])

    @app.get(
        "/cases/{cpr}/history",
        tags=["cases"],
        response_model=None,
        responses={200: {"model": list[outbound.HistoryItem]}, **ERRORS},
    )
    def history(
        cpr: CprPath, as_of: AsOf = None, known_at: KnownAt = None, who: Principal = auditor
    ) -> Any:
        """The member's audit trail, reads included (`ledighed history CPR --json`)."""
        cpr, member_id = member_of(cpr, who, "history")
        rows = ledighed.history(cpr, as_of, moment(known_at))
        record_read(who, member_id, "history", as_of=as_of, known_at=known_at)
        return JSONResponse(rows)

    @app.get("/cases/{cpr}/explain", tags=["cases"], response_model=None, responses=ERRORS)
    def explain(
        cpr: CprPath, as_of: AsOf = None, known_at: KnownAt = None, who: Principal = auditor
    ) -> Any:
        """Why the case stands as it does on the day (`ledighed explain CPR --json`)."""
        cpr, member_id = member_of(cpr, who, "explain")
        explained = ledighed.explain(cpr, as_of or ledighed.today(), moment(known_at))
        if explained is None:
            raise no_case(cpr, member_id, as_of, who, "explain")
        record_read(who, member_id, "explain", as_of=as_of, known_at=known_at)
        return JSONResponse(explained)

    @app.get(
        "/cases/{cpr}/timeline.svg",
        tags=["cases"],
        response_class=Response,
        responses={**SVG, **ERRORS},
    )
    def timeline(
        cpr: CprPath, as_of: AsOf = None, known_at: KnownAt = None, who: Principal = reader
    ) -> Response:
        """The case's timeline as an SVG picture."""
        cpr, member_id = member_of(cpr, who, "timeline")
        svg = ledighed.timeline_svg(cpr, as_of or ledighed.today(), moment(known_at))
        if svg is None:
            raise no_case(cpr, member_id, as_of, who, "timeline")
        record_read(who, member_id, "timeline", as_of=as_of, known_at=known_at)
        return Response(svg, media_type="image/svg+xml")

    @app.get(
        "/worklist",
        tags=["worklist"],
        response_model=None,
        responses={200: {"model": list[outbound.WorklistItem]}, **ERRORS},
    )
    def worklist(
        as_of: AsOf = None,
        known_at: KnownAt = None,
        adviser: Annotated[str | None, Query(description="only this adviser's cases")] = None,
        who: Principal = reader,
    ) -> Any:
        """Open tasks on the day, oldest due first (`ledighed worklist --json`)."""
        day = as_of or ledighed.today()
        rows = ledighed.worklist_of_members(day, adviser or None, moment(known_at))
        record_access(
            who,
            "worklist",
            (member for member, _ in rows),
            len(rows),
            as_of=as_of,
            known_at=known_at,
            adviser=adviser,
        )
        return JSONResponse([row for _, row in rows])

    @app.get(
        "/handovers",
        tags=["handovers"],
        response_model=None,
        responses={200: {"model": list[outbound.HandoverMessage]}, **ERRORS},
    )
    def handovers(
        as_of: AsOf = None,
        known_at: KnownAt = None,
        after: Annotated[int, Query(ge=0, le=MAX_INT64, description=AFTER)] = 0,
        limit: Annotated[int | None, Query(ge=1, le=MAX_INT64, description=LIMIT)] = None,
        who: Principal = feed_reader,
    ) -> Any:
        """The handover feed as published, oldest first (`ledighed handovers --json`), a page
        at a time: `after` counts the messages read already. A jobcenter reads its own
        municipalities' handovers (and what replaces them), and pages through those."""
        feed = ledighed.handovers_of_members(moment(known_at))
        member_of = {message["message_id"]: member for member, message in feed}
        rows = visible_handovers(who, [message for _, message in feed])
        if as_of is not None:
            rows = [r for r in rows if r["effective_on"] <= as_of.isoformat()]
        page = rows[after : after + min(limit or settings.api_max_page, settings.api_max_page)]
        record_access(
            who,
            "handovers",
            (member_of[message["message_id"]] for message in page),
            len(page),
            as_of=as_of,
            known_at=known_at,
            after=after,
            limit=limit,
        )
        headers = {"X-Next-After": str(after + len(page)), "X-Feed-Length": str(len(rows))}
        return JSONResponse(page, headers=headers)

    @app.get("/access-log", tags=["audit"], response_model=None, responses=ERRORS)
    def access_log_entries(
        cpr: Annotated[
            str | None, Query(pattern=CPR_PATTERN, description="only reads of this member")
        ] = None,
        reader: Annotated[str | None, Query(description="only this reader's (a name)")] = None,
        since: Annotated[
            str | None,
            Query(pattern=MOMENT_PATTERN, description="from this moment (a day: its start)"),
        ] = None,
        until: Annotated[
            str | None,
            Query(pattern=MOMENT_PATTERN, description="to this moment (a day: its end)"),
        ] = None,
        after: Annotated[
            int, Query(ge=0, le=MAX_INT64, description="entries after this entry_id")
        ] = 0,
        limit: Annotated[int | None, Query(ge=1, le=MAX_INT64, description=LIMIT)] = None,
        who: Principal = auditor,
    ) -> Any:
        """Every recorded read of personal data, oldest first (`ledighed access-log --json`):
        who read, when, what with which parameters, and which members (ids, no CPRs)."""
        member_id = member_of(cpr, who, "access-log")[1] if cpr else None
        rows = ledighed.access_log(
            member_id=member_id,
            reader=reader,
            since=moment(since, "since", since=True),
            until=moment(until, "until"),
            after=after,
            limit=min(limit or settings.api_max_page, settings.api_max_page),
        )
        record_access(
            who,
            "access-log",
            [member_id] if member_id else [],
            len(rows),
            reader=reader,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )
        next_after = rows[-1]["entry_id"] if rows else after
        return JSONResponse(rows, headers={"X-Next-After": str(next_after)})

    @app.get("/audit/verify", tags=["audit"], responses=ERRORS)
    def audit_verify(who: Principal = auditor) -> dict[str, Any]:
        """Every case's hash chain and every registry row checked (`ledighed audit verify
        --json`); breaks listed."""
        return ledighed.verify_audit()

    @app.get("/dead-letters", tags=["dead letters"], response_model=None, responses=ERRORS)
    def dead_letter_list(
        status: Annotated[
            Literal["open", "resolved", "all"], Query(description="default: open")
        ] = "open",
        topic: Annotated[str | None, Query(description="only from this topic (or file)")] = None,
        day: Annotated[
            IsoDate | None, Query(description="only last seen on this day (UTC)")
        ] = None,
        who: Principal = operator,
    ) -> Any:
        """The rejected messages, one per content (`ledighed dead-letters --json`)."""
        members: list[UUID] = []
        rows = ledighed.dead_letters(status, topic, day, members)
        # Dead letters hold CPRs: the read is logged, by whom and of which members, so that
        # `access-log --cpr` finds it (issue 26).
        record_access(
            who, "dead-letters", members, len(rows), status=status, topic=topic, day=day
        )
        return rows

    @app.get(
        "/dead-letters/{letter_id:int}",
        tags=["dead letters"],
        response_class=Response,
        responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    )
    def dead_letter_raw(letter_id: LetterPath, who: Principal = operator) -> Response:
        """The message exactly as it came (`ledighed dead-letters show ID`)."""
        members: list[UUID] = []
        raw = ledighed.dead_letter_raw(letter_id, members)
        if raw is None:
            raise HTTPException(404, f"no dead letter {letter_id}")
        record_access(who, "dead-letter", members, 1, id=letter_id)
        return Response(raw, media_type="application/octet-stream")

    @app.post("/dead-letters/retry", tags=["dead letters"], responses=ERRORS)
    def dead_letter_retry(
        ids: Annotated[
            list[LetterId] | None,
            Query(description="these dead letters (default: every open one)"),
        ] = None,
        who: Principal = system,
    ) -> dict[str, list[int]]:
        """Apply open dead letters again (`ledighed dead-letters retry`): those that apply
        now, or whose message id a corrected copy has used, are resolved."""
        with writing:
            return ledighed.retry_dead_letters(ids)

    @app.post(
        "/messages",
        tags=["messages"],
        response_model=Posted,
        responses={**ERRORS, **BODY_ERRORS},
        openapi_extra=MESSAGE_BODY,
    )
    async def post_message(request: Request, who: Principal = poster) -> Any:
        """One inbound message of the contract, applied as the consumers apply it: 200 with
        the duplicate flag, 422 with the reason and field (kept in the dead letters); 415,
        413 or 400 for a body that is not JSON in UTF-8 within the limits, before anything
        else; 403 when the role may not post the message the body turns out to be."""
        check_content_type(request.headers.get("content-type"))
        try:
            body = await read_limited(
                request.stream(), request.headers.get("content-length"), settings.api_max_body_bytes
            )
        except ClientDisconnect:  # gone (or cut off by the read timeout): nobody to answer
            return Response(status_code=400)
        return await run_in_threadpool(post, strict_text(body, settings.api_max_depth), who)

    def post(body: str, who: Principal) -> Any:
        outcome = posting.post(ledighed, writing, who, body)
        if outcome.forbidden:  # decided on the message as it would be applied, never before
            raise HTTPException(
                403, f"the role {who.role!r} may not post this {outcome.forbidden_type!r} message"
            )
        if not outcome.accepted:  # a dead letter
            error = {"error": outcome.error, "error_field": outcome.error_field}
            return JSONResponse({**error, "message_id": outcome.message_id}, 422)
        return {
            "accepted": True,
            "duplicate": outcome.duplicate,
            "message_id": outcome.message_id,
        }

    @app.get("/health", tags=["service"])
    def health() -> Any:
        """Whether the store answers (503 when it does not); no token needed."""
        try:
            ledighed.ping()
            body: dict[str, Any] = {
                "status": "ok",
                "db": "ok",
                "events_stored": ledighed.log_head(),
            }
        except Exception as error:
            body = {"status": "error", "db": "error", "error": type(error).__name__}
            return JSONResponse(body, 503)
        if service_status is not None:
            body["service"] = service_status()
            state = service_state(body["service"])
            if state is not None:
                # Stalled: 503, so that an orchestrator notices; an instance without a
                # partition is idle, not broken (a group may hold more members than
                # partitions): 200, with the problem said.
                body["status"] = state
                if state == "stalled":
                    return JSONResponse(body, 503)
        return body

    registry = metrics_registry(ledighed, service_status, ROLES)

    @app.get("/metrics", tags=["service"], response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus metrics; no token needed."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    install_ui(app, settings, ledighed, tokens, recorder, writing)  # the pages under /ui/
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app
