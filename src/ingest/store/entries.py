"""Feed entries and the articles they point to: the first write of every fetched feed.

Entries and their (pending) articles are committed before any page is fetched, so a crash at
any later point loses nothing: the next run finds the articles still `pending` and completes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.dedupe import Thresholds, features
from ingest.records import ParsedEntry
from ingest.store.articles import set_text
from ingest.store.blobs import put_packed
from ingest.store.engine import reading
from ingest.store.models import Article, Entry, Feed, PageQueue, Revision, UTCDateTime, utcnow
from ingest.store.rowupdate import update_row
from ingest.store.similar import index_text, link_article
from ingest.store.upsert import insert_ignore
from ingest.timestamps import iso_utc
from ingest.update.decide import (
    NEVER_FETCHED,
    ArticleRef,
    ChangedEntry,
    EntriesIntent,
    Extraction,
    KnownArticle,
    StoredEntry,
    StoredFeed,
    TextMatch,
    decide_entries,
)
from ingest.update.packed import pack
from ingest.update.prepare import PreparedEntry, Skipped, prepare_entries
from ingest.update.textfacts import text_facts

ID_CHUNK = 5000  # values per IN (…) list: under SQLite's bind-parameter limit


@dataclass(frozen=True, slots=True)
class EntriesOutcome:
    new: int
    updated: int
    pending: list[int]  # article ids of this feed still waiting for their page
    changed: list[int] = field(default_factory=list)  # full-text articles whose entry changed
    guid_changes: int = 0  # known items seen under a new guid
    removed: int = 0  # entries newly gone from the feed
    skipped: tuple[Skipped, ...] = ()  # items that could not be read (the others were kept)


def record(
    conn: sa.Connection,
    feed_id: int,
    entries: Sequence[ParsedEntry | PreparedEntry],
    *,
    fulltext: bool,
    thresholds: Thresholds = Thresholds(),
    skipped: Sequence[Skipped] = (),
) -> EntriesOutcome:
    """Load the feed's stored state, decide (update.decide), apply, in the caller's transaction
    (the pipeline writes the feed's new state in the same one).

    Items come prepared from the parse worker (update.prepare); plain `ParsedEntry` items are
    prepared here (tests, tools). Unchanged items cost a comparison in memory and one shared
    `last_seen` update.
    """
    items, bad = _prepared(entries, thresholds.min_words)
    now = utcnow()
    stored = load_state(conn, feed_id, items, thresholds)
    intent = decide_entries(stored, items, now, fulltext=fulltext, thresholds=thresholds)
    outcome = apply_entries(conn, intent, items, now, thresholds=thresholds)
    pending = _pending_articles(conn, feed_id) if fulltext else []
    return replace(outcome, pending=pending, skipped=(*skipped, *bad))


def _prepared(
    entries: Sequence[ParsedEntry | PreparedEntry], min_words: int
) -> tuple[list[PreparedEntry], tuple[Skipped, ...]]:
    raw = tuple(e for e in entries if isinstance(e, ParsedEntry))
    if not raw:
        return [e for e in entries if isinstance(e, PreparedEntry)], ()
    prepared, bad = prepare_entries(raw, min_words)
    return [*(e for e in entries if isinstance(e, PreparedEntry)), *prepared], bad


# `load_state`'s reads, built once (every feed update runs them; building them cost more than
# running them on SQLite).
_FEED_ENTRIES = (
    sa.select(
        Entry.id,
        Entry.key,
        Entry.content_hash,
        Entry.link,
        Entry.article_id,
        Article.extraction,
        Entry.published,
        Entry.first_seen,
        Entry.removed_at,
    )
    .outerjoin(Article, Article.id == Entry.article_id)
    .where(Entry.feed_id == sa.bindparam("feed_id"))
)
_BY_CANONICAL = sa.select(Article.id, Article.canonical_url, Article.extraction).where(
    Article.canonical_url.in_(sa.bindparam("links", expanding=True))
)
_TEXT_MATCH = sa.select(Article.content_hash, Article.id, Article.title, Article.url)
_BY_TEXT = _TEXT_MATCH.where(
    Article.content_hash.in_(sa.bindparam("hashes", expanding=True))
).order_by(Article.id)
_BY_SHORT_TEXT = _TEXT_MATCH.where(
    sa.tuple_(Article.content_hash, Article.title).in_(sa.bindparam("pairs", expanding=True)),
    Article.url.is_(None),
).order_by(Article.id)


def load_state(
    conn: sa.Connection,
    feed_id: int,
    items: Sequence[PreparedEntry],
    thresholds: Thresholds = Thresholds(),
) -> StoredFeed:
    """Everything `decide_entries` needs, in a few indexed reads: the feed's entries (with their
    articles' extraction), and the articles the items' canonical links or texts already name
    (for a short text, only link-less ones under the same title: the only ones it may join)."""
    rows = conn.execute(_FEED_ENTRIES, {"feed_id": feed_id}).all()
    entries = tuple(
        StoredEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] is not None) for r in rows
    )
    known = {e.key for e in entries}
    new_items = [i for i in items if i.key not in known]
    by_canonical: dict[str, KnownArticle] = {}
    links = sorted({i.canonical for i in new_items if i.canonical is not None})
    for chunk in _chunks(links):
        for row in conn.execute(_BY_CANONICAL, {"links": chunk}):
            by_canonical[row.canonical_url] = KnownArticle(row.id, row.extraction)
    by_text_hash: dict[str, tuple[TextMatch, ...]] = {}
    linkless = [i for i in new_items if i.canonical is None and i.text_hash]
    stories = sorted({i.text_hash for i in linkless if i.words >= thresholds.min_words})
    short = sorted(
        {(i.text_hash, i.entry.title) for i in linkless if i.words < thresholds.min_words}
    )
    queries = [
        *((_BY_TEXT, {"hashes": chunk}) for chunk in _chunks(stories)),
        *((_BY_SHORT_TEXT, {"pairs": chunk}) for chunk in _chunks([p for p in short if p[1]])),
    ]
    for query, params in queries:
        for row in conn.execute(query, params):
            found = TextMatch(row.id, row.title, row.url)
            by_text_hash[row.content_hash] = (*by_text_hash.get(row.content_hash, ()), found)
    return StoredFeed(feed_id, entries, by_canonical, by_text_hash)


def apply_entries(
    conn: sa.Connection,
    intent: EntriesIntent,
    items: Sequence[PreparedEntry],
    now: datetime,
    *,
    thresholds: Thresholds = Thresholds(),
) -> EntriesOutcome:
    """Write an intent with executemany statements (no per-row ORM work)."""
    article_ids = _insert_articles(conn, intent, items, now, thresholds)

    def target(ref: ArticleRef) -> int:
        return ref.id if ref.id is not None else article_ids[ref.new or 0]

    if intent.new_entries:
        conn.execute(
            insert_ignore(conn, Entry, ["feed_id", "key"]),
            [
                _entry_fields(items[e.item])
                | {
                    "feed_id": intent.feed_id,
                    "key": items[e.item].key,
                    "first_seen": now,
                    "last_seen": now,
                    "removed_at": None,
                    "history": [],
                    "article_id": target(e.article),
                }
                for e in intent.new_entries
            ],
        )
    _update_ids(conn, intent.seen, last_seen=now)
    _update_ids(conn, intent.restored, removed_at=None)
    if intent.rekeyed:
        conn.execute(
            sa.update(Entry)
            .where(Entry.id == sa.bindparam("entry_id"))
            .values(key=sa.bindparam("new_key"), guid=sa.bindparam("new_guid")),
            [
                {
                    "entry_id": r.entry_id,
                    "new_key": items[r.item].key,
                    "new_guid": items[r.item].entry.guid,
                }
                for r in intent.rekeyed
            ],
        )
        _update_ids(conn, [r.entry_id for r in intent.rekeyed], last_seen=now, removed_at=None)
        conn.execute(
            sa.update(Feed)
            .where(Feed.id == intent.feed_id)
            .values(guid_changes=Feed.guid_changes + len(intent.rekeyed))
        )
    _apply_changed(conn, intent.changed, items, now)
    _update_ids(conn, intent.removed, removed_at=now)
    if intent.refetch:  # a page never fetched successfully: another feed lists it now
        refetch = sa.select(Article.id).where(
            Article.id.in_(intent.refetch), Article.extraction.in_(NEVER_FETCHED)
        )
        conn.execute(
            sa.update(PageQueue).where(PageQueue.article_id.in_(refetch)).values(retry_count=0)
        )
        conn.execute(
            sa.update(Article)
            .where(Article.id.in_(intent.refetch), Article.extraction.in_(NEVER_FETCHED))
            .values(extraction=Extraction.PENDING)
        )
    return EntriesOutcome(
        new=len(intent.new_entries),
        updated=len(intent.changed),
        pending=[],
        changed=[c.article_id for c in intent.changed if c.recheck and c.article_id],
        guid_changes=len(intent.rekeyed),
        removed=len(intent.removed),
    )


# Built once, like `load_state`'s reads: the SET clause of `_UPDATE_ENTRIES` comes from the keys
# of each call (see store.rowupdate)
_INSERT_LINKLESS = sa.insert(Article.__table__).returning(
    Article.__table__.c.id, sort_by_parameter_order=True
)
_INSERT_QUEUE_ROWS = sa.insert(PageQueue.__table__)
_INSERT_REVISIONS = sa.insert(Revision.__table__)
_UPDATE_ENTRIES = sa.update(Entry.__table__).where(
    Entry.id.in_(sa.bindparam("entry_ids", expanding=True))
)


def _insert_articles(
    conn: sa.Connection,
    intent: EntriesIntent,
    items: Sequence[PreparedEntry],
    now: datetime,
    thresholds: Thresholds,
) -> list[int]:
    """Create the intent's new articles; their ids in `new_articles` order. A feed-text article
    gets its first revision (blobs packed by the worker) and its near-duplicate link at once."""
    rows = []
    for new in intent.new_articles:
        item = items[new.item]
        entry, feed_text = item.entry, new.extraction == Extraction.FEED
        row = {
            "url": entry.link,
            "canonical_url": item.canonical,
            "title": entry.title,
            "author": entry.author,
            "published": entry.published or entry.updated,
            "categories": list(entry.categories),
            "text": item.text,
            "html": entry.content or entry.summary,
            "word_count": item.words,
            "content_hash": item.text_hash if feed_text else None,
            "extraction": str(new.extraction),
            "created_at": now,
            "updated_at": now,
        }
        rows.append(row)
    ids: list[int] = []
    linked = [r for r in rows if r["canonical_url"] is not None]
    if linked:  # another process may have inserted one of these links meanwhile: found below
        statement = insert_ignore(conn, Article, ["canonical_url"], ["id", "canonical_url"])
        found = dict((url, article_id) for article_id, url in conn.execute(statement, linked))
        created = list(found.values())
        missing = [r["canonical_url"] for r in linked if r["canonical_url"] not in found]
        for chunk in _chunks(missing):
            query = sa.select(Article.canonical_url, Article.id)
            found |= dict(conn.execute(query.where(Article.canonical_url.in_(chunk))).all())
    else:
        found, created = {}, []
    # link-less articles (two may share a short text: "Read more..." under two titles): one
    # multi-row INSERT … RETURNING, its ids in the order of the rows
    linkless = [r for r in rows if r["canonical_url"] is None]
    unlinked = iter(conn.execute(_INSERT_LINKLESS, linkless).scalars() if linkless else ())
    for row in rows:
        if row["canonical_url"] is not None:
            ids.append(found[row["canonical_url"]])
        else:
            ids.append(next(unlinked))
            created.append(ids[-1])
    if created:  # each new article's row on the page queue
        conn.execute(_INSERT_QUEUE_ROWS, [{"article_id": i} for i in created])
    _first_revisions(conn, intent, items, ids, now, thresholds)
    return ids


def _first_revisions(
    conn: sa.Connection,
    intent: EntriesIntent,
    items: Sequence[PreparedEntry],
    ids: Sequence[int],
    now: datetime,
    thresholds: Thresholds,
) -> None:
    """The first version of each new feed-text article, and its near-duplicate link."""
    texts = [
        (article_id, items[new.item])
        for new, article_id in zip(intent.new_articles, ids, strict=True)
        if new.extraction == Extraction.FEED and items[new.item].text_blob is not None
    ]
    if not texts:
        return
    put_packed(conn, [item.text_blob for _, item in texts if item.text_blob])
    conn.execute(
        _INSERT_REVISIONS,
        [
            {
                "article_id": article_id,
                "created_at": now,
                "title": item.entry.title,
                "text_blob": item.text_blob.hash if item.text_blob else "",
                "content_hash": item.text_hash,
                "reason": "initial",
            }
            for article_id, item in texts
        ],
    )
    for article_id, item in texts:  # one by one: a copy later in the document finds the first
        # a text under min_words never matches (dedupe.verify), so it is not indexed either:
        # 32 index rows per teaser were most of the write of a feed of short items
        if item.words >= thresholds.min_words:
            link_article(conn, article_id, features(item.text), item.keys, thresholds)
            index_text(conn, article_id, item.keys)


def _apply_changed(
    conn: sa.Connection,
    changed: Sequence[ChangedEntry],
    items: Sequence[PreparedEntry],
    now: datetime,
) -> None:
    """New versions of known items: the old one goes to the entry's history."""
    if not changed:
        return
    ids = [c.entry_id for c in changed]
    old = {
        row.id: row
        for row in conn.execute(
            sa.select(Entry.id, Entry.title, Entry.summary, Entry.content, Entry.history).where(
                Entry.id.in_(ids)
            )
        )
    }
    replaced = iso_utc(now)
    bodies = {
        c.entry_id: pack(
            json.dumps(
                {"summary": old[c.entry_id].summary, "content": old[c.entry_id].content}
            ).encode()
        )
        for c in changed
    }
    put_packed(conn, list(bodies.values()))
    conn.execute(
        sa.update(Entry)
        .where(Entry.id == sa.bindparam("entry_id"))
        .values(
            {
                **{name: sa.bindparam(f"new_{name}") for name in ENTRY_FIELDS},
                "key": sa.bindparam("new_key"),
                "content_hash": sa.bindparam("new_content_hash"),
                "last_seen": sa.bindparam("new_last_seen"),
                "removed_at": None,
                "history": sa.bindparam("new_history"),
            }
        ),
        [
            {f"new_{name}": value for name, value in _entry_fields(items[c.item]).items()}
            | {
                "entry_id": c.entry_id,
                "new_key": items[c.item].key,
                "new_last_seen": now,
                "new_history": [
                    *(old[c.entry_id].history or []),
                    {
                        "title": old[c.entry_id].title,
                        "body": bodies[c.entry_id].hash,
                        "replaced_at": replaced,
                    },
                ],
            }
            for c in changed
        ],
    )
    for c in changed:  # the article's text is this feed's: its edit is the article's new version
        if not c.feed_revision or c.article_id is None:
            continue
        item = items[c.item]
        set_text(
            conn,
            c.article_id,
            title=item.entry.title,
            facts=text_facts(item.text),
            reason="feed",
            now=now,
            link=None,
        )
        html = item.entry.content or item.entry.summary
        update_row(conn, Article, c.article_id, {"html": html, "updated_at": now})


def _update_ids(conn: sa.Connection, ids: Sequence[int], **values: object) -> None:
    for chunk in _chunks(list(ids)):
        conn.execute(_UPDATE_ENTRIES, {"entry_ids": chunk, **values})


def _chunks(values: list[Any], size: int = ID_CHUNK) -> list[list[Any]]:
    """Slices of `values` small enough for SQLite's bind-parameter limit."""
    return [values[start : start + size] for start in range(0, len(values), size)]


ENTRY_FIELDS = (
    "guid",
    "link",
    "title",
    "author",
    "summary",
    "content",
    "categories",
    "enclosures",
    "published",
    "updated",
)


def _entry_fields(item: PreparedEntry) -> dict[str, object]:
    entry = item.entry
    return {
        "guid": entry.guid,
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "summary": entry.summary,
        "content": entry.content,
        "categories": list(entry.categories),
        "enclosures": list(entry.enclosures),
        "published": entry.published,
        "updated": entry.updated,
        "content_hash": item.fingerprint,
    }


# Built once: read after every feed update with full text, and made due by `feeds add`
_PENDING_OF_FEED = (
    sa.select(Article.id)
    .join(Entry, Entry.article_id == Article.id)
    .where(Entry.feed_id == sa.bindparam("feed_id"), Article.extraction == "pending")
)
_PENDING = _PENDING_OF_FEED.distinct().order_by(Article.id)
_DUE_NOW = (
    sa.update(PageQueue)
    .where(PageQueue.article_id.in_(_PENDING_OF_FEED))
    .values(due_at=sa.func.coalesce(PageQueue.due_at, sa.bindparam("now", type_=UTCDateTime)))
)


def _pending_articles(conn: sa.Connection, feed_id: int) -> list[int]:
    return list(conn.execute(_PENDING, {"feed_id": feed_id}).scalars())


def make_pending_due(conn: sa.Connection, feed_id: int, now: datetime) -> None:
    """Put the feed's pending pages on the queue now (`due_at`), for a worker that records a
    feed but leaves its pages to later (`feeds add`): the daemon's page claim, or the next
    fetch, takes them instead of waiting for the feed's next poll."""
    conn.execute(_DUE_NOW, {"feed_id": feed_id, "now": now})


def pending_articles(engine: Engine, feed_id: int) -> list[int]:
    with reading(engine) as conn:
        return _pending_articles(conn, feed_id)


_PUBLISHED = (  # built once: read at the end of every successful poll
    sa.select(sa.func.coalesce(Entry.published, Entry.first_seen))
    .where(Entry.feed_id == sa.bindparam("feed_id"))
    .order_by(Entry.id.desc())
    .limit(sa.bindparam("limit"))
)


def recent_publication_times(conn: sa.Connection, feed_id: int, limit: int) -> list[datetime]:
    """When this feed's latest `limit` entries were published (first seen, if undated): its
    pace (schedule.posting_interval)."""
    return list(conn.execute(_PUBLISHED, {"feed_id": feed_id, "limit": limit}).scalars())
