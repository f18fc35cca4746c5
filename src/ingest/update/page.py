"""What a fetched article page changes in the archive, decided without I/O.

Input: the article's stored state (`PageState`, loaded in one read with the archived articles
the rules compare against) and what was extracted from the page. Output: a `PageIntent`:
`Dropped`, `Failed`, `Merged` or `Full`. `store.articles.save_page` loads, decides, applies.

The rules (each tested by tables in tests/test_decide_page.py):
- a result whose lease another worker took over is dropped: that worker's result stands;
- no text in the page: the article keeps a feed's text (`feed`, and that text becomes its
  version) or has none (`failed`); a transient failure comes back on the retry schedule;
- a rel=canonical naming another archived article is trusted only when the texts agree (that
  article has no page text yet, the same text, or a verified near-duplicate of it): some sites
  name their home page as every page's canonical. Trusted, this article merges into that one;
  not trusted, the canonical is ignored (the article keeps its own URL);
- else an archived article with exactly this text takes it when an equal text says one story
  (dedupe.may_fold_by_hash: long enough, or the same title and link);
- else the page's text is the article's version (`full`), on the re-check schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ingest import schedule
from ingest.dedupe import Features, Thresholds, may_fold_by_hash, verify
from ingest.records import Extracted
from ingest.update.textfacts import TextFacts


@dataclass(frozen=True, slots=True)
class CanonicalHolder:
    """The archived article that already has the page's rel=canonical as its URL."""

    id: int
    extraction: str
    content_hash: str | None
    features: Features | None  # of its text, when it has page text


@dataclass(frozen=True, slots=True)
class SameText:
    """An archived full-text article whose text hash equals the page's."""

    id: int
    title: str | None
    canonical_url: str | None


@dataclass(frozen=True, slots=True)
class PageState:
    """What the decision needs of the article whose page was fetched, and of the articles the
    page may belong to instead."""

    id: int
    title: str | None
    canonical_url: str | None
    has_feed_text: bool
    created_at: datetime
    retry_count: int
    lease_owner: str | None
    holder: CanonicalHolder | None  # of the page's rel=canonical, if another article
    same_text: Sequence[SameText]  # full-text articles with the page's text hash, oldest first


@dataclass(frozen=True, slots=True)
class PageText:
    """What was extracted from a page, with its text's facts (computed in the worker)."""

    extracted: Extracted
    canonical: str | None  # the page's rel=canonical, in canonical form
    facts: TextFacts


@dataclass(frozen=True, slots=True)
class Dropped:
    """The lease was lost: another worker's result stands."""

    holder: str


@dataclass(frozen=True, slots=True)
class Failed:
    """No text from the page: `extraction` is `feed` (a feed's text stands in, made the
    article's version again) or `failed`; due again at `retry_at` (None: no more tries)."""

    extraction: str
    error: str
    retry_at: datetime | None
    retry_count: int


@dataclass(frozen=True, slots=True)
class Merged:
    """The page is another archived article's: this one's entries move to `target`."""

    target: int


@dataclass(frozen=True, slots=True)
class Full:
    """The page's text is the article's version; `canonical_url` is the one it keeps."""

    canonical_url: str | None
    recheck_at: datetime | None


PageIntent = Dropped | Failed | Merged | Full


def decide_page(
    stored: PageState,
    page: PageText | None,
    *,
    owner: str | None,
    error: str | None,
    now: datetime,
    retry_schedule: Sequence[int],
    recheck_schedule: Sequence[int],
    thresholds: Thresholds,
) -> PageIntent:
    """The intent of one page result (see the module's rules)."""
    if owner is not None and stored.lease_owner not in (None, owner):
        return Dropped(stored.lease_owner)
    if page is None:
        retry_at = schedule.next_retry(now, stored.retry_count, retry_schedule)
        return Failed(
            "feed" if stored.has_feed_text else "failed",
            error or "no text found in the page",
            retry_at,
            stored.retry_count + (retry_at is not None),
        )
    canonical = page.canonical
    if stored.holder is not None:
        if _same_story(stored.holder, page, thresholds):
            return Merged(stored.holder.id)
        canonical = None  # taken by an article with another text: this one keeps its own URL
    target = _exact_copy(stored, page, thresholds)
    if target is not None:
        return Merged(target)
    recheck_at = schedule.next_recheck(stored.created_at, now, recheck_schedule)
    return Full(canonical or stored.canonical_url, recheck_at)


def _same_story(holder: CanonicalHolder, page: PageText, thresholds: Thresholds) -> bool:
    """Whether the page's text is what the canonical's holder has: no page text yet, the same
    text, or a verified near-duplicate of it."""
    if holder.extraction != "full" or holder.content_hash == page.facts.content_hash:
        return True
    return holder.features is not None and (
        verify(holder.features, page.facts.features, thresholds) is not None
    )


def _exact_copy(stored: PageState, page: PageText, thresholds: Thresholds) -> int | None:
    """The oldest archived article with exactly this text, when equal text says one story."""
    title = page.extracted.title or stored.title
    for other in stored.same_text:
        if other.id != stored.id and may_fold_by_hash(
            page.facts.words,
            thresholds,
            titles=(title, other.title),
            links=(stored.canonical_url, other.canonical_url),
        ):
            return other.id
    return None
