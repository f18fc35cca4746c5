"""What the pages, the API and the Atom feeds read: plain functions of the engine, run in a
worker thread by `Database.call`. Filters are the store's `ArticleFilter`, as in the CLI."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ingest.cli.filters import article_filter
from ingest.errors import UsageError
from ingest.health import feed_record
from ingest.rawarchive import http_message, read_located, record_head
from ingest.store import listing
from ingest.store.articles import StoredPage, stored_page
from ingest.store.filters import ArticleFilter
from ingest.store.hosts import blocked_hosts
from ingest.store.queries import get_article
from ingest.store.revisions import list_revisions
from ingest.store.search import Cursor, search
from ingest.warc.reader import WarcReadError
from ingest.web.errors import Problem, bad_request, not_found

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FilterInput:
    """The filters as the request spelled them (the options of `ingest search`)."""

    feed: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    lang: str | None = None
    site: str | None = None
    with_duplicates: bool = False


def resolve(engine: Engine, given: FilterInput) -> ArticleFilter:
    """The request's filter as the CLI builds it (feeds resolved, dates parsed); 400 naming the
    parameter when a value is bad."""
    try:
        return article_filter(
            engine,
            feed=list(given.feed),
            since=given.since,
            until=given.until,
            lang=given.lang,
            site=given.site,
            with_duplicates=given.with_duplicates,
        )
    except UsageError as exc:
        raise bad_request(str(exc).removeprefix("--")) from None


def article_list(
    engine: Engine, given: FilterInput, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of article summaries and the cursor of the next page (None on the last)."""
    page = listing.summaries(engine, resolve(engine, given), after_id=after, limit=limit)
    return page, (page[-1]["id"] if len(page) == limit else None)


