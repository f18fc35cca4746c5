"""What a fetched feed document changes in the archive, decided without I/O.

Input: the feed's stored state (`StoredFeed`, loaded in one read) and the prepared document.
Output: an `EntriesIntent` saying which entries to insert, update, re-key, touch or mark
removed, which articles to create or attach to, which articles' pages to (re)fetch and which
feed-text articles get a new revision. `store.entries.apply_entries` writes it.

The rules (each tested by tables and golden files in tests/test_decide.py):
- an item is known by its key (guid, else canonical link, else content) within its feed;
- an unknown key whose content and canonical link match an entry whose key left the document
  is that entry under a new guid (a feed that rewrites guids does not duplicate its items);
- a new item's article is found by canonical link (any feed), else, for a link-less item, by
  exact text when that text identifies a story (dedupe.may_fold_by_hash: long enough, or the
  same title; "Read more..." under two titles is two items); else a new article: `pending`
  (page to fetch) when full text is on and the item has a link, else its text is the feed's
  (`feed`, first revision `initial`);
- a new item attached to an article whose page was never fetched successfully (`feed` or
  `failed`) gets that page fetched: the text another feed supplied never stands for the page;
- a changed item (its fingerprint differs) updates the entry, the old version kept in its
  history; a full-text article is re-checked at its page, a feed-text one gets the new text as
  a `feed` revision;
- entries gone from the document are marked removed only while newer than the oldest item it
  still lists (feeds list only their latest items: older ones aged out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ingest.dedupe import Thresholds, may_fold_by_hash
from ingest.identity import canonical_url
from ingest.update.prepare import PreparedEntry


class Extraction(StrEnum):
    """Where an article's text comes from (the `article.extraction` column)."""

    PENDING = "pending"  # page still to fetch
    FULL = "full"  # extracted from its page
    FEED = "feed"  # the feed's text stands in
    FAILED = "failed"  # no page text and no feed text


