"""The HTTP API's bearer tokens and roles: who may read what and post which messages."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.messages import BaseMessage, HolidayRequested
from domain.municipalities import is_danish
from infra.http.api_limits import RateLimiter, retry_after

ROLES = ("adviser", "auditor", "jobcenter", "system")

ADVISER_MESSAGES = frozenset(
    {
        "adviser_assigned",
        "meeting_booked",
        "meeting_held",
        "extra_meetings_agreed",
        "profile_assessed",
        "opted_out",
        "holiday_requested",  # by message or phone only; by jobnet it is the system's
        "holiday_decided",
        "less_intensive_requested",
    }
)
"""The message types an adviser may post; every other type (jobnet's, the membership and
payment systems', the address registry's, the jobcenter's) needs the `system` role."""


EVERY_MUNICIPALITY = "*"


@dataclass(frozen=True)
class Principal:
    """The holder of a token: a role, and a name for the audit trail (the role if none); a
    jobcenter's token also names the municipalities whose handovers it may read (None:
    every one, asked for as `jobcenter:*`)."""

    token: str
    role: str
    name: str
    municipalities: frozenset[int] | None = None

    @property
    def source_topic(self) -> str:
        """Where a posted message or a recorded read came from, e.g. `http:adviser:anna`."""
        return f"http:{self.role}" + (f":{self.name}" if self.name != self.role else "")


def parse_tokens(text: str, origin: str = "LEDIGHED_API_TOKENS") -> list[Principal]:
    """`token=role` or `token=role:name` entries, separated by commas or new lines; blank
    entries and lines starting with # are skipped."""
    principals = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("#"):
            continue
        for entry in filter(None, (part.strip() for part in line.split(","))):
            token, sep, rest = entry.partition("=")
            role, _, name = rest.partition(":")
            token, role, name = token.strip(), role.strip(), name.strip()
            where = f"{origin} line {number}: {entry.split('=')[0][:4]}…"
            if not sep or not token or role not in ROLES:
                raise ValueError(
                    f"{where}: expected token=role or token=role:name, "
                    f"role one of {', '.join(ROLES)}"
                )
            if role == "jobcenter":
                principals.append(_jobcenter(token, name, where))
            else:
                principals.append(Principal(token, role, name or role))
    return principals


def _jobcenter(token: str, rest: str, where: str) -> Principal:
    """`jobcenter:751`, `jobcenter:751+730`, `jobcenter:*`, each with an optional `:name`."""
    codes_text, _, name = rest.partition(":")
    codes_text, name = codes_text.strip(), name.strip()
    if codes_text == EVERY_MUNICIPALITY:
        return Principal(token, "jobcenter", name or "every-municipality", None)
    codes = [code.strip() for code in codes_text.split("+")]
    if not codes_text or not all(code.isdigit() and is_danish(int(code)) for code in codes):
        raise ValueError(
            f"{where}: a jobcenter token names its municipality codes, e.g. jobcenter:751 or "
            f"jobcenter:751+730 (jobcenter:* for every municipality), not {rest or 'none'!r}"
        )
    municipalities = frozenset(int(code) for code in codes)
    return Principal(token, "jobcenter", name or codes_text, municipalities)


def load_tokens(api_tokens: str, api_tokens_file: str | None) -> list[Principal]:
    """The configured tokens: LEDIGHED_API_TOKENS and the file LEDIGHED_API_TOKENS_FILE names."""
    principals = parse_tokens(api_tokens)
    if api_tokens_file:
        path = Path(api_tokens_file)
        principals += parse_tokens(path.read_text(encoding="utf-8"), str(path))
    return principals


class Tokens:
    """The configured tokens, compared in constant time (every token is compared), and the
    rate limit each token's requests are held to (none without one)."""

    def __init__(self, principals: Iterable[Principal], limiter: RateLimiter | None = None) -> None:
        self.principals = list(principals)
        self.limiter = limiter

    def find(self, given: str) -> Principal | None:
        found = None
        given_bytes = given.encode()
        for principal in self.principals:
            if hmac.compare_digest(given_bytes, principal.token.encode()):
                found = principal
        return found


bearer = HTTPBearer(auto_error=False, description="a token from LEDIGHED_API_TOKENS")


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = "Bearer" + (f' error="{error}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def requires(tokens: Tokens, *roles: str) -> Callable[..., Principal]:
    """A dependency: the caller's principal, 401 without a known token, 403 in another role."""

    def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise _unauthorized("a bearer token is required")
        principal = tokens.find(credentials.credentials)
        if principal is None:
            raise _unauthorized("the token is not known", "invalid_token")
        wait_s = tokens.limiter.take(principal.token) if tokens.limiter else 0.0
        if wait_s:
            headers = {"Retry-After": retry_after(wait_s)}
            raise HTTPException(429, "too many requests for this token", headers=headers)
        if principal.role not in roles:
            raise HTTPException(403, f"the role {principal.role!r} may not do this")
        return principal

    return dependency


def may_post(principal: Principal, message: BaseMessage) -> bool:
    """Whether the principal may post this message, judged on the parsed and validated
    message (its type, and a holiday request's channel), never on a first look at the body."""
    if principal.role == "system":
        return True
    if principal.role != "adviser" or message.type not in ADVISER_MESSAGES:
        return False
    return not (isinstance(message, HolidayRequested) and message.channel == "jobnet")


def visible_handovers(
    principal: Principal, feed: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The feed as this principal may read it: a jobcenter's own municipalities' handovers,
    and the one message that replaces one of those with another jobcenter's (the case moved
    away), so that no jobcenter keeps a handover that is no longer live. The revisions
    after that one are the new jobcenter's business, not the old one's (issue 26)."""
    if principal.role != "jobcenter" or principal.municipalities is None:
        return list(feed)
    own: set[str] = set()
    visible = []
    for message in feed:  # oldest first: a replacement comes after what it replaces
        if message["jobcenter_municipality_code"] in principal.municipalities:
            own.add(message["message_id"])
            visible.append(message)
        elif message["replaces"] in own:
            visible.append(message)
    return visible
