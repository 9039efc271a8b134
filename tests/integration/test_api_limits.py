"""The API's body checks and limits: strict decoding before the role; size, depth, time, rate."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from domain.messages import InvalidMessage, parse_message
from infra.http.api import create_app
from infra.http.api_auth import Principal, may_post
from infra.http.api_body import nesting_depth
from infra.http.api_limits import RateLimiter
from infra.settings import Settings
from infra.store.store import Store
from tests import api_figures
from tests.integration.test_api import MOVED, NO_CASE, ingest

TOKENS = "t-adv=adviser:anna,t-aud=auditor:ida,t-job=jobcenter:751,t-sys=system:membership"
ROLE_TOKENS = {"adviser": "t-adv", "auditor": "t-aud", "jobcenter": "t-job", "system": "t-sys"}
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    api_figures.dump()


def headers(role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ROLE_TOKENS[role]}", **JSON_TYPE, **extra}


def client_for(url: str, **settings: Any) -> tuple[TestClient, Store]:
    store = Store(url)
    app = create_app(Settings(db_url=url, api_tokens=TOKENS, **settings), store)
    client = TestClient(app)
    return api_figures.counting(client, {v: k for k, v in ROLE_TOKENS.items()}), store


def deregistered(**extra: Any) -> dict[str, Any]:
    return {
        "message_id": "byp-2",
        "type": "deregistered",
        "cpr": MOVED,
        "deregistered_on": "2021-05-05",
        **extra,
    }


def jobnet_holiday() -> dict[str, Any]:
    return {
        "message_id": "byp-3",
        "type": "holiday_requested",
        "cpr": MOVED,
        "request_id": "h-9",
        "requested_on": "2021-05-01",
        "first_day": "2021-06-01",
        "last_day": "2021-06-02",
        "channel": "jobnet",
    }


def raw(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def with_bad_byte(message: dict[str, Any]) -> bytes:
    """The issue's bypass: one byte that is not UTF-8 in an extra field."""
    return raw({**message, "x": "XX"}).replace(b'"XX"', b'"\xff"')


def limit_sized(size: int) -> bytes:
    """A valid meeting_held of exactly `size` bytes (padded with spaces, which JSON allows)."""
    body = raw(
        {
            "message_id": f"size-{size}",
            "type": "meeting_held",
            "cpr": MOVED,
            "kind": "extra_job",
            "held_on": "2021-05-03",
        }
    )
    return body[:-1] + b" " * (size - len(body)) + b"}"


REFUSALS: list[tuple[str, str, bytes, dict[str, str], int]] = [
    ("adviser's deregistered, one bad byte", "adviser", with_bad_byte(deregistered()), {}, 400),
    ("system's deregistered, one bad byte", "system", with_bad_byte(deregistered()), {}, 400),
    ("adviser's jobnet holiday, one bad byte", "adviser", with_bad_byte(jobnet_holiday()), {}, 400),
    ("adviser's deregistered", "adviser", raw(deregistered()), {}, 403),
    ("adviser's jobnet holiday", "adviser", raw(jobnet_holiday()), {}, 403),
    (
        "a second type key after the adviser's",
        "adviser",
        raw(deregistered()).replace(
            b'"type": "deregistered"', b'"type": "opted_out", "type": "deregistered"'
        ),
        {},
        400,
    ),
    ("a NUL byte", "system", raw(deregistered(x="a\x00b")).replace(b"\\u0000", b"\x00"), {}, 400),
    ("an escaped NUL", "system", raw(deregistered(x="a\x00b")), {}, 400),
    (
        "half a surrogate pair",
        "system",
        raw(deregistered()).replace(b"}", b', "x": "\\ud800"}'),
        {},
        400,
    ),
    ("nested 9 deep", "system", raw(deregistered(x=[[[[[[[[1]]]]]]]])), {}, 400),
    ("nested 30000 deep", "system", b"[" * 30_000 + b"]" * 30_000, {}, 400),
    ("text/plain", "system", raw(deregistered()), {"Content-Type": "text/plain"}, 415),
    ("no content type", "system", raw(deregistered()), {"Content-Type": ""}, 415),
    (
        "latin-1",
        "system",
        raw(deregistered()),
        {"Content-Type": "application/json; charset=latin-1"},
        415,
    ),
    ("one byte over 64 KiB", "system", limit_sized(65_537), {}, 413),
    ("100 MB said", "system", b"{}", {"Content-Length": str(100 * 2**20)}, 413),
]


