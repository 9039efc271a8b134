"""Checks on an inbound message's bytes and decoded JSON that no store or parser may choke on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_MAX_NESTING = 32
MAX_NUMBER_CHARS = 40
"""The longest JSON number a message may hold, in characters (sign, point and exponent
included). The contract's numbers are municipality codes and hours (at most 6 characters);
Python's decoder refuses integers over 4,300 digits with an error that reads as "not JSON",
and a number this long is never a value of the contract, so it is refused by its field."""


@dataclass(frozen=True)
class Limits:
    """How big and how deeply nested one inbound message may be (settings
    LEDIGHED_MAX_MESSAGE_BYTES and LEDIGHED_MAX_NESTING)."""

    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_nesting: int = DEFAULT_MAX_NESTING


DEFAULT_LIMITS = Limits()

# NUL and the other C0/C1 control characters (tab, line feed and carriage return excepted)
# and UTF-16 surrogate code points: PostgreSQL's text cannot hold NUL, neither store can
# encode a lone surrogate as UTF-8, and no field of the contract has a use for the rest.
# json.loads joins an escaped surrogate pair into one character, so any surrogate left is lone.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What `safe_text` escapes: what a store cannot keep, and control characters that would
# garble a terminal (C1 characters are storable and left as they are).
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_MAX_FIELD_NAME = 128


class UntrustedInputError(Exception):
    """Input that fails a check here; `reason` is one sentence, `field` where it applies."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """json.loads' object_pairs_hook: an object, refused when a key repeats (readers
    disagree on which one wins, and a dead letter must be read as the decoder reads it)."""
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            name = safe_text(key, limit=_MAX_FIELD_NAME)
            raise UntrustedInputError(f"the key {name!r} appears twice in one object", name)
        seen.add(key)
    raise AssertionError("unreachable: a shorter dict has a repeated key")


def check_size(raw: bytes | str, limits: Limits) -> None:
    """Refuse a message longer than the limit (counted in UTF-8 bytes)."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > limits.max_message_bytes:
        raise UntrustedInputError(
            f"the message is {size} bytes, more than the limit of {limits.max_message_bytes}"
        )


def check_nesting(text: str, limits: Limits) -> None:
    """Refuse JSON text nested deeper than the limit, before a parser recurses into it."""
    if text.count("{") + text.count("[") <= limits.max_nesting:
        return  # cannot be deeper than the brackets it has
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > limits.max_nesting:
                raise UntrustedInputError(
                    f"the message is nested more than {limits.max_nesting} levels deep"
                )
        elif char in "}]":
            depth -= 1


# What JSON text needs to decode to one of the things check_values refuses: an escape
# (\u0000, \ud800, \b, \f), a raw DEL, C1 or surrogate character, NaN/Infinity, or a run
# of number characters longer than a number may be. Text without any of these cannot hold
# one, and most messages skip the walk.
_SUSPECT_JSON = re.compile(
    rf"\\u|\\b|\\f|NaN|Infinity|[\x7f-\x9f\ud800-\udfff]|[-+.0-9eE]{{{MAX_NUMBER_CHARS + 1}}}"
)


def may_hold_refused_values(json_text: str) -> bool:
    """Whether `check_values` could refuse what this JSON text decodes to."""
    return _SUSPECT_JSON.search(json_text) is not None


class NonNumber:
    """What the JSON decoder returns for NaN, Infinity and -Infinity, so that the check
    below can refuse it naming its field."""

    def __init__(self, name: str) -> None:
        self.name = name


class OverlongNumber:
    """What the JSON decoder returns for a number longer than MAX_NUMBER_CHARS (never
    converted: an integer that long is slow to convert, and over 4,300 digits Python refuses
    it), so that the check below can refuse it naming its field."""

    def __init__(self, text: str) -> None:
        self.length = len(text)


def _bounded(convert: Callable[[str], object]) -> Callable[[str], object]:
    def number(text: str) -> object:
        return OverlongNumber(text) if len(text) > MAX_NUMBER_CHARS else convert(text)

    return number


def decode_json(text: str, *, repeated_keys: bool = False) -> object:
    """JSON text decoded as the contract reads it: fractions as decimals; NaN, Infinity and
    numbers longer than MAX_NUMBER_CHARS as markers that `check_values` refuses naming their
    field; a repeated key refused (`no_duplicate_keys`) unless `repeated_keys`, where the last
    wins as in json.loads. ValueError: not JSON."""
    return json.loads(
        text,
        parse_float=_bounded(Decimal),
        parse_int=_bounded(int),
        parse_constant=NonNumber,
        object_pairs_hook=None if repeated_keys else no_duplicate_keys,
    )


def check_values(data: object, limits: Limits, path: str = "", depth: int = 0) -> None:
    """Refuse strings a store cannot keep (NUL, other control characters, lone surrogates),
    NaN and Infinity, numbers longer than MAX_NUMBER_CHARS, and nesting deeper than the
    limit, anywhere in decoded JSON; the error names the field (dotted path) where there is
    one."""
    if depth > limits.max_nesting:
        raise UntrustedInputError(
            f"the message is nested more than {limits.max_nesting} levels deep", path or None
        )
    if isinstance(data, str):
        _check_text(data, path)
    elif isinstance(data, NonNumber):
        raise UntrustedInputError(_where(path, f"{data.name} is not a JSON number"), path or None)
    elif isinstance(data, OverlongNumber):
        what = f"a number of {data.length} characters, longer than the {MAX_NUMBER_CHARS} allowed"
        raise UntrustedInputError(_where(path, what), path or None)
    elif isinstance(data, Mapping):
        for key, value in data.items():
            name = str(key)
            if _UNSTORABLE.search(name):
                raise UntrustedInputError(
                    _where(path, f"a field name {_describe(name)}"), path or None
                )
            check_values(value, limits, _join(path, name), depth + 1)
    elif isinstance(data, list | tuple):
        for index, item in enumerate(data):
            check_values(item, limits, _join(path, str(index)), depth + 1)


def _check_text(text: str, path: str) -> None:
    if _UNSTORABLE.search(text):
        raise UntrustedInputError(_where(path, f"the text {_describe(text)}"), path or None)


def _describe(text: str) -> str:
    found = _UNSTORABLE.search(text)
    assert found is not None
    char = found.group()
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"contains {kind} (U+{ord(char):04X}) at position {found.start()}"


def _where(path: str, what: str) -> str:
    return f"field {path!r}: {what}" if path else what


def _join(path: str, name: str) -> str:
    joined = f"{path}.{name}" if path else name
    return joined if len(joined) <= _MAX_FIELD_NAME else joined[: _MAX_FIELD_NAME - 3] + "..."


def safe_text(raw: bytes | str, limit: int | None = None) -> str:
    """A readable text form of untrusted input that every store can keep: bytes that are not
    UTF-8, NUL, control characters and lone surrogates as backslash escapes (`\\xff`,
    `\\x00`, `\\ud800`); the exact bytes are kept beside it where they matter."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    if _UNSAFE_IN_TEXT.search(text) is not None:
        text = _UNSAFE_IN_TEXT.sub(_escape, text)
    return text if limit is None else text[:limit]


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
