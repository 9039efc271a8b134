"""The pages' plumbing: templates, HTML responses with their headers, and form bodies."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from infra.http.api_body import BadBody, read_limited
from infra.ui import words

HERE = Path(__file__).parent
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 40
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
HEADERS = {
    # The pages show personal data: never cached, never framed, scripts only from here.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def dates_kept_whole(text: object) -> Markup:
    """The text escaped, each ISO date in it kept on one line (`<span class="d">`)."""
    return Markup(ISO_DAY.sub(lambda m: f'<span class="d">{m.group(0)}</span>', str(escape(text))))


env.filters["dates"] = dates_kept_whole
env.globals.update(
    words=words,
    word=words.word,
    task_words=words.task_words,
)


class FormError(ValueError):
    """A form body that is not one: the status to answer and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template rendered, with the pages' headers."""
    return HTMLResponse(env.get_template(name).render(**context), status, headers=HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303, headers={"Cache-Control": "no-store"})


def parse_day(text: str | None, default: date) -> date:
    """A day as YYYY-MM-DD (the default when none is given); ValueError otherwise."""
    if text is None or text == "":
        return default
    if not DAY.match(text):
        raise ValueError(f"datoen skal skrives ÅÅÅÅ-MM-DD, ikke {text[:20]!r}")
    return date.fromisoformat(text)


async def read_form(request: Request, max_bytes: int) -> dict[str, str]:
    """A urlencoded form's fields, read within the API's body limit; every field once."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise FormError(415, f"formularen skal sendes som {FORM_TYPE}")
    try:
        body = await read_limited(
            request.stream(), request.headers.get("content-length"), max_bytes
        )
    except ClientDisconnect:
        raise FormError(400, "forbindelsen blev afbrudt") from None
    except BadBody as error:  # 413, as the API's
        raise FormError(error.status_code, "formularen er for stor") from None
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # not ASCII, bad UTF-8 behind the %-escapes, too many fields
        raise FormError(400, "formularen kunne ikke læses") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise FormError(400, f"feltet {key[:40]!r} er sendt to gange")
        fields[key] = value
    return fields


def security_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response
