"""The CPU work of a feed update, done next to parsing in the worker process: per item its key,
canonical link, fingerprint, plain text, text hash, compressed revision text and, for a text long
enough to match, its near-duplicate index keys.

Pure functions. One bad item never costs the others: an item that cannot be prepared becomes a
`Skipped` value (index and reason) and its siblings go on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ingest.dedupe import band_keys, features
from ingest.identity import (
    canonical_url,
    content_hash,
    entry_fingerprint,
    entry_key,
    word_count,
)
from ingest.parse import parse_feed
from ingest.parse.sanitize import clean_record, html_to_text
from ingest.records import Extracted, ParsedEntry, ParsedFeed
from ingest.update.packed import PackedBlob, pack
from ingest.update.page import PageText
from ingest.update.textfacts import text_facts


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """A feed item and everything computed from it that the decision and the write need."""

    entry: ParsedEntry
    key: str
    fingerprint: str  # entry_fingerprint: a change is a new version of the entry
    canonical: str | None  # canonical_url of the link
    text: str  # the item's own text (content, else summary) as plain text
    text_hash: str | None  # content_hash of `text`, None when empty
    words: int
    text_blob: PackedBlob | None  # `text` compressed, for a revision
    keys: tuple[int, ...]  # the text's MinHash LSH keys (near-duplicate index), () when empty


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item that could not be prepared: kept out, said in the report."""

    index: int
    title: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    feed: ParsedFeed
    entries: tuple[PreparedEntry, ...]
    skipped: tuple[Skipped, ...] = ()


def prepare_entry(entry: ParsedEntry, min_words: int = 0) -> PreparedEntry:
    """One item's CPU work. Its MinHash keys only when its text has `min_words`
    (`near_duplicate_min_words`): a shorter text never matches, and is not indexed."""
    entry = clean_record(entry)  # the one cleaning of stored text (parse/sanitize.py)
    text = html_to_text(entry.content or entry.summary or "")
    words = word_count(text)
    return PreparedEntry(
        entry=entry,
        key=entry_key(entry),
        fingerprint=entry_fingerprint(entry),
        canonical=canonical_url(entry.link) if entry.link else None,
        text=text,
        text_hash=content_hash(text) if text else None,
        words=words,
        text_blob=pack(text.encode()) if text else None,
        keys=band_keys(features(text)) if text and words >= min_words else (),
    )


def prepare_entries(
    entries: tuple[ParsedEntry, ...], min_words: int = 0
) -> tuple[tuple[PreparedEntry, ...], tuple[Skipped, ...]]:
    prepared: list[PreparedEntry] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(entries):
        try:
            prepared.append(prepare_entry(entry, min_words))
        except Exception as exc:  # one hostile item must not cost its siblings
            skipped.append(Skipped(index, entry.title, f"{type(exc).__name__}: {exc}"))
    return tuple(prepared), tuple(skipped)


def parse_and_prepare(
    body: bytes, headers: dict[str, str], url: str, min_words: int = 0
) -> PreparedFeed:
    """`parse_feed` plus the items' preparation: what the worker process returns."""
    feed = parse_feed(body, headers, url)
    prepared, skipped = prepare_entries(feed.entries, min_words)
    # the feed keeps the cleaned items themselves: pickled once, shared with `prepared`
    return PreparedFeed(replace(feed, entries=tuple(p.entry for p in prepared)), prepared, skipped)


_WARM_UP_TEXT = " ".join(f"word{n}" for n in range(12))
_WARM_UP_FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>warm up</title>'
    "<item><title>warm up</title><link>https://example.org/a/1</link>"
    f"<description>&lt;p&gt;{_WARM_UP_TEXT}&lt;/p&gt;</description></item></channel></rss>"
).encode()


def warm_up() -> None:
    """Load what parsing loads lazily (the SAX parser, courlan's and babel's tables, MinHash's
    permutations), so a process that forks workers shares it with them (ingest.parsepreload)."""
    parse_and_prepare(
        _WARM_UP_FEED, {"content-type": "application/rss+xml"}, "https://example.org/"
    )


def page_text(extracted: Extracted | None) -> PageText | None:
    """What the page rules and the write need of an extraction: None when it found no text."""
    if extracted is None or not extracted.text.strip():
        return None
    link = extracted.canonical_url
    return PageText(extracted, canonical_url(link) if link else None, text_facts(extracted.text))
