"""The pages' sessions: a signed, expiring cookie naming the token's holder, and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from infra.http.api_auth import Principal, Tokens

COOKIE = "ledighed_ui"
LOGIN_COOKIE = "ledighed_ui_login"  # the login form's CSRF nonce, before there is a session
PATH = "/ui"
SIGN_IN_ROLES = ("adviser", "auditor")


@dataclass(frozen=True)
class UiPrincipal(Principal):
    """A token's holder signed in on the pages: what it posts and reads is `ui:ROLE:NAME`."""

    @property
    def source_topic(self) -> str:
        return f"ui:{self.role}" + (f":{self.name}" if self.name != self.role else "")


@dataclass(frozen=True)
class Session:
    sid: str
    principal: UiPrincipal


def fingerprint(token: str) -> str:
    """What the cookie keeps of the token: a hash, so that the cookie never carries the token,
    and a session ends when its token is taken out of LEDIGHED_API_TOKENS."""
    return hashlib.sha256(b"ledighed-ui:" + token.encode()).hexdigest()[:32]


class Sessions:
    """Signs and checks session cookies with `key` (random per process when none is given);
    remembers signed-out sessions until they would have expired."""

    def __init__(self, tokens: Tokens, key: str | None, hours: float) -> None:
        self.tokens = tokens
        self.key = (key or secrets.token_urlsafe(32)).encode()
        self.max_age_s = int(hours * 3600)
        self.serializer = URLSafeTimedSerializer(self.key, salt="ledighed-ui-session")
        self.ended: dict[str, float] = {}  # sid -> when its cookie would have expired
        self.lock = threading.Lock()

    def start(self, principal: Principal) -> tuple[str, str]:
        """A new session for the principal: its id and the cookie's value."""
        sid = secrets.token_urlsafe(16)
        value = self.serializer.dumps(
            {"sid": sid, "fp": fingerprint(principal.token), "role": principal.role}
        )
        return sid, value

    def find(self, cookie: str | None) -> Session | None:
        """The session the cookie names: signed by this key, not expired, not signed out, its
        token still configured (in the same role); else None."""
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired included
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        with self.lock:
            if data["sid"] in self.ended:
                return None
        found = None
        for p in self.tokens.principals:  # every one compared, in constant time each
            if hmac.compare_digest(fingerprint(p.token), str(data.get("fp"))):
                found = p
        if found is None or found.role != data.get("role") or found.role not in SIGN_IN_ROLES:
            return None
        principal = UiPrincipal(found.token, found.role, found.name, found.municipalities)
        return Session(data["sid"], principal)

    def end(self, sid: str) -> None:
        """Sign the session out: its cookie is refused from now on, also if kept elsewhere."""
        now = time.time()
        with self.lock:
            self.ended = {s: until for s, until in self.ended.items() if until > now}
            self.ended[sid] = now + self.max_age_s

    def csrf(self, sid: str) -> str:
        """The CSRF token of the session's forms (or of a login form's nonce)."""
        return hmac.new(self.key, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str | None, given: str | None) -> bool:
        if not sid or not given:
            return False
        return hmac.compare_digest(self.csrf(sid), given)
