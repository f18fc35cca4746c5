"""The one form of a time in every machine output (export, search JSON, the API, `status`,
`feeds list --format json`): ISO 8601 in UTC with `Z`, e.g. `2025-05-31T23:39:00Z`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def iso_utc(value: datetime) -> str:
    """`value` in UTC, `Z`-suffixed; a naive time is taken as UTC (how the archive stores it)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso_utc(value)


def json_default(value: Any) -> Any:
    """`default=` for json.dumps: times in the one form, anything else as its string."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
