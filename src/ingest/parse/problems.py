"""What was wrong with a feed document that still parsed: one line for `Feed.problem`; pure.

A broken feed is archived as well as its data allows, and the user sees why some entries lack a
date or link in `ingest feeds list` instead of finding out from the archive.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ingest.records import ParsedEntry, ParsedFeed

# Feeds that mislabel their time zone run up to ~14 h ahead; only later dates are "future".
FUTURE_SLACK = timedelta(days=1)


def feed_problems(parsed: ParsedFeed, now: datetime) -> str | None:
    """The parser's complaint plus counts of odd entries; None when the document was clean."""
    notes = [parsed.problem] if parsed.problem else []
    if not parsed.entries:
        notes.append("no entries")
    checks = (
        ("without a guid", lambda e: e.guid is None),
        ("without a link", lambda e: e.link is None),
        ("without a date", lambda e: _date(e) is None),
        ("dated in the future", lambda e: (_date(e) or now) > now + FUTURE_SLACK),
    )
    for label, odd in checks:
        count = sum(1 for entry in parsed.entries if odd(entry))
        if count:
            notes.append(f"{count} {'entry' if count == 1 else 'entries'} {label}")
    return "; ".join(notes) or None


def _date(entry: ParsedEntry) -> datetime | None:
    return entry.published or entry.updated