def test_each_refusal_comes_before_the_role_and_applies_nothing(db_url: str) -> None:
    """The issue's bypasses and every body refusal, on each store: the status, nothing applied
    (the log's head stays), no Deregistered in the member's history."""
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    client, store = client_for(db_url)
    try:
        head = store.log_head()
        for name, role, body, extra, status in REFUSALS:
            sent = headers(role, **extra)
            if sent["Content-Type"] == "":
                del sent["Content-Type"]
            response = client.post("/messages", content=body, headers=sent)
            assert response.status_code == status, (name, response.text)
            assert response.json()["error"], name
            assert store.log_head() == head, name
        history = client.get(f"/cases/{MOVED}/history", headers=headers("auditor")).json()
        assert "Deregistered" not in {row["type"] for row in history}
        # the same messages, well formed, from the system: applied
        for message in (deregistered(), jobnet_holiday()):
            response = client.post("/messages", content=raw(message), headers=headers("system"))
            assert response.status_code in (200, 422), response.text
        history = client.get(f"/cases/{MOVED}/history", headers=headers("auditor")).json()
        assert "Deregistered" in {row["type"] for row in history}
    finally:
        store.close()


def test_a_body_of_exactly_the_limit_is_taken_and_a_chunked_one_over_it_is_not(
    tmp_path: Path,
) -> None:
    """The default limit, 64 KiB: a message padded to exactly that is applied; one byte more,
    sent in chunks without a Content-Length, is refused as it arrives; a smaller setting holds."""
    url = f"sqlite:///{tmp_path}/size.db"
    ingest(url, "02_late_move_revises_handover.jsonl")
    client, store = client_for(url)
    try:
        limit = Settings().api_max_body_bytes
        taken = client.post("/messages", content=limit_sized(limit), headers=headers("adviser"))
        assert taken.status_code == 200 and taken.json()["accepted"], taken.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            body = limit_sized(limit + 1)
            yield from (body[i : i + 4096] for i in range(0, len(body), 4096))

        chunked = client.post("/messages", content=chunks(), headers=headers("adviser"))
        assert chunked.status_code == 413
    finally:
        store.close()
    small, store = client_for(url, api_max_body_bytes=4096)
    try:
        assert (
            small.post(
                "/messages", content=limit_sized(4097), headers=headers("adviser")
            ).status_code
            == 413
        )
    finally:
        store.close()


def test_nesting_depth_is_counted_outside_strings() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert nesting_depth('{"a": "\\"[[[["}') == 1
    assert nesting_depth("[]") == 1 and nesting_depth("7") == 0


# --- any body, any role: never applied unless the role may post the parsed message --------

