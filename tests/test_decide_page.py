"""The page decider (ingest.update.page): what a fetched article page changes, by tables of
cases on stored state + extracted page → intent. No archive, no network."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from ingest.dedupe import Thresholds, features
from ingest.identity import content_hash
from ingest.records import Extracted
from ingest.schedule import JITTER
from ingest.update.page import (
    CanonicalHolder,
    Dropped,
    Failed,
    Full,
    Merged,
    PageState,
    SameText,
    decide_page,
)
from ingest.update.prepare import page_text
from tests.corpus import newsroom

NOW = datetime(2018, 7, 4, 12, 0, tzinfo=UTC)
HOUR = 3600
RETRY = (600, HOUR)
RECHECK = (HOUR, 24 * HOUR)
# real stories written from one newsroom's vocabulary (tests/corpus): a story, a lightly
# edited copy of it, and a different story on the same topics
STORY = newsroom.story_documents(0)
ORIGINAL, EDITED = STORY[0].text, STORY[1].text
OTHER_STORY = newsroom.story_documents(3)[0].text
TEASER = "Read more..."
CJK = "滨江公园今天举行开幕仪式，市民可以免费参观。" * 20  # ~400 characters, one per word


def state(**changes: object) -> PageState:
    base = PageState(
        id=7,
        title="Seen in the feed",
        canonical_url="http://news.example/a",
        has_feed_text=True,
        created_at=NOW - timedelta(minutes=30),
        retry_count=0,
        lease_owner="me",
        holder=None,
        same_text=(),
    )
    return dataclasses.replace(base, **changes)


def holder(text: str | None, *, extraction: str = "full") -> CanonicalHolder:
    return CanonicalHolder(
        3,
        extraction,
        content_hash(text) if text else None,
        features(text) if text else None,
    )


def decide(stored: PageState, text: str | None, **page: object) -> object:
    extracted = Extracted(text=text or "", **page)  # type: ignore[arg-type]
    return decide_page(
        stored,
        page_text(extracted),
        owner="me",
        error="http_5xx: 503" if not text else None,
        now=NOW,
        retry_schedule=RETRY,
        recheck_schedule=RECHECK,
        thresholds=Thresholds(),
    )


def test_the_corpus_texts_are_what_the_cases_say() -> None:
    """The cases rest on these: a copy verifies, a same-topic story does not."""
    from ingest.dedupe import verify

    assert verify(features(ORIGINAL), features(EDITED), Thresholds()) is not None
    assert verify(features(ORIGINAL), features(OTHER_STORY), Thresholds()) is None
    assert features(CJK).words >= Thresholds().min_words


RECHECK_AT = NOW - timedelta(minutes=30) + timedelta(seconds=HOUR)


@pytest.mark.parametrize(
    ("name", "stored", "text", "page", "expected"),
    [
        (
            "a page of its own: full text, its rel=canonical, the next re-check",
            state(),
            ORIGINAL,
            {"canonical_url": "http://news.example/a?utm_source=x"},
            Full("http://news.example/a", RECHECK_AT),
        ),
        (
            "no rel=canonical: the article keeps its URL",
            state(),
            ORIGINAL,
            {},
            Full("http://news.example/a", RECHECK_AT),
        ),
        (
            "the canonical's holder has no page text yet: the page is its",
            state(holder=holder(None, extraction="pending")),
            ORIGINAL,
            {"canonical_url": "http://news.example/b"},
            Merged(3),
        ),
        (
            "the holder has the same text",
            state(holder=holder(ORIGINAL)),
            ORIGINAL,
            {"canonical_url": "http://news.example/b"},
            Merged(3),
        ),
        (
            "the holder has a lightly edited copy (verified near-duplicate)",
            state(holder=holder(EDITED)),
            ORIGINAL,
            {"canonical_url": "http://news.example/b"},
            Merged(3),
        ),
        (
            "every page names the home page as canonical: another story there is not trusted",
            state(holder=holder(OTHER_STORY)),
            ORIGINAL,
            {"canonical_url": "http://news.example/"},
            Full("http://news.example/a", RECHECK_AT),
        ),
        (
            "untrusted canonical, but an archived article has exactly this text",
            state(holder=holder(OTHER_STORY), same_text=(SameText(2, "Other", "http://o/x"),)),
            ORIGINAL,
            {"canonical_url": "http://news.example/"},
            Merged(2),
        ),
        (
            "exact text, long enough to identify a story: the oldest such article takes it",
            state(same_text=(SameText(2, "A", "http://o/a"), SameText(5, "B", "http://o/b"))),
            ORIGINAL,
            {},
            Merged(2),
        ),
        (
            "a teaser shared by two stories never folds them",
            state(same_text=(SameText(2, "Story about apples", "http://o/apples"),)),
            TEASER,
            {"title": "Story about oranges"},
            Full("http://news.example/a", RECHECK_AT),
        ),
        (
            "a short text folds when title and link agree",
            state(same_text=(SameText(2, "Brief", "http://news.example/a"),)),
            TEASER,
            {"title": "Brief"},
            Merged(2),
        ),
        (
            "CJK text counted in characters: long enough to identify its story",
            state(same_text=(SameText(2, "滨江公园", "http://o/cn"),)),
            CJK,
            {"title": "另一个标题"},
            Merged(2),
        ),
        (
            "the re-check schedule is over: no more checks",
            state(created_at=NOW - timedelta(days=30)),
            ORIGINAL,
            {},
            Full("http://news.example/a", None),
        ),
    ],
)
def test_pages_with_text(
    name: str, stored: PageState, text: str, page: dict[str, object], expected: object
) -> None:
    assert decide(stored, text, **page) == expected, name


def test_a_result_whose_lease_was_taken_over_is_dropped() -> None:
    assert decide(state(lease_owner="other"), ORIGINAL) == Dropped("other")
    assert isinstance(decide(state(lease_owner=None), ORIGINAL), Full)  # released: still ours


@pytest.mark.parametrize(
    ("name", "stored", "extraction", "step"),
    [
        ("first failure, a feed's text stands in", state(), "feed", 0),
        ("no feed text: failed", state(has_feed_text=False), "failed", 0),
        ("second failure: the schedule's next step", state(retry_count=1), "feed", 1),
        ("schedule exhausted: no more retries", state(retry_count=2), "feed", None),
    ],
)
def test_pages_without_text(
    name: str, stored: PageState, extraction: str, step: int | None
) -> None:
    intent = decide(stored, None)
    assert isinstance(intent, Failed), name
    assert (intent.extraction, intent.error) == (extraction, "http_5xx: 503"), name
    if step is None:
        assert (intent.retry_at, intent.retry_count) == (None, stored.retry_count), name
        return
    assert intent.retry_count == stored.retry_count + 1, name
    assert intent.retry_at is not None
    delay = (intent.retry_at - NOW).total_seconds()
    assert RETRY[step] <= delay <= RETRY[step] * (1 + JITTER), name
