"""The HTTP API's bearer tokens and roles: who may read what and post which messages."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


@dataclass(frozen=True)
class Principal:
    """The holder of a token: a role, and a name for the audit trail (the role if none)."""

    token: str
    role: str
    name: str

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
            if not sep or not token or role not in ROLES:
                raise ValueError(
                    f"{origin} line {number}: {entry.split('=')[0][:4]}…: expected "
                    f"token=role or token=role:name, role one of {', '.join(ROLES)}"
                )
            principals.append(Principal(token, role, name or role))
    return principals


def load_tokens(api_tokens: str, api_tokens_file: str | None) -> list[Principal]:
    """The configured tokens: LEDIGHED_API_TOKENS and the file LEDIGHED_API_TOKENS_FILE names."""
    principals = parse_tokens(api_tokens)
    if api_tokens_file:
        path = Path(api_tokens_file)
        principals += parse_tokens(path.read_text(encoding="utf-8"), str(path))
    return principals


class Tokens:
    """The configured tokens, compared in constant time (every token is compared)."""

    def __init__(self, principals: Iterable[Principal]) -> None:
        self.principals = list(principals)

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
        if principal.role not in roles:
            raise HTTPException(403, f"the role {principal.role!r} may not do this")
        return principal

    return dependency


def may_post(principal: Principal, kind: object, channel: object) -> bool:
    """Whether the principal may post a message of this type (and holiday channel)."""
    if principal.role == "system":
        return True
    if principal.role != "adviser" or kind not in ADVISER_MESSAGES:
        return False
    return not (kind == "holiday_requested" and channel == "jobnet")
