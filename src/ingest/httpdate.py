"""HTTP dates (RFC 9110: Expires, Retry-After, Last-Modified) as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_http_date(value: str | None) -> datetime | None:
    """The date, or None when absent or unparsable. `-0000` ("UTC without saying so", common in
    the wild) comes back from the standard library naive: it is UTC."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
