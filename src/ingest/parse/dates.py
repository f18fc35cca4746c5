"""Whether a date as a feed wrote it can exist: parsers roll impossible fields over (Feb 30 →
Mar 2, 25:61 → next day 02:01) and would date an entry at a time nobody published it."""

from __future__ import annotations

import re
from datetime import datetime

# ISO 8601 / RFC 3339 (Atom, W3C-DTF, JSON Feed): date, then optionally hour and minute, second
_ISO = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def possible_date(raw: str) -> bool:
    """False for an ISO-style date whose fields are out of range; True otherwise (other forms
    are checked by their parser, which refuses them itself)."""
    match = _ISO.match(raw)
    if match is None:
        return True
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # 60: a leap second
    except ValueError:
        return False
    return True
