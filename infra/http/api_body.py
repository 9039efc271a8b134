"""A posted body read strictly: its media type, size, encoding and shape before anything else."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import HTTPException

from domain.untrusted import UntrustedInputError, no_duplicate_keys

# A JSON string, escapes included; what is left once strings are removed is structure only.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_CHARSETS = {"utf-8", "utf8"}


class BadBody(HTTPException):
    """A body refused before it is read as a message: 400, 413 or 415, with the reason."""


def check_content_type(header: str | None) -> None:
    """415 unless the body says it is JSON (UTF-8, the only charset JSON has)."""
    if header is None:
        raise BadBody(415, "the body needs Content-Type: application/json")
    media_type, *params = (part.strip() for part in header.split(";"))
    if media_type.lower() != "application/json":
        raise BadBody(415, f"the body is {media_type or 'untyped'}, not application/json")
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in _CHARSETS:
            raise BadBody(415, f"the body's charset is {value.strip()}, not utf-8")


async def read_limited(
    chunks: AsyncIterator[bytes], declared_length: str | None, max_bytes: int
) -> bytes:
    """The body, or 413 as soon as it is (or says it will be) larger than `max_bytes`: a
    larger body is never held in memory."""
    declared = int(declared_length) if declared_length and declared_length.isdigit() else 0
    if declared > max_bytes:
        raise BadBody(413, f"the body is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise BadBody(413, f"the body is larger than {max_bytes} bytes")
    return bytes(body)


def nesting_depth(text: str) -> int:
    """How deep the JSON text's arrays and objects nest, counted without parsing it (so a
    deep body cannot exhaust the parser's recursion)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _strings(value: Any) -> Iterator[str]:
    """Every key and string in a decoded JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _check_strings(value: Any) -> None:
    """400 for a string no store can keep: NUL (an escape), or half of a surrogate pair."""
    for text in _strings(value):
        if "\x00" in text:
            raise BadBody(400, "the body has a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadBody(400, "the body has an unpaired surrogate (\\ud800-\\udfff)") from None


def strict_text(body: bytes, max_depth: int) -> str:
    """The body as text: 400 unless it is UTF-8 without NUL or unpaired surrogates, nests no
    deeper than `max_depth` and repeats no key. Text that is not JSON is left to the
    contract's parser (a 422, kept in the dead letters like any rejected message)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadBody(400, f"the body is not UTF-8 (byte {error.start})") from None
    if "\x00" in text:
        raise BadBody(400, "the body has a NUL character")
    if nesting_depth(text) > max_depth:
        raise BadBody(400, f"the body nests deeper than {max_depth} levels")
    try:
        data = json.loads(text, object_pairs_hook=no_duplicate_keys)
    except UntrustedInputError as error:  # a repeated key: readers disagree on which wins
        raise BadBody(400, error.reason) from None
    except (ValueError, RecursionError):
        return text
    _check_strings(data)
    return text
