"""The update decider (ingest.update.decide) and the item preparation: pure functions, tested
by tables of cases and golden files (tests/golden: feed + stored state → intent)."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from ingest.records import ParsedEntry
from ingest.update.decide import (
    ArticleRef,
    ChangedEntry,
    Extraction,
    KnownArticle,
    NewArticle,
    NewEntry,
    Rekeyed,
    StoredEntry,
    StoredFeed,
    TextMatch,
    decide_entries,
)
from ingest.update.prepare import PreparedEntry, parse_and_prepare, prepare_entries, prepare_entry

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2018, 7, 4, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def item(
    guid: str, link: str | None = None, text: str = "text", title: str | None = None
) -> PreparedEntry:
    return prepare_entry(ParsedEntry(guid=guid, link=link, title=title or guid, summary=text))


def stored(
    entry_id: int,
    of: PreparedEntry,
    *,
    extraction: str | None = "full",
    changed: bool = False,
    key: str | None = None,
    when: datetime = NOW - DAY,
    removed: bool = False,
) -> StoredEntry:
    return StoredEntry(
        id=entry_id,
        key=key or of.key,
        fingerprint="older" if changed else of.fingerprint,
        link=of.entry.link,
        article_id=100 + entry_id,
        extraction=extraction,
        published=when,
        first_seen=when,
        removed=removed,
    )


def test_new_items_become_entries_and_pending_articles() -> None:
    a, b = item("a", "http://x.org/a"), item("b", "http://x.org/b")
    intent = decide_entries(StoredFeed(1), [a, b], NOW, fulltext=True)
    assert intent.new_articles == (
        NewArticle(0, Extraction.PENDING),
        NewArticle(1, Extraction.PENDING),
    )
    assert intent.new_entries == (NewEntry(0, ArticleRef(new=0)), NewEntry(1, ArticleRef(new=1)))
    without_pages = decide_entries(StoredFeed(1), [a], NOW, fulltext=False)
    assert without_pages.new_articles == (NewArticle(0, Extraction.FEED),)


@pytest.mark.parametrize(
    ("extraction", "fulltext", "refetch"),
    [
        ("full", True, ()),
        ("pending", True, ()),
        ("feed", True, (55,)),  # text another feed supplied: the page is fetched now
        ("failed", True, (55,)),
        ("feed", False, ()),  # no pages fetched in this run at all
    ],
)
def test_an_item_joins_the_archived_article_of_its_canonical_link(
    extraction: str, fulltext: bool, refetch: tuple[int, ...]
) -> None:
    new = item("a", "http://x.org/a?utm_source=feed#top")
    known = StoredFeed(1, by_canonical={"http://x.org/a": KnownArticle(55, extraction)})
    intent = decide_entries(known, [new], NOW, fulltext=fulltext)
    assert intent.new_articles == ()
    assert intent.new_entries == (NewEntry(0, ArticleRef(id=55)),)
    assert intent.refetch == refetch


def test_linkless_items_join_by_exact_text_and_items_of_one_document_share_articles() -> None:
    note = item("n", None, "Same  text")
    archived = StoredFeed(1, by_text_hash={note.text_hash or "": (TextMatch(9, "n", None),)})
    assert decide_entries(archived, [note], NOW, fulltext=True).new_entries == (
        NewEntry(0, ArticleRef(id=9)),
    )
    twins = [item("1", "http://x.org/s"), item("2", "http://x.org/s?utm_medium=rss")]
    intent = decide_entries(StoredFeed(1), twins, NOW, fulltext=True)
    assert len(intent.new_articles) == 1
    assert [e.article for e in intent.new_entries] == [ArticleRef(new=0)] * 2


STORY = " ".join(f"word{i}" for i in range(120))  # long enough to identify a story


@pytest.mark.parametrize(
    ("text", "titles", "articles"),
    [
        ("Read more...", ("Story about apples", "Story about oranges"), 2),  # a teaser
        ("Continue reading", ("Same title", "Same title"), 1),  # the same item twice
        (STORY, ("One title", "Another title"), 1),  # the same story
    ],
)
def test_linkless_items_share_an_article_only_when_their_text_identifies_them(
    text: str, titles: tuple[str, str], articles: int
) -> None:
    items = [item(str(n), None, text, title) for n, title in enumerate(titles)]
    intent = decide_entries(StoredFeed(1), items, NOW, fulltext=True)
    assert len(intent.new_articles) == articles
    archived = StoredFeed(
        1, by_text_hash={items[0].text_hash or "": (TextMatch(9, titles[0], None),)}
    )
    joined = decide_entries(archived, items[1:], NOW, fulltext=True).new_entries
    assert (joined == (NewEntry(0, ArticleRef(id=9)),)) is (articles == 1)


@pytest.mark.parametrize(
    ("extraction", "recheck", "feed_revision"),
    [
        ("full", True, False),
        ("feed", False, True),
        ("failed", False, True),
        ("pending", False, False),
    ],
)
def test_a_changed_item_is_a_new_version(
    extraction: str, recheck: bool, feed_revision: bool
) -> None:
    now = item("a", "http://x.org/a", "new text")
    state = StoredFeed(1, (stored(1, now, extraction=extraction, changed=True),))
    intent = decide_entries(state, [now], NOW, fulltext=True)
    assert intent.changed == (ChangedEntry(0, 1, 101, recheck, feed_revision),)
    assert intent.seen == ()


def test_unchanged_items_are_only_seen_and_a_removed_one_is_restored() -> None:
    a, b = item("a", "http://x.org/a"), item("b", "http://x.org/b")
    state = StoredFeed(1, (stored(1, a), stored(2, b, removed=True)))
    intent = decide_entries(state, [a, b], NOW, fulltext=True)
    assert (intent.seen, intent.restored, intent.changed, intent.new_entries) == (
        (1, 2),
        (2,),
        (),
        (),
    )


def test_a_known_item_under_a_new_guid_keeps_its_entry() -> None:
    old = item("old", "http://x.org/a", title="same")
    new = item("new", "http://x.org/a?utm_source=x", title="same")
    other_link = item("other", "http://x.org/b", title="same")
    state = StoredFeed(1, (stored(1, old),))
    intent = decide_entries(state, [new], NOW, fulltext=True)
    assert (intent.rekeyed, intent.new_entries, intent.removed) == ((Rekeyed(0, 1),), (), ())
    # same content but another link: another story
    assert decide_entries(state, [other_link], NOW, fulltext=True).rekeyed == ()


@pytest.mark.parametrize(
    ("age", "removed"),
    [(timedelta(hours=1), True), (2 * DAY, False)],  # newer than the oldest listed: removed
)
def test_entries_gone_from_the_document(age: timedelta, removed: bool) -> None:
    listed, gone = item("listed", "http://x.org/l"), item("gone", "http://x.org/g")
    state = StoredFeed(1, (stored(1, listed, when=NOW - DAY), stored(2, gone, when=NOW - age)))
    intent = decide_entries(state, [listed], NOW, fulltext=True)
    assert intent.removed == ((2,) if removed else ())
    assert decide_entries(state, [], NOW, fulltext=True).removed == ()  # an empty document


def test_a_repeated_key_in_one_document_is_ignored() -> None:
    first, again = item("a", "http://x.org/a"), item("a", "http://x.org/other")
    intent = decide_entries(StoredFeed(1), [first, again], NOW, fulltext=True)
    assert (len(intent.new_entries), intent.duplicates) == (1, (1,))


def test_one_bad_item_never_costs_its_siblings() -> None:
    controls = ParsedEntry("c", "http://x.org/c", "form\x0cfeed", summary="<p>a\x0cb\x01c\x00</p>")
    broken = ParsedEntry("b", "http://x.org/b", 42)  # type: ignore[arg-type]
    good = ParsedEntry("g", "http://x.org/g", "fine", summary="<p>ok</p>")
    prepared, skipped = prepare_entries((controls, broken, good))
    assert [p.entry.guid for p in prepared] == ["c", "g"]
    assert prepared[0].entry.title == "form feed"  # spacing controls become a space
    assert prepared[0].text == "a bc"
    assert [(s.index, s.reason.split(":")[0]) for s in skipped] == [(1, "TypeError")]


# -- golden files ---------------------------------------------------------------------------


def _state(data: dict[str, Any], items: tuple[PreparedEntry, ...]) -> StoredFeed:
    """A stored state from JSON; `SAME-AS:n` / `TEXT-OF:n` stand for item n's fingerprint or
    text hash (they are sha256 values, unreadable in a file written by hand)."""

    def ref(value: str) -> str:
        kind, _, n = value.partition(":")
        if kind == "SAME-AS":
            return items[int(n)].fingerprint
        if kind == "TEXT-OF":
            return items[int(n)].text_hash or ""
        return value

    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

    entries = tuple(
        StoredEntry(
            **(
                e
                | {
                    "fingerprint": ref(e["fingerprint"]),
                    "published": when(e["published"]),
                    "first_seen": when(e["first_seen"]),
                }
            )
        )
        for e in data["entries"]
    )
    return StoredFeed(
        data["feed_id"],
        entries,
        {url: KnownArticle(**a) for url, a in data["by_canonical"].items()},
        {
            ref(digest): tuple(TextMatch(**m) for m in matches)
            for digest, matches in data["by_text_hash"].items()
        },
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(p.name.split(".")[0] for p in GOLDEN.glob("*.feed.xml")))
def test_golden(name: str) -> None:
    body = (GOLDEN / f"{name}.feed.xml").read_bytes()
    feed = parse_and_prepare(body, {"content-type": "application/rss+xml"}, "http://example.org/")
    data = json.loads((GOLDEN / f"{name}.state.json").read_text())
    intent = decide_entries(
        _state(data, feed.entries), feed.entries, NOW, fulltext=data["fulltext"]
    )
    got = _plain(dataclasses.asdict(intent)) | {
        "items": [f"{p.key} {p.entry.title}" for p in feed.entries]
    }
    path = GOLDEN / f"{name}.intent.json"
    if os.environ.get("INGEST_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2) + "\n")
    assert got == json.loads(path.read_text())
