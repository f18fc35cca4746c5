"""Scheduling decisions as pure functions: given history and headers → the next time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ingest import schedule
from ingest.config import Settings
from ingest.errors import ErrorClass

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(min_interval=900, max_interval=86400, max_backoff=86400)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ([], 86400),  # never posted: the slowest pace
        ([ago(3600)], 86400),  # once a week → 7 days, clamped to max_interval
        # twice a day, with older history: 14 in the week → 12 h
        ([ago(i * 43200) for i in range(14)] + [ago(8 * 86400)], schedule.WEEK // 14),
        ([ago(i * 60) for i in range(1000)], 900),  # firehose: clamped to min_interval
        ([ago(8 * 86400)] * 50, 86400),  # only old entries: the slowest pace
        ([later(3600)] * 50, 86400),  # dated in the future: ignored
        # a sample that does not reach back a week is read as a rate over the time it spans
        ([ago(i * 60) for i in range(20)], 900),  # a new feed, one item a minute (not 8.4 h)
        ([ago(i * 1800) for i in range(100)], 1800),  # 100 a half-hour apart (not 6048 s)
        ([ago(i * 5400) for i in range(100)], 5400),  # 100 in 6.2 days, 1 h 30 min apart
        ([ago(i * 86400) for i in range(3)], 86400),  # a new blog: a post a day
        ([ago(60)] * 100, schedule.WEEK // 100),  # undated, all first seen at one poll: no rate
        ([ago(0)] * 5 + [ago(7200)] * 95, 7200 // 5),  # the next poll found 5 more in 2 h
        # 20 in two days, and older ones: the week's count stands (not 2 h 24 min)
        ([ago(i * 8640) for i in range(20)] + [ago(10 * 86400)], schedule.WEEK // 20),
    ],
)
def test_posting_interval_follows_rate_within_bounds(
    published: list[datetime], expected: int
) -> None:
    assert schedule.posting_interval(published, NOW, SETTINGS) == expected


def test_override_wins_over_posting_rate() -> None:
    busy = [ago(i * 60) for i in range(1000)]
    assert schedule.success_interval(busy, NOW, SETTINGS, 7200) == 7200
    assert schedule.success_interval(busy, NOW, SETTINGS, None) == 900


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"cache-control": "public, max-age=3600"}, later(3600)),
        ({"cache-control": "max-age=0"}, None),
        ({"cache-control": "max-age=9999999"}, later(86400)),  # capped
        ({"expires": "Wed, 01 May 2024 14:00:00 GMT"}, later(7200)),
        ({"expires": "Wed, 01 May 2024 14:00:00 -0000"}, later(7200)),  # UTC, unsaid
        ({"expires": "Wed, 01 May 2024 11:00:00 GMT"}, None),  # already past
        ({"expires": "garbage"}, None),
        ({"cache-control": "max-age=60", "expires": "Wed, 01 May 2024 14:00:00 GMT"}, later(60)),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: datetime | None) -> None:
    assert schedule.cache_lifetime(headers, NOW, 86400) == expected


def test_success_is_interval_with_jitter() -> None:
    rng = random.Random(1)
    times = {schedule.next_after_success(NOW, SETTINGS, interval=3600, rng=rng) for _ in range(50)}
    assert len(times) > 1  # feeds don't align
    assert all(later(3600 * 0.9) <= t <= later(3600 * 1.1) for t in times)


@pytest.mark.parametrize("not_before", [later(7200), later(86400 * 2)])
def test_success_never_before_ttl_cache_or_retry_after(not_before: datetime) -> None:
    when = schedule.next_after_success(
        NOW, SETTINGS, interval=900, not_before=[None, not_before], rng=random.Random(0)
    )
    assert when == not_before


@pytest.mark.parametrize(
    ("error_class", "count", "low", "high"),
    [
        (ErrorClass.NETWORK, 1, 270, 330),  # transient: minutes
        (ErrorClass.TIMEOUT, 2, 540, 660),  # doubled
        (ErrorClass.HTTP_SERVER, 4, 2160, 2640),
        (ErrorClass.HTTP_SERVER, 40, 86400 * 0.9, 86400 * 1.1),  # capped at max_backoff
        (ErrorClass.RATE_LIMITED, 1, 810, 990),
        (ErrorClass.HTTP_CLIENT, 1, 6 * 3600 * 0.9, 6 * 3600 * 1.1),  # 404: hours...
        (ErrorClass.HTTP_CLIENT, 3, 24 * 3600 * 0.9, 24 * 3600 * 1.1),
        (ErrorClass.HTTP_CLIENT, 50, 7 * 86400 * 0.9, 7 * 86400 * 1.1),  # ...then days, capped
        (ErrorClass.PARSE, 2, 12 * 3600 * 0.9, 12 * 3600 * 1.1),
    ],
)
def test_error_backoff_per_class(
    error_class: ErrorClass, count: int, low: float, high: float
) -> None:
    when = schedule.next_after_error(
        NOW, SETTINGS, error_class=error_class, error_count=count, rng=random.Random(count)
    )
    assert when is not None
    assert later(low) <= when <= later(high)


def test_failing_feed_is_never_disabled() -> None:
    for count in (10, 100, 10_000):
        when = schedule.next_after_error(
            NOW, SETTINGS, error_class=ErrorClass.HTTP_CLIENT, error_count=count
        )
        assert when is not None and when <= later(SETTINGS.max_backoff_permanent * 1.1)


def test_gone_is_not_scheduled() -> None:
    assert schedule.next_after_error(NOW, SETTINGS, error_class="gone", error_count=1) is None


def test_retry_after_wins_over_shorter_backoff() -> None:
    until = later(5 * 3600)
    when = schedule.next_after_error(
        NOW, SETTINGS, error_class=ErrorClass.RATE_LIMITED, error_count=1, retry_after=until
    )
    assert when == until


def test_backoff_jitter_spreads_failures() -> None:
    rng = random.Random(3)
    times = {
        schedule.next_after_error(NOW, SETTINGS, error_class="network", error_count=3, rng=rng)
        for _ in range(20)
    }
    assert len(times) > 1


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(0, 600, 660), (1, 3600, 3960), (3, 86400, 95040), (4, None, None), (9, None, None)],
)
def test_article_retry_follows_schedule_then_stops(
    attempts: int, low: float | None, high: float | None
) -> None:
    when = schedule.next_retry(NOW, attempts, [600, 3600, 21600, 86400], rng=random.Random(0))
    if low is None or high is None:
        assert when is None
    else:
        assert when is not None and later(low) <= when <= later(high)


@pytest.mark.parametrize(
    "error_class", ["timeout", "network", "http_5xx", "rate_limited", "truncated"]
)
def test_transient_page_errors_are_retried(error_class: str) -> None:
    assert error_class in schedule.TRANSIENT_PAGE


@pytest.mark.parametrize("error_class", ["http_4xx", "gone", "robots", "not_html", "blocked"])
def test_permanent_page_errors_are_not_retried(error_class: str) -> None:
    assert error_class not in schedule.TRANSIENT_PAGE


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("600", 600),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
    ],
    ids=str,
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert schedule.parse_duration(text) == seconds
    assert schedule.parse_duration(schedule.format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "-5m", "0s", "2h garbage", "1.5h", "1h30"])
def test_bad_duration_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        schedule.parse_duration(text)
