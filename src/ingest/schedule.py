"""When is a feed due next: pure decisions from its history and the server's headers.

Success: the interval follows the feed's observed posting rate (like Miniflux's entry-frequency
scheduler), clamped to [min_interval, max_interval], never earlier than what the feed or server
asked for (<ttl>, Cache-Control/Expires, Retry-After), with jitter so feeds don't align.
Failure: exponential backoff with jitter per error class (transient, rate-limited, permanent),
capped, and never "disabled forever": a failing feed keeps being retried at the cap. Only 410 Gone
takes a feed off the schedule (until `ingest feeds enable`). Article pages whose full-text fetch
failed for a transient reason get their own retry queue (`next_retry`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ingest.config import Settings
from ingest.errors import ErrorClass
from ingest.httpdate import parse_http_date

WEEK = 7 * 86400
PACE_SAMPLE = 100  # the latest entries of a feed its posting rate is read from
JITTER = 0.1  # ± fraction of the interval
# Base backoff per error class (seconds), doubled per consecutive failure up to the class's cap.
TRANSIENT_BASE = 300
RATE_LIMITED_BASE = 900
PERMANENT_BASE = 6 * 3600
PERMANENT = {
    ErrorClass.HTTP_CLIENT,
    ErrorClass.PARSE,
    ErrorClass.BLOCKED,
    ErrorClass.TOO_LARGE,
    ErrorClass.REDIRECTS,
}
# Page failures worth retrying later: the server or the network may do better next time.
TRANSIENT_PAGE = {
    ErrorClass.TIMEOUT,
    ErrorClass.NETWORK,
    ErrorClass.HTTP_SERVER,
    ErrorClass.RATE_LIMITED,
    ErrorClass.TRUNCATED,
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": WEEK}
_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")


def parse_duration(text: str) -> int:
    """Seconds in `90s`, `15m`, `2h`, `1d`, `1w`, `1h30m` or plain seconds; ValueError if not."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    unitless = len(parts) > 1 and any(not u for _, u in parts)  # "1h30": 30 what?
    if not compact or unitless or "".join(n + u for n, u in parts) != compact.replace(" ", ""):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 2h, 1h30m, 1d)")
    seconds = sum(int(n) * UNITS[u or "s"] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"not a positive duration: {text!r}")
    return seconds


def format_duration(seconds: int) -> str:
    """The largest whole unit: 7200 → `2h`, 90 → `90s`."""
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def posting_interval(published: Sequence[datetime], now: datetime, settings: Settings) -> int:
    """Seconds between polls from the feed's posting rate, read from its latest `PACE_SAMPLE`
    entries (publication times, or first seen when undated).

    When the sample reaches back past a week, the rate is its entries of the last week, per
    week. When it does not (a new feed, or one posting over PACE_SAMPLE a week), a week count
    would understate it: a new feed of 20 items a minute apart would be polled every 8.4 h,
    long after its items scrolled out unseen. The rate is then the entries after the sample's
    oldest over the time since it; entries all first seen at one poll (undated) show none."""
    week_ago = now - timedelta(seconds=WEEK)
    recent = [when for when in published if week_ago <= when <= now]
    if not recent:
        return settings.max_interval
    interval = WEEK // len(recent)
    if all(when >= week_ago for when in published):  # the sample spans less than a week
        oldest = min(recent)
        if later := sum(1 for when in recent if when > oldest):
            interval = int((now - oldest).total_seconds() // later)
    return max(settings.min_interval, min(settings.max_interval, interval))


def cache_lifetime(headers: Mapping[str, str], now: datetime, cap: int) -> datetime | None:
    """Until when the server said the response stays fresh (max-age, else Expires), capped."""
    seconds: float | None = None
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            seconds = int(value.strip())
    expires = parse_http_date(headers.get("expires"))
    if seconds is None and expires is not None:
        seconds = (expires - now).total_seconds()
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


def success_interval(
    published: Sequence[datetime], now: datetime, settings: Settings, override: int | None
) -> int:
    """The user's per-feed interval when set (`feeds set --interval`), else the posting rate."""
    return override if override else posting_interval(published, now, settings)


def next_after_error(
    now: datetime,
    settings: Settings,
    *,
    error_class: str,
    error_count: int,
    retry_after: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """Backoff after the `error_count`-th consecutive failure (1-based), with jitter, capped.

    Transient errors start at minutes, rate limits at 15 min (and never before Retry-After),
    permanent ones (404, not a feed) at hours and back off for days. None: 410 Gone, off the
    schedule.
    """
    if error_class == ErrorClass.GONE:
        return None
    rng = rng or random.Random()
    if error_class in PERMANENT:
        base, cap = PERMANENT_BASE, settings.max_backoff_permanent
    elif error_class == ErrorClass.RATE_LIMITED:
        base, cap = RATE_LIMITED_BASE, settings.max_backoff
    else:
        base, cap = TRANSIENT_BASE, settings.max_backoff
    delay = min(cap, base * 2 ** min(max(0, error_count - 1), 32))
    when = now + timedelta(seconds=delay * rng.uniform(1 - JITTER, 1 + JITTER))
    if retry_after and error_class == ErrorClass.RATE_LIMITED:
        return retry_after  # the server said when (capped by max_cache_age): not a backoff
    return max(when, retry_after) if retry_after else when


def next_retry(
    now: datetime,
    attempts: int,
    retry_schedule: Sequence[int],
    *,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to retry an article page after `attempts` earlier retries; None when exhausted."""
    if attempts >= len(retry_schedule):
        return None
    rng = rng or random.Random()
    return now + timedelta(seconds=retry_schedule[attempts] * rng.uniform(1, 1 + JITTER))


def next_recheck(
    first_seen: datetime, now: datetime, recheck_schedule: Sequence[int]
) -> datetime | None:
    """When to look at an article page again for edits: the first step of the schedule (seconds
    after first seen) still ahead, so checks thin out with age; None when all have passed."""
    for offset in sorted(recheck_schedule):
        when = first_seen + timedelta(seconds=offset)
        if when > now:
            return when
    return None
