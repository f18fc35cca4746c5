"""Query and path parameters, parsed strictly: ASCII digits only (`str.isdigit()` accepts `²`
and `١`), ISO dates, bounded lengths. Every bad value is a 400 that names the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from ingest.web.errors import bad_request

_ASCII_INT = re.compile(r"[0-9]{1,18}")
MAX_QUERY_CHARS = 1_000  # a search query longer than this is refused, not truncated


def ascii_int(raw: str, name: str, *, low: int = 1, high: int = 2**62) -> int:
    """`raw` as an integer written in ASCII digits, within [low, high]; else a 400."""
    if not _ASCII_INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}")
    return int(raw)


def int_param(
    query: Mapping[str, str], name: str, default: int | None, *, low: int = 1, high: int = 2**62
) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    return ascii_int(raw, name, low=low, high=high)


def text_param(query: Mapping[str, str], name: str, *, limit: int = 200) -> str | None:
    """A free-text parameter: None when absent or blank; NUL bytes refused."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    if "\x00" in raw:
        raise bad_request(f"{name} must not contain NUL bytes")
    if len(raw) > limit:
        raise bad_request(f"{name} is too long (at most {limit} characters)")
    return raw.strip()


def date_param(query: Mapping[str, str], name: str, *, end: bool = False) -> datetime | None:
    """An ISO date or datetime (UTC unless it says otherwise); a bare date as an upper bound
    (`end`) means the end of that day."""
    raw = text_param(query, name, limit=40)
    if raw is None:
        return None
    if not raw.isascii():
        raise bad_request(f"{name} must be an ISO date like 2018-07-01")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end:
                parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999_999)
            return parsed
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name} must be an ISO date like 2018-07-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flag_param(query: Mapping[str, str], name: str) -> bool:
    """A boolean: 1/true/yes/on or 0/false/no/off (absent: false)."""
    raw = (query.get(name) or "").lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise bad_request(f"{name} must be true or false")


def search_text(query: Mapping[str, str]) -> str:
    """The `q` parameter: required, no NUL bytes, at most MAX_QUERY_CHARS."""
    text = text_param(query, "q", limit=MAX_QUERY_CHARS)
    if text is None:
        raise bad_request("q is required: the words to search for")
    return text
