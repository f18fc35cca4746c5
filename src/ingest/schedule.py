"""When is a feed due next: pure decisions from its history and the server's headers.

Success: the interval follows the feed's observed posting rate (like Miniflux's entry-frequency
scheduler), clamped to [min_interval, max_interval], never earlier than what the feed or server
asked for (<ttl>, Cache-Control/Expires, Retry-After), with jitter so feeds don't align.
Failure: exponential backoff with jitter per error class, capped, and never "disabled forever".
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from ingest.config import Settings
from ingest.errors import ErrorClass

WEEK = 7 * 86400
JITTER = 0.1  # ± fraction of the interval
# Base backoff per error class (seconds), doubled per consecutive failure up to max_backoff.
TRANSIENT_BASE = 300
PERMANENT_BASE = 3600
PERMANENT = {ErrorClass.HTTP_CLIENT, ErrorClass.PARSE, ErrorClass.BLOCKED, ErrorClass.TOO_LARGE}


def posting_interval(published: Sequence[datetime], now: datetime, settings: Settings) -> int:
    """Seconds between polls from the number of entries published in the last week."""
    recent = sum(1 for when in published if now - timedelta(seconds=WEEK) <= when <= now)
    if recent == 0:
        return settings.max_interval
    return max(settings.min_interval, min(settings.max_interval, WEEK // recent))


def cache_lifetime(headers: Mapping[str, str], now: datetime, cap: int) -> datetime | None:
    """Until when the server said the response stays fresh (max-age, else Expires), capped."""
    seconds: float | None = None
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            seconds = int(value.strip())
    if seconds is None and "expires" in headers:
        try:
            seconds = (parsedate_to_datetime(headers["expires"]) - now).total_seconds()
        except (TypeError, ValueError):
            seconds = None
    if not seconds or seconds <= 0:
        return None
    return now + timedelta(seconds=min(seconds, cap))


def next_after_success(
    now: datetime,
    settings: Settings,
    *,
    interval: int,
    not_before: Sequence[datetime | None] = (),
    rng: random.Random | None = None,
) -> datetime:
    """Next poll after a successful fetch: `interval` ± jitter, but not before any `not_before`."""
    rng = rng or random.Random()
    when = now + timedelta(seconds=interval * (1 + rng.uniform(-JITTER, JITTER)))
    return max([when, *(t for t in not_before if t is not None)])


def next_after_error(
    now: datetime,
    settings: Settings,
    *,
    error_class: str,
    error_count: int,
    retry_after: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Backoff after the `error_count`-th consecutive failure (1-based), with jitter, capped."""
    rng = rng or random.Random()
    base = PERMANENT_BASE if error_class in PERMANENT else TRANSIENT_BASE
    delay = min(settings.max_backoff, base * 2 ** max(0, error_count - 1))
    when = now + timedelta(seconds=delay * rng.uniform(1 - JITTER, 1 + JITTER))
    return max(when, retry_after) if retry_after else when