TEMPLATES: list[dict[str, Any]] = [
    deregistered(),
    jobnet_holiday(),
    {**jobnet_holiday(), "channel": "phone"},
    {"type": "meeting_held", "cpr": MOVED, "kind": "extra_job", "held_on": "2021-05-03"},
    {
        "type": "sickness_reported",
        "cpr": MOVED,
        "sick_from": "2021-05-01",
        "reported_on": "2021-05-02",
    },
    {"type": "moved", "cpr": MOVED, "municipality_code": 101, "moved_on": "2021-05-01"},
    {"type": "hours_paid", "cpr": MOVED, "payment_id": "p", "month": "2021-05", "hours": 10},
    {"type": "opted_out", "cpr": MOVED, "decided_on": "2021-05-01", "note": "x"},
    {"type": "adviser_assigned", "cpr": MOVED, "adviser": "bo", "assigned_on": "2021-05-01"},
    {
        "type": "jobcenter_contact",
        "cpr": MOVED,
        "on": "2021-05-01",
        "about": "ordinary_job",
        "note": "n",
    },
]
JUNK = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.none(),
    st.booleans(),
    st.sampled_from(["jobnet", "phone"]),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A message of any type, perhaps changed: a field set to junk, a key repeated with
    another type, a byte put in anywhere (invalid UTF-8 among them), a byte cut."""
    message = dict(draw(st.sampled_from(TEMPLATES)))
    message["message_id"] = f"p-@@-{draw(st.integers(0, 10**9))}"  # @@: the poster's
    # NO_CASE's messages are kept in its record (so applied) whatever the rules say of them
    message["cpr"] = draw(st.sampled_from([MOVED, NO_CASE]))
    if draw(st.booleans()):
        key = draw(st.sampled_from(["channel", "type", "x", "cpr", "held_on"]))
        message[key] = draw(JUNK)
    body = json.dumps(message, ensure_ascii=draw(st.booleans())).encode()
    if draw(st.integers(0, 3)) == 0:
        other = draw(st.sampled_from(["deregistered", "holiday_requested", "meeting_held"]))
        body = body[:-1] + f', "type": "{other}"}}'.encode()
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        where = draw(st.integers(0, len(body)))
        if draw(st.booleans()):
            body = body[:where] + bytes([draw(st.integers(0, 255))]) + body[where:]
        else:
            body = body[:where] + body[where + 1 :]
    return body


def allowed(role: str, body: bytes) -> bool:
    """Whether the role may post the message this body is, judged on its own (no server)."""
    try:
        message = parse_message(body.decode("utf-8"))
    except (UnicodeDecodeError, InvalidMessage):
        return False
    return may_post(Principal("t", role, role), message)


@pytest.mark.slow
def test_for_any_body_a_role_that_may_not_post_it_never_gets_it_applied(db_url: str) -> None:
    """Each body is posted by every role (each with a message id of its own): whenever the
    log grows, the answer was 200 and the role may post the message the body is."""
    ingest(db_url, "02_late_move_revises_handover.jsonl")
    client, store = client_for(db_url, api_rate_burst=10_000)
    examples = 60 if db_url.startswith("sqlite") else 30

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(body=bodies())
    def post_it(body: bytes) -> None:
        for role in ROLE_TOKENS:
            own = body.replace(b"@@", role[:2].encode())
            head = store.log_head()
            response = client.post("/messages", content=own, headers=headers(role))
            assert response.status_code in (200, 400, 403, 413, 422), response.text
            if store.log_head() != head:  # something was applied: the role may post it
                assert response.status_code == 200 and allowed(role, own), (role, own)

    try:
        post_it()
    finally:
        store.close()


# --- pages and rates --------------------------------------------------------------------


def test_a_page_never_has_more_rows_than_the_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/page.db"
    ingest(url, "02_late_move_revises_handover.jsonl", "01_normal_full_time_aarhus.jsonl")
    client, store = client_for(url, api_max_page=1)
    try:
        for params in ({}, {"limit": 50}, {"after": 1, "limit": 1}):
            page = client.get("/handovers", params=params, headers=headers("auditor"))
            assert len(page.json()) == 1, params
            assert page.headers["X-Next-After"] == str(params.get("after", 0) + 1)
            assert int(page.headers["X-Feed-Length"]) >= 2
    finally:
        store.close()


def test_a_token_past_its_rate_gets_429_and_others_do_not(tmp_path: Path) -> None:
    client, store = client_for(
        f"sqlite:///{tmp_path}/rate.db", api_rate_burst=3, api_rate_per_s=0.01
    )
    try:
        answers = [
            client.get("/worklist", headers=headers("adviser")).status_code for _ in range(4)
        ]
        assert answers == [200, 200, 200, 429]
        refused = client.get("/worklist", headers=headers("adviser"))
        assert refused.json()["error"] and int(refused.headers["Retry-After"]) >= 1
        assert client.get("/worklist", headers=headers("auditor")).status_code == 200
    finally:
        store.close()


def test_the_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = RateLimiter(rate_per_s=2, burst=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0, 0]
    assert bucket.take("a") == pytest.approx(0.5)
    now[0] = 0.5  # one request's worth back
    assert bucket.take("a") == 0 and bucket.take("a") > 0
    now[0] = 100  # never more than the burst
    assert [bucket.take("a") for _ in range(3)][-1] > 0


# --- slow clients, on a real server ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _closed_after(conn: socket.socket, trickle: bytes, limit_s: float) -> tuple[float, bytes]:
    """Send `trickle` a byte every 0.1 s until the server closes; seconds taken, bytes got."""
    start, got = time.monotonic(), b""
    conn.settimeout(0.1)
    for byte in trickle:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            break
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        got += chunk
        if not chunk:
            break
        if time.monotonic() - start > limit_s:
            break
    return time.monotonic() - start, got


@pytest.mark.slow
def test_slow_headers_and_slow_bodies_are_cut_off_by_the_read_timeout(tmp_path: Path) -> None:
    """A real uvicorn on 127.0.0.1: a request that does not arrive whole within 1 s loses its
    connection (408 when no response began); 30 silent connections are all closed too."""
    from infra.http.serve import ApiThread

    port = _free_port()
    settings = Settings(
        db_url=f"sqlite:///{tmp_path}/slow.db", api_tokens=TOKENS, api_request_timeout_s=1.0
    )
    api = ApiThread(settings, "127.0.0.1", port).start()
    try:
        head = b"POST /messages HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        with socket.create_connection(("127.0.0.1", port)) as conn:
            took, got = _closed_after(conn, head, limit_s=5)
        assert took < 2.5 and got.startswith(b"HTTP/1.1 408"), (took, got)

        start = (
            b"POST /messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-sys\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(start)
            took, got = _closed_after(conn, b"{" + b" " * 199, limit_s=5)
        assert took < 2.5 and b"200 OK" not in got, (took, got)

        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
        time.sleep(1.5)
        for conn in silent:
            conn.settimeout(1)
            assert conn.recv(4096).startswith(b"HTTP/1.1 408")
            conn.close()
        assert httpx_get(port, "/health") == 200  # the server itself is fine
    finally:
        api.stop()


def httpx_get(port: int, path: str) -> int:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}{path}").status_code
