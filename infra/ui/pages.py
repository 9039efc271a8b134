"""The adviser's and auditor's pages under /ui/: signing in, the worklist, a case, its forms."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from domain.cpr import normalize_cpr
from domain.params import HOURS_THRESHOLD, PROGRAMME_END
from infra.application import Ledighed
from infra.http.api_limits import retry_after
from infra.http.api_records import ReadRecorder
from infra.http.posting import Outcome as Posted
from infra.http.posting import post
from infra.settings import Settings
from infra.ui import explained as explained_words
from infra.ui import forms, outcomes, words
from infra.ui import worklist as worklist_view
from infra.ui.render import FormError, page, parse_day, read_form, redirect
from infra.ui.session import COOKIE, LOGIN_COOKIE, PATH, SIGN_IN_ROLES, Session, Sessions

REFUSED_ROLES = {
    "jobcenter": "Et jobcenters token giver adgang til overdragelserne gennem API'et "
    "(GET /handovers), ikke til sagsbehandlingens sider.",
    "system": "Et systemtoken er til at sende beskeder gennem API'et (POST /messages), "
    "ikke til at logge ind på sagsbehandlingens sider.",
}


@dataclass
class Ui:
    """What the pages need: the application, the tokens' sessions, the API's read recorder
    and its write lock (one writer at a time in the process)."""

    settings: Settings
    ledighed: Ledighed
    sessions: Sessions
    recorder: ReadRecorder
    writing: threading.Lock


def router(ui: Ui) -> APIRouter:
    pages = APIRouter(prefix=PATH, include_in_schema=False)
    sessions = ui.sessions
    posted = outcomes.Outcomes()

    def signed_in(request: Request) -> Session | None:
        return sessions.find(request.cookies.get(COOKIE))

    def to_login(request: Request) -> Response:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PATH}/login?" + urlencode({"next": path}))

    def too_many(session: Session) -> Response | None:
        limiter = sessions.tokens.limiter
        wait_s = limiter.take(session.principal.token) if limiter else 0.0
        if not wait_s:
            return None
        response = problem(429, "For mange forespørgsler", "Vent et øjeblik og prøv igen.")
        response.headers["Retry-After"] = retry_after(wait_s)
        return response

    def problem(status: int, title: str, text: str, session: Session | None = None) -> Response:
        return page("problem.html", status, title=title, text=text, **chrome(session))

    def chrome(session: Session | None) -> dict[str, Any]:
        """What every page's header shows: who is signed in, the sign-out form's token, and
        the day the server lives on (its clock: `LEDIGHED_TODAY` or the machine's date),
        past the programme end or not (a message posted then ends its case by R16)."""
        today = ui.ledighed.today()
        day = {"server_day": today.isoformat(), "past_end": today > PROGRAMME_END}
        if session is None:
            return {"who": None, "csrf": "", **day}
        return {"who": session.principal, "csrf": sessions.csrf(session.sid), **day}

    # --- signing in and out --------------------------------------------------------------

    def login_form(status: int = 200, error: str | None = None, next_: str = "") -> Response:
        nonce = secrets.token_urlsafe(16)
        response = page(
            "login.html",
            status,
            error=error,
            next=next_ if _safe_next(next_) else "",
            login_csrf=sessions.csrf("login:" + nonce),
            **chrome(None),
        )
        response.set_cookie(
            LOGIN_COOKIE, nonce, max_age=3600, path=PATH, httponly=True, samesite="strict"
        )
        return response

    @pages.get("")
    @pages.get("/")
    def home() -> Response:
        return redirect(f"{PATH}/worklist")

    @pages.get("/login")
    def login(next: str = "") -> Response:
        return login_form(next_=next)

    @pages.post("/login")
    async def sign_in(request: Request) -> Response:
        try:
            form = await read_form(request, ui.settings.api_max_body_bytes)
        except FormError as error:
            return problem(error.status, "Formularen kunne ikke læses", str(error))
        nonce = request.cookies.get(LOGIN_COOKIE)
        if not nonce or not sessions.csrf_ok("login:" + nonce, form.get("csrf")):
            return problem(403, "Formularen er udløbet", "Hent login-siden igen og log ind derfra.")
        principal = sessions.tokens.find(form.get("token", "").strip())
        if principal is None:
            return login_form(401, "Ukendt token.", form.get("next", ""))
        if principal.role not in SIGN_IN_ROLES:
            why = REFUSED_ROLES.get(principal.role, "Denne rolle kan ikke logge ind her.")
            return page("refused.html", 403, role=principal.role, why=why, **chrome(None))
        _, value = sessions.start(principal)
        next_ = form.get("next", "")
        response = redirect(next_ if _safe_next(next_) else f"{PATH}/worklist")
        response.set_cookie(
            COOKIE,
            value,
            max_age=sessions.max_age_s,
            path=PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_COOKIE, path=PATH)
        return response

    @pages.post("/logout")
    async def sign_out(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return redirect(f"{PATH}/login")
        try:
            form = await read_form(request, ui.settings.api_max_body_bytes)
        except FormError as error:
            return problem(error.status, "Formularen kunne ikke læses", str(error), session)
        if not sessions.csrf_ok(session.sid, form.get("csrf")):
            return problem(403, "Afvist", "Formularen mangler et gyldigt CSRF-token.", session)
        sessions.end(session.sid)
        response = redirect(f"{PATH}/login")
        response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
        return response

    # --- the worklist --------------------------------------------------------------------

    @pages.get("/worklist")
    def worklist(request: Request, as_of: str | None = None, adviser: str | None = None) -> Any:
        session = signed_in(request)
        if session is None:
            return to_login(request)
        if limited := too_many(session):
            return limited
        who = session.principal
        try:
            day = parse_day(as_of, ui.ledighed.today())
        except ValueError as error:
            return problem(422, "Ugyldig dato", str(error), session)
        # An adviser's own tasks unless asked otherwise; `adviser=` or `*`: everyone's. The
        # name is matched to the advisers the store knows, whatever its case.
        if adviser is None:
            asked = who.name if who.role == "adviser" else None
        else:
            asked = None if adviser.strip() in ("", "*") else adviser.strip()
        known = ui.ledighed.worklist_advisers()
        only = next((a for a in known if a.casefold() == (asked or "").casefold()), None)
        unknown = asked if asked is not None and only is None else None
        rows = [] if unknown else ui.ledighed.worklist_shown(day, only)
        chosen = worklist_view.Filter.of(request.query_params)
        view = worklist_view.shown(rows, chosen)
        ui.recorder.access(
            who, "worklist", view.members, len(view.rows), as_of=day, adviser=only, page="ui",
            **chosen.query(), **({"side": str(view.page)} if view.page > 1 else {}),
        )  # fmt: skip
        base = {"as_of": day.isoformat(), "adviser": only or "*", **chosen.query()}
        return page(
            "worklist.html",
            day=day.isoformat(),
            adviser=only,
            unknown=unknown,
            advisers=known,
            view=view,
            chosen=chosen,
            sorts=list(worklist_view.SORTS),
            link=lambda **more: f"{PATH}/worklist?" + urlencode({**base, **more}),
            **chrome(session),
        )

    # --- finding a member ----------------------------------------------------------------

    @pages.get("/cases")
    def find(request: Request, cpr: str = "", as_of: str | None = None) -> Any:
        """The search field's answer: the member's case, or a page saying there is none."""
        session = signed_in(request)
        if session is None:
            return to_login(request)
        if limited := too_many(session):
            return limited
        try:
            day = parse_day(as_of, ui.ledighed.today())
        except ValueError as error:
            return problem(422, "Ugyldig dato", str(error), session)
        try:
            cpr = normalize_cpr(cpr.strip())
        except ValueError:
            return problem(422, "Ugyldigt CPR-nummer", words.cpr_error(cpr), session)
        if ui.ledighed.member_id(cpr) is None:
            return problem(404, "Ingen sag", words.no_member(cpr), session)
        return redirect(f"{PATH}/cases/{quote(cpr)}?" + urlencode({"as_of": day.isoformat()}))

    # --- a case, and what an adviser does to it -------------------------------------------

    @pages.get("/cases/{cpr}")
    def case(
        request: Request, cpr: str, as_of: str | None = None, utfald: str | None = None
    ) -> Any:
        session = signed_in(request)
        if session is None:
            return to_login(request)
        if limited := too_many(session):
            return limited
        try:
            day = parse_day(as_of, ui.ledighed.today())
        except ValueError as error:
            return problem(422, "Ugyldig dato", str(error), session)
        return case_page(session, cpr, day, outcome=posted.find(session.sid, utfald))

    def case_page(
        session: Session,
        cpr: str,
        day: date,
        outcome: outcomes.Outcome | None = None,
    ) -> Response:
        """The case as of the day, with a post's outcome at the top if there is one."""
        who = session.principal
        try:
            cpr = normalize_cpr(cpr)
        except ValueError:
            return problem(422, "Ugyldigt CPR-nummer", words.cpr_error(cpr), session)
        member_id = ui.ledighed.member_id(cpr)
        cases = ui.ledighed.cases(cpr, day) if member_id else []
        if member_id is None or not cases:
            return problem(404, "Ingen sag", f"{cpr} har ingen sag pr. {day}.", session)
        shown = cases[-1]
        failed = outcome.failed if outcome else {}
        # Forms only where the rules take them: a case in the trial (an ended case, one
        # outside the trial or in its notice period refuses what they send).
        adviser = who.role == "adviser"
        actionable = adviser and shown["status"] == "in_trial"
        auditor = who.role == "auditor"
        svg = ui.ledighed.timeline_svg(cpr, day, say=words.TIMELINE)
        explained = ui.ledighed.explain(cpr, day) if auditor else None
        history = ui.ledighed.history(cpr, day) if auditor else None
        what = "case,timeline,explain,history" if auditor else "case,timeline"
        ui.recorder.case_read(who, member_id, what, as_of=day, page="ui")
        context = {
            "case": shown,
            "earlier_cases": len(cases) - 1,
            "cpr": cpr,
            "day": day.isoformat(),
            "threshold": str(HOURS_THRESHOLD[shown["insurance"]]),
            "counted": ui.ledighed.hours_counted(cpr, day) if shown["exit"] else None,
            "handovers": ui.ledighed.latest_case_handovers(cpr, day),
            "timeline": svg,
            "explained": explained,
            "case_as_of": {**shown, "as_of": day.isoformat()},
            "because": explained_words.because,
            "history": history,
            "outcome": outcome,
            "failed": failed,
            "adviser": adviser,
            "forms": actionable,
            "ids": _form_ids(failed),
            "kinds": list(forms.MEETING_KINDS),
            "ends_trial": forms.ENDS_TRIAL,
        }
        return page("case.html", **context, **chrome(session))

    @pages.post("/cases/{cpr}/messages")
    async def act(request: Request, cpr: str) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login(request)
        if limited := too_many(session):
            return limited
        try:
            form = await read_form(request, ui.settings.api_max_body_bytes)
        except FormError as error:
            return problem(error.status, "Formularen kunne ikke læses", str(error), session)
        if not sessions.csrf_ok(session.sid, form.get("csrf")):
            return problem(
                403, "Afvist", "Formularen mangler et gyldigt CSRF-token: intet er gemt.", session
            )
        if session.principal.role != "adviser":
            return problem(403, "Afvist", "Kun rådgivere kan handle på en sag.", session)
        try:
            day = parse_day(form.get("as_of"), ui.ledighed.today())
            cpr = normalize_cpr(cpr)
            type_, body = forms.message_body(form, cpr)
        except ValueError as error:
            return problem(422, "Formularen kunne ikke læses", str(error), session)
        past_end = ui.ledighed.today() > PROGRAMME_END
        if (type_ in forms.ENDS_TRIAL or past_end) and form.get("confirm") != forms.CONFIRMED:
            return confirm_page(session, cpr, day, type_, form, past_end)
        outcome = await run_in_threadpool(
            post, ui.ledighed, ui.writing, session.principal, body
        )
        if outcome.forbidden:
            refusal = f"rollen {session.principal.role!r} må ikke sende en "
            return problem(403, "Afvist", f"{refusal}{outcome.forbidden_type!r}-besked", session)
        if outcome.accepted:
            said = await run_in_threadpool(described, cpr, day, type_, form, outcome)
        else:
            said = outcomes.refused(form, type_, outcome)
        key = posted.add(session.sid, said)
        query = {"as_of": day.isoformat(), "sendt": said.message_id, "utfald": key}
        return redirect(f"{PATH}/cases/{quote(cpr)}?{urlencode(query)}")

    def described(
        cpr: str, day: date, type_: str, form: dict[str, str], outcome: Posted
    ) -> outcomes.Outcome:
        """An accepted message's outcome, from the events its message id recorded and the
        case on its day (or the day viewed, if later)."""
        message_id = form.get("message_id", "")
        events = [
            e
            for e in ui.ledighed.history(cpr)
            if (e.get("source") or {}).get("message_id") == message_id
        ]
        try:
            on = max(day, parse_day(form.get(forms.DAY_FIELD[type_]), day))
        except ValueError:
            on = day
        cases = ui.ledighed.cases(cpr, on)
        return outcomes.accepted(form, type_, outcome, events, cases[-1] if cases else None)

    def confirm_page(
        session: Session,
        cpr: str,
        day: date,
        type_: str,
        form: dict[str, str],
        past_end: bool,
    ) -> Response:
        """A message that ends the trial is sent only once confirmed: this page sends the
        same form again with `confirm=yes` (no script needed); nothing is stored before."""
        reasons = [words.CONFIRM[type_]] if type_ in words.CONFIRM else []
        if past_end:
            reasons.append(words.PAST_END_CONFIRM)
        fields = {k: v for k, v in form.items() if k != "confirm"}
        return page(
            "confirm.html",
            cpr=cpr,
            day=day.isoformat(),
            type=type_,
            reasons=reasons,
            fields=fields,
            confirmed=forms.CONFIRMED,
            **chrome(session),
        )

    return pages


def _safe_next(path: str) -> bool:
    """Only a page of this site's /ui/ (never another site: no `//host`, no scheme)."""
    return path.startswith(f"{PATH}/") and not path.startswith("//") and "\\" not in path


class _Ids(dict[str, str]):
    """Form message ids, each made when first asked for."""

    def __missing__(self, key: str) -> str:
        self[key] = forms.new_message_id()
        return self[key]


def _form_ids(failed: dict[str, Any] | None) -> dict[str, str]:
    """A message id for each form as it is drawn (a refused form keeps its own, so that it
    can be sent again corrected); holiday decisions get theirs by request id."""
    ids = _Ids()
    if failed:
        key = failed["type"]
        if key == "holiday_decided":
            key = f"holiday_decided:{failed.get('request_id')}"
        ids[key] = failed["message_id"]
    return ids