NEVER_FETCHED = frozenset({Extraction.FEED, Extraction.FAILED})


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What the decision needs of one stored entry of the feed."""

    id: int
    key: str
    fingerprint: str | None
    link: str | None
    article_id: int | None
    extraction: str | None  # of its article
    published: datetime | None
    first_seen: datetime
    removed: bool

    @property
    def when(self) -> datetime:
        return self.published or self.first_seen


@dataclass(frozen=True, slots=True)
class KnownArticle:
    id: int
    extraction: str


@dataclass(frozen=True, slots=True)
class TextMatch:
    """An archived article with the same text hash as a link-less item (a candidate to join)."""

    id: int
    title: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """The feed's stored entries, and the archived articles the document's items may join."""

    feed_id: int
    entries: tuple[StoredEntry, ...] = ()
    by_canonical: Mapping[str, KnownArticle] = field(default_factory=dict)
    by_text_hash: Mapping[str, tuple[TextMatch, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """An article an entry points at: an archived one (`id`) or one this intent creates
    (`new`, an index into `EntriesIntent.new_articles`)."""

    id: int | None = None
    new: int | None = None


@dataclass(frozen=True, slots=True)
class NewArticle:
    item: int  # index of the document item it comes from
    extraction: Extraction


@dataclass(frozen=True, slots=True)
class NewEntry:
    item: int
    article: ArticleRef


@dataclass(frozen=True, slots=True)
class ChangedEntry:
    """A known item whose title or text changed: a new version of the entry."""

    item: int
    entry_id: int
    article_id: int | None
    recheck: bool  # its article has full text: look at the page for the edit
    feed_revision: bool  # its article's text is the feed's: the new text is a revision


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """A known item under a new key (a feed that rewrote its guids)."""

    item: int
    entry_id: int


@dataclass(frozen=True, slots=True)
class EntriesIntent:
    feed_id: int
    new_articles: tuple[NewArticle, ...] = ()
    new_entries: tuple[NewEntry, ...] = ()
    changed: tuple[ChangedEntry, ...] = ()
    rekeyed: tuple[Rekeyed, ...] = ()
    seen: tuple[int, ...] = ()  # unchanged entries (last_seen only)
    restored: tuple[int, ...] = ()  # entries marked removed that the document lists again
    removed: tuple[int, ...] = ()  # entries newly gone from the document
    refetch: tuple[int, ...] = ()  # articles whose page must be fetched (never fetched yet)
    duplicates: tuple[int, ...] = ()  # items repeating an earlier item's key: ignored


def decide_entries(
    stored: StoredFeed,
    items: Sequence[PreparedEntry],
    now: datetime,
    *,
    fulltext: bool,
    thresholds: Thresholds = Thresholds(),
) -> EntriesIntent:
    """The intent of one fetched document (see the module doc for the rules)."""
    by_key = {entry.key: entry for entry in stored.entries}
    keys = {item.key for item in items}
    renamable: dict[str, list[StoredEntry]] = {}
    for entry in stored.entries:
        if entry.key not in keys and entry.fingerprint is not None:
            renamable.setdefault(entry.fingerprint, []).append(entry)
    new_articles: list[NewArticle] = []
    created_by_canonical: dict[str, int] = {}
    created_by_hash: dict[str, int] = {}
    new_entries: list[NewEntry] = []
    changed: list[ChangedEntry] = []
    rekeyed: list[Rekeyed] = []
    seen: list[int] = []
    restored: list[int] = []
    refetch: dict[int, None] = {}
    duplicates: list[int] = []
    listed: set[int] = set()  # stored entries the document lists
    whens: list[datetime] = []
    done: set[str] = set()
    for index, item in enumerate(items):
        if item.key in done:
            duplicates.append(index)
            continue
        done.add(item.key)
        row = by_key.get(item.key)
        renamed = row is None and (row := _renamed(renamable, item)) is not None
        if row is None:
            ref = _article_for(
                item,
                index,
                stored,
                fulltext,
                new_articles,
                created_by_canonical,
                created_by_hash,
                thresholds,
            )
            if ref.id is not None and fulltext and _never_fetched(stored, item):
                refetch[ref.id] = None
            new_entries.append(NewEntry(index, ref))
            whens.append(item.entry.published or now)
            continue
        listed.add(row.id)
        whens.append(item.entry.published or row.first_seen)
        if row.fingerprint != item.fingerprint:
            extraction = row.extraction
            changed.append(
                ChangedEntry(
                    index,
                    row.id,
                    row.article_id,
                    recheck=row.article_id is not None and extraction == Extraction.FULL,
                    feed_revision=row.article_id is not None and extraction in NEVER_FETCHED,
                )
            )
        elif renamed:
            rekeyed.append(Rekeyed(index, row.id))
        else:
            seen.append(row.id)
        if row.removed:
            restored.append(row.id)
    oldest = min(whens, default=None)
    removed = tuple(
        entry.id
        for entry in stored.entries
        if entry.id not in listed
        and not entry.removed
        and entry.key not in keys
        and oldest is not None
        and entry.when > oldest
    )
    return EntriesIntent(
        stored.feed_id,
        tuple(new_articles),
        tuple(new_entries),
        tuple(changed),
        tuple(rekeyed),
        tuple(seen),
        tuple(restored),
        removed,
        tuple(refetch),
        tuple(duplicates),
    )


def _renamed(renamable: dict[str, list[StoredEntry]], item: PreparedEntry) -> StoredEntry | None:
    """The stored entry this item was under its previous key: same content, same canonical link
    (or both without), and a key the document no longer lists. Each is taken once."""
    candidates = renamable.get(item.fingerprint, [])
    for candidate in candidates:
        link = canonical_url(candidate.link) if candidate.link else None
        if link == item.canonical:
            candidates.remove(candidate)
            return candidate
    return None


def _never_fetched(stored: StoredFeed, item: PreparedEntry) -> bool:
    known = stored.by_canonical.get(item.canonical) if item.canonical else None
    return known is not None and known.extraction in NEVER_FETCHED


def _same_text(
    item: PreparedEntry, candidates: Sequence[TextMatch], thresholds: Thresholds
) -> int | None:
    """The archived article a link-less item is by its text: the earliest with the same text
    hash, when that text identifies a story (dedupe.may_fold_by_hash)."""
    for candidate in candidates:
        titles = (item.entry.title, candidate.title)
        if may_fold_by_hash(item.words, thresholds, titles=titles, links=(None, candidate.url)):
            return candidate.id
    return None


def _text_identity(item: PreparedEntry, thresholds: Thresholds) -> str | None:
    """What makes two link-less items of one document one article (the rule of
    dedupe.may_fold_by_hash as a key): a text long enough to be a story, else the same short
    text under the same title (None: nothing identifies it)."""
    if item.text_hash is None:
        return None
    if item.words >= thresholds.min_words:
        return item.text_hash
    title = (item.entry.title or "").strip()
    return f"{item.text_hash}\x1f{title}" if title else None


def _article_for(
    item: PreparedEntry,
    index: int,
    stored: StoredFeed,
    fulltext: bool,
    new_articles: list[NewArticle],
    by_canonical: dict[str, int],
    by_hash: dict[str, int],
    thresholds: Thresholds,
) -> ArticleRef:
    """The article a new item is a source of: archived, created earlier in this document, or
    created now."""
    if item.canonical is not None:
        if (known := stored.by_canonical.get(item.canonical)) is not None:
            return ArticleRef(id=known.id)
        if item.canonical in by_canonical:
            return ArticleRef(new=by_canonical[item.canonical])
    elif item.text_hash is not None:
        matches = stored.by_text_hash.get(item.text_hash, ())
        if (found := _same_text(item, matches, thresholds)) is not None:
            return ArticleRef(id=found)
        if (identity := _text_identity(item, thresholds)) in by_hash:
            return ArticleRef(new=by_hash[identity])
    pending = fulltext and item.canonical is not None
    new_articles.append(NewArticle(index, Extraction.PENDING if pending else Extraction.FEED))
    ref = len(new_articles) - 1
    if item.canonical is not None:
        by_canonical[item.canonical] = ref
    elif (identity := _text_identity(item, thresholds)) is not None:
        by_hash[identity] = ref
    return ArticleRef(new=ref)