def search_hits(
    engine: Engine, text: str, given: FilterInput, *, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of search results, best first, each with its summary, and the cursor of the
    next page (keyset on rank and id: pass a page's `next` as `after`); None on the last."""
    keep = resolve(engine, given)
    try:
        cursor = Cursor.parse(after) if after else None
        found = search(engine, text, limit=limit, keep=keep, after=cursor)
    except UsageError as exc:  # a bad query or cursor, or one past the time limit
        raise bad_request(str(exc)) from None
    summaries = listing.summaries_by_id(engine, [hit.id for hit in found])
    hits = []
    for hit in found:
        record = asdict(hit)
        title = hit.title or ""
        record["title"] = title[: listing.TITLE_CHARS] or None
        record["title_matches"] = [
            span for span in hit.title_matches if span[1] <= listing.TITLE_CHARS
        ]
        record["published"] = listing.iso(hit.published)
        record["summary"] = summaries.get(hit.id)
        hits.append(record)
    return hits, (found[-1].cursor if len(found) == limit else None)


def article(engine: Engine, article_id: int) -> dict[str, Any]:
    """One article in full (text, sanitized HTML, sources); 404 when unknown."""
    try:
        return get_article(engine, article_id)
    except UsageError as exc:
        raise not_found(str(exc)) from None


def article_page(engine: Engine, folder: Path, article_id: int) -> dict[str, Any]:
    """Everything the article page shows: the article, its sources with feed ids, its near-
    duplicates, its versions (without texts), whether its page response is archived and, when
    that record holds only part of the body, its WARC-Truncated."""
    record = article(engine, article_id)
    record["sources"] = listing.sources(engine, article_id)
    record["near_duplicates"] = listing.near_duplicates(engine, article_id)
    record["versions"] = [v.as_json() for v in list_revisions(engine, article_id, with_text=False)]
    record["raw_kept"] = listing.raw_page_kept(engine, article_id)
    record["raw_cut"] = _raw_cut(engine, folder, article_id) if record["raw_kept"] else None
    return record


def _raw_cut(engine: Engine, folder: Path, article_id: int) -> str | None:
    """The WARC-Truncated of the article's page record (from its row; older rows: its header)."""
    page = stored_page(engine, article_id)
    if page is None or page.raw is None:
        return None
    head = record_head(folder, page.raw[0])
    return head.truncated if head else None


def _stored(engine: Engine, article_id: int) -> StoredPage:
    """Where the article's page is archived; 404 for an unknown article or one without."""
    if not listing.article_exists(engine, article_id):
        raise not_found(f"no such article: {article_id}")
    page = stored_page(engine, article_id)
    if page is None:
        raise not_found(f"article {article_id} has no archived page")
    return page


def _unreadable(exc: WarcReadError) -> Problem:
    return Problem(500, f"cannot read the raw page: {exc} (run `ingest check`)")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """The article's original page response as `ingest show --raw` prints it."""

    message: bytes
    charset: str | None  # the one its Content-Type named (the body is in it)
    truncated: str | None  # its record's WARC-Truncated: the body is not whole


def raw_message(engine: Engine, folder: Path, article_id: int) -> RawMessage:
    """The article's original page response; 404 when no page is archived."""
    page = _stored(engine, article_id)
    try:
        message, truncated = http_message(folder, page)
    except WarcReadError as exc:
        raise _unreadable(exc) from None
    found = _CHARSET.search(page.content_type)
    return RawMessage(message, found.group(1) if found else None, truncated)


def raw_record(engine: Engine, folder: Path, article_id: int) -> dict[str, Any]:
    """What the archive knows of the article's original response, without its body: the
    WARC record's URI, date, status line, headers as received, payload digest, body size."""
    page = _stored(engine, article_id)
    record: dict[str, Any] = {
        "uri": page.url,
        "date": None,
        "record_type": None,
        "status_line": None,
        "headers": None,  # not kept for pages archived before WARC storage
        "payload_digest": None,
        "truncated": None,  # the record's WARC-Truncated: the body is not whole
        "body_bytes": len(page.legacy_body or b""),
        "body": f"/articles/{article_id}/raw",
    }
    if page.raw is None:
        return record
    try:
        response = read_located(folder, *page.raw)
    except WarcReadError as exc:
        raise _unreadable(exc) from None
    return {
        **record,
        "uri": response.uri,
        "date": response.date,
        "record_type": response.record_type,
        "status_line": response.status_line,
        "headers": [list(pair) for pair in response.headers],
        "payload_digest": response.payload_digest,
        "truncated": response.truncated,
        "body_bytes": len(response.body),
    }


def revisions(engine: Engine, article_id: int, *, with_text: bool) -> list[dict[str, Any]]:
    try:
        versions = list_revisions(engine, article_id, with_text=with_text)
    except UsageError as exc:
        raise not_found(str(exc)) from None
    return [v.as_json() for v in versions]


def feed_list(
    engine: Engine, *, after: int = 0, limit: int = 1_000
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of feeds (id order) with their health, and the next page's cursor."""
    blocked = blocked_hosts(engine)
    page = listing.feed_page(engine, after_id=after, limit=limit)
    records = [feed_record(f, blocked) for f in page]
    return records, (records[-1]["id"] if len(records) == limit else None)


def feed(engine: Engine, feed_id: int) -> dict[str, Any]:
    """One feed's record with its health; 404 when unknown."""
    page = listing.feed_page(engine, after_id=feed_id - 1, limit=1)
    if not page or page[0].id != feed_id:
        raise not_found(f"no such feed: {feed_id}")
    return feed_record(page[0], blocked_hosts(engine))


def feed_articles(
    engine: Engine, feed_id: int, *, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of a feed's articles, newest first (as the feed listed them), and the cursor of
    the next page (the last one's `entry_id`; None on the last page); 404 for an unknown feed."""
    if not listing.feed_exists(engine, feed_id):
        raise not_found(f"no such feed: {feed_id}")
    page = listing.feed_articles(engine, feed_id, before=before, limit=limit)
    return page, (page[-1]["entry_id"] if len(page) == limit else None)
