"""Dedupe: fingerprints and the near-duplicate decision (tables of cases), the labelled corpus
through the real write path (precision/recall asserted), and the pipeline end to end."""

from __future__ import annotations

import html
import itertools
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.config import Settings
from ingest.dedupe import (
    BANDS,
    Candidate,
    Features,
    Thresholds,
    band_keys,
    choose_group,
    features,
    may_fold_by_hash,
    verify,
)
from ingest.extract import extract_article
from ingest.identity import content_hash
from tests.conftest import HTML, RSS, Cli, Site
from tests.corpus import generate, newsroom
from tests.corpus.evaluate import evaluate, score
from tests.corpus.generate import Document
from tests.fixturefiles import load_fixture, seed_article
from tests.oldschema import archive_at

SEED = seed_article()
TEXT = "\n".join(SEED.paragraphs)
DEFAULTS = Thresholds(Settings().near_duplicate_similarity, Settings().near_duplicate_min_words)
OTHER = "\n".join(generate.STORIES["sensetime-lab"][1])  # same topic, names and vocabulary


def _story(kind: str, index: int = 0) -> str:
    return next(d.text for d in newsroom.story_documents(index) if d.kind == kind)


def test_features_are_word_5_grams_ignoring_case_punctuation_and_spacing() -> None:
    assert features("One two three four five six.").shingles == {
        "one two three four five",
        "two three four five six",
    }
    assert features("  " + TEXT.upper().replace(" ", "   ")).shingles == features(TEXT).shingles
    assert features("Read more...") == Features(frozenset({"read more"}), 2)
    # unspaced scripts: each character is a word, as identity.word_count counts them
    assert features("商汤科技宣布在新加坡").shingles >= {"商 汤 科 技 宣", "布 在 新 加 坡"}
    assert features("商汤科技宣布在新加坡").words == 10


def test_band_keys_are_signed_64_bit_one_per_band_and_copies_share_one() -> None:
    keys = band_keys(features(TEXT))
    assert len(keys) == BANDS
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert band_keys(features(TEXT.upper())) == keys
    edited = TEXT.replace("an strategic", "a strategic") + "\nCorrection: the date was wrong."
    assert set(band_keys(features(edited))) & set(keys)
    assert not set(band_keys(features(OTHER))) & set(keys)
    assert band_keys(features("")) == ()


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        ("syndicated", 0.9),  # the whole story, in another site's boilerplate
        ("edit-2", 0.95),
        ("edit-8", 0.8),
        ("cut", 0.9),  # a paragraph cut: contained in the original
        ("added", 0.9),  # an editor's note and two paragraphs added
        ("combined", 0.8),  # cut, edited, and another site's boilerplate
    ],
)
def test_a_copy_verifies_against_its_original(copy: str, expected: float) -> None:
    score = verify(features(_story("original")), features(_story(copy)), DEFAULTS)
    assert score is not None and score >= expected, score


@pytest.mark.parametrize(
    ("index", "kind"),
    [
        (1, "translation"),  # same names and numbers, other words
        (1, "teaser"),  # too short
        (1, "excerpt"),  # contained in the story, but a quarter of it: not a copy
        (1, "feed-item"),  # "… Continue reading"
    ],
)
def test_teasers_excerpts_and_translations_do_not_verify(index: int, kind: str) -> None:
    assert (
        verify(features(_story("original", index)), features(_story(kind, index)), DEFAULTS) is None
    )


def test_different_stories_from_one_newsroom_never_verify() -> None:
    """Same templates, names, places and site boilerplate; no copy: no pair may verify."""
    originals = [features(_story("original", i)) for i in range(40)]
    scores = [
        verify(a, b, Thresholds(0.01, 100)) or 0 for a, b in itertools.combinations(originals, 2)
    ]
    assert max(scores) < DEFAULTS.min_similarity - 0.1, max(scores)  # a margin, not a near miss
    assert verify(features(TEXT), features(OTHER), DEFAULTS) is None


def test_the_seed_articles_pages_verify_against_each_other_and_other_pages_do_not() -> None:
    base = "http://127.0.0.1:8000"
    texts = {}
    for name in (
        "sensetime.html",
        "sensetime-cp1252.html",
        "sensetime-revised.html",
        "syndicated.html",
        "other-1.html",
        "other-2.html",
    ):
        html = load_fixture(name, base).decode("cp1252" if "cp1252" in name else "utf-8")
        extracted = extract_article(html, f"{base}/{name}")
        assert extracted is not None, name
        texts[name] = features(extracted.text)
    seed = [n for n in texts if n.startswith(("sensetime", "syndicated"))]
    for a, b in itertools.combinations(texts, 2):
        score = verify(texts[a], texts[b], DEFAULTS)
        assert (score is not None) == (a in seed and b in seed), (a, b, score)
    assert verify(texts["sensetime.html"], features(TEXT), DEFAULTS) == 1.0


def _candidate(article_id: int, text: str) -> Candidate:
    return Candidate(article_id, features(text))


def test_a_text_joins_a_group_only_when_verified_against_its_original() -> None:
    """No chaining: candidates are originals; resembling a member is not enough."""
    original, copy = _story("original", 0), _story("combined", 0)
    assert choose_group(features(copy), [_candidate(1, original)], DEFAULTS).original == 1
    assert choose_group(features(OTHER), [_candidate(1, TEXT)], DEFAULTS).original is None


def test_a_text_close_to_two_groups_merges_them_only_if_their_originals_verify() -> None:
    story = _story("original", 3)
    same = choose_group(
        features(story),
        [_candidate(1, _story("cut", 3)), _candidate(5, _story("edit-2", 3))],
        DEFAULTS,
    )
    assert (same.original, same.merges) == (1, {5: 1})
    # a text made of two stories' halves verifies against both, which do not verify together
    first, second = _story("original", 0).split("\n"), _story("original", 6).split("\n")
    halves = "\n".join([*first, *second])
    both = choose_group(
        features(halves),
        [_candidate(1, "\n".join(first)), _candidate(2, "\n".join(second))],
        Thresholds(0.6, 100),
    )
    assert both.merges == {}


@pytest.mark.parametrize(
    ("words", "titles", "links", "expected"),
    [
        (2, ("Story about apples", "Story about oranges"), (None, None), False),  # teasers
        (2, ("Story about apples", "Story about apples"), (None, None), True),  # same item
        (2, ("Story", "Story"), ("https://a.example/1", "https://a.example/2"), False),
        (2, (None, None), (None, None), False),  # nothing but a teaser
        (300, ("One title", "Another title"), (None, "https://a.example/1"), True),  # a story
    ],
)
def test_an_equal_text_folds_two_items_only_with_substance(
    words: int,
    titles: tuple[str | None, str | None],
    links: tuple[str | None, str | None],
    expected: bool,
) -> None:
    assert may_fold_by_hash(words, DEFAULTS, titles=titles, links=links) is expected


def test_corpus_file_is_what_the_generator_builds() -> None:
    assert generate.CORPUS.read_text("utf-8") == generate.dump(generate.build())


def test_seed_corpus_grouping_precision_and_recall_at_default_thresholds() -> None:
    documents = generate.load()
    assert len(documents) >= 100
    assert {d.kind for d in documents} >= {"syndicated-0", "edit-6", "correction", "excerpt"}
    scores = evaluate(DEFAULTS, documents)
    assert scores.precision >= 0.99, scores
    assert scores.recall >= 0.95, scores


def test_newsroom_corpus_grouping_precision_and_recall_at_default_thresholds() -> None:
    """Different stories from one newsroom's templates stay apart; copies are grouped."""
    documents = newsroom.build()
    assert len(documents) >= 400
    kinds = {d.kind for d in documents}
    assert kinds >= {"syndicated", "edit-8", "cut", "added", "combined", "translation", "teaser"}
    scores = evaluate(DEFAULTS, documents)
    assert scores.precision >= 0.99, scores
    assert scores.recall >= 0.95, scores


def _two_site_feed(site: Site) -> str:
    """A feed linking the seed article and its syndicated copy on another path."""
    item = "<item><title>{t}</title><link>{base}{path}</link><guid>{g}</guid></item>"
    items = [
        item.format(t=SEED.headline, base=site.base, path="/2018/07/sensetime-singapore/", g="a"),
        item.format(t=SEED.headline, base=site.base, path="/wire/sensetime.html", g="b"),
    ]
    return f'<rss version="2.0"><channel><title>Wire</title>{"".join(items)}</channel></rss>'


def test_syndicated_copy_with_other_boilerplate_is_linked_not_merged(cli: Cli, site: Site) -> None:
    site.server.expect_request("/wire.rss").respond_with_data(
        _two_site_feed(site), content_type=RSS
    )
    site.server.expect_request("/wire/sensetime.html").respond_with_data(
        load_fixture("syndicated.html", site.base), content_type=HTML
    )
    site.serve_all()
    assert cli("feeds", "add", site.url("/wire.rss")).returncode == 0
    done = cli("fetch")
    assert done.returncode == 0, done.stderr + done.stdout
    records = [json.loads(line) for line in cli("export", "--with-duplicates").stdout.splitlines()]
    assert len(records) == 2  # two articles of their own ...
    # ... the one archived later (pages are fetched concurrently) linked to the first
    original = next(r for r in records if r["duplicate_of"] is None)
    copy = next(r for r in records if r is not original)
    assert copy["duplicate_of"] == original["id"]
    assert copy["similarity"] >= 0.9
    assert copy["content_hash"] != original["content_hash"]  # not an exact copy
    assert {r["sitename"] for r in records} == {"Pandaily", "AsiaTechWire"}
    shown = cli("show", str(copy["id"]))
    assert f"duplicate_of: {original['id']} (similarity" in shown.stdout


def test_feed_changing_guids_keeps_its_entries(cli: Cli, site: Site, db_url: str) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 0
    site.server.clear()
    renamed = load_fixture("feed.rss", site.base).replace(b"/?p=", b"/?post_id=")
    site.server.expect_request("/feed.rss").respond_with_data(renamed, content_type=RSS)
    done = cli("fetch", "--no-fulltext")
    assert done.returncode == 0, done.stderr
    assert "3 known entries under new guids" in done.stdout
    records = [json.loads(line) for line in cli("export", "--with-duplicates").stdout.splitlines()]
    assert len(records) == 3
    assert all(len(r["sources"]) == 1 for r in records)
    assert all("/?post_id=" in r["sources"][0]["guid"] for r in records)
    with sqlite3.connect(Path(db_url.removeprefix("sqlite:///"))) as db:
        assert db.execute("SELECT guid_changes FROM feed").fetchone() == (3,)
        assert db.execute("SELECT count(*) FROM entry").fetchone() == (3,)


def test_a_site_naming_one_canonical_for_every_page_does_not_merge_its_stories(
    cli: Cli, site: Site
) -> None:
    """rel=canonical is trusted only when the texts agree: some CMSs put the home page there."""
    for name in ("other-1", "other-2", "sensetime-singapore"):
        fixture = "sensetime.html" if name.startswith("sensetime") else f"{name}.html"
        page = load_fixture(fixture, site.base)
        home = f'<link rel="canonical" href="{site.base}/">'.encode()
        page = re.sub(rb'<link rel="canonical" href="[^"]*">', home, page)
        site.server.expect_request(f"/2018/07/{name}/").respond_with_data(
            page, content_type="text/html; charset=utf-8"
        )
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    records = [json.loads(line) for line in cli("export", "--with-duplicates").stdout.splitlines()]
    assert len(records) == 3
    assert {r["extraction"] for r in records} == {"full"}
    assert len({r["content_hash"] for r in records}) == 3


def test_link_less_teasers_with_one_summary_stay_two_articles(cli: Cli, site: Site) -> None:
    """ "Read more..." under two titles is two items: an equal short text is no identity."""
    items = "".join(
        f"<item><title>Story about {fruit}</title><description>Read more...</description></item>"
        for fruit in ("apples", "oranges")
    )
    feed = f'<rss version="2.0"><channel><title>Teasers</title>{items}</channel></rss>'
    site.server.expect_request("/teasers.rss").respond_with_data(feed, content_type=RSS)
    assert cli("feeds", "add", site.url("/teasers.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    records = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert sorted(r["title"] for r in records) == ["Story about apples", "Story about oranges"]
    found = cli("search", "oranges", "--format", "json")
    assert [hit["title"] for hit in json.loads(found.stdout)] == ["Story about oranges"]
    again = cli("fetch")  # the same items again: still two articles, no new ones
    assert again.returncode == 0
    assert len(cli("export").stdout.splitlines()) == 2


def _old_rule_archive(db_url: str) -> dict[str, int]:
    """An archive at schema 0004 with links the word-SimHash rule made: a different story of
    the same newsroom chained into a group, a true copy missed. Returns article ids by name."""
    engine = archive_at(db_url, "0004")
    docs = {d.id: d for i in (0, 3, 6) for d in newsroom.story_documents(i)}
    names = {  # article: (document, old-rule duplicate_of)
        "a": ("story-000/original", None),
        "a-copy": ("story-000/edit-2", "a"),  # right
        "b": ("story-003/original", "a"),  # wrong: another story
        "b-copy": ("story-003/cut", "a"),  # chained through b
        "c": ("story-006/original", None),
        "c-copy": ("story-006/syndicated", None),  # missed
    }
    ids: dict[str, int] = {}
    article = sa.Table("article", sa.MetaData(), autoload_with=engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for name, (doc_id, link) in names.items():
            doc = docs[doc_id]
            ids[name] = conn.execute(
                sa.insert(article).values(
                    url=doc.url,
                    canonical_url=doc.url,
                    title=doc.title,
                    text=doc.text,
                    word_count=len(doc.text.split()),
                    content_hash=content_hash(doc.text),
                    extraction="full",
                    categories=[],
                    created_at=now,
                    updated_at=now,
                    check_count=0,
                    retry_count=0,
                    revision_count=1,
                    duplicate_of=ids[link] if link else None,
                    similarity=0.86 if link else None,
                )
            ).inserted_primary_key[0]
    engine.dispose()
    return ids


def test_dedupe_recheck_repairs_links_made_by_the_old_rule(cli: Cli, db_url: str) -> None:
    Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    ids = _old_rule_archive(db_url)
    counted = cli("dedupe")  # opens the archive: migrates it to the shingle index
    assert counted.returncode == 0, counted.stderr
    assert "6 articles: 3 linked as near-duplicates of 1 originals" in counted.stdout
    assert "6 articles are not in the near-duplicate index yet" in counted.stdout
    done = cli("dedupe", "--recheck")
    assert done.returncode == 0, done.stderr
    assert "re-checked 6 articles: 1 links kept, 2 removed, 2 added" in done.stdout
    links = {
        r["id"]: r["duplicate_of"]
        for r in map(json.loads, cli("export", "--with-duplicates").stdout.split("\n")[:-1])
    }
    assert links == {
        ids["a"]: None,
        ids["a-copy"]: ids["a"],
        ids["b"]: None,
        ids["b-copy"]: ids["b"],
        ids["c"]: None,
        ids["c-copy"]: ids["c"],
    }
    again = cli("dedupe", "--recheck")
    assert "re-checked 6 articles: 3 links kept, 0 removed, 0 added" in again.stdout
    assert "not in the near-duplicate index" not in cli("dedupe").stdout
    with sqlite3.connect(Path(db_url.removeprefix("sqlite:///"))) as db:  # search kept working
        triggers = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert triggers >= {"article_fts_insert", "article_fts_update", "article_fts_delete"}


def _page(doc: Document) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in doc.text.split("\n"))
    return (
        f"<!doctype html><html><head><title>{html.escape(doc.title)}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(doc.title)}</h1>"
        f"{paragraphs}</article><footer>Contact us</footer></body></html>"
    )


def test_duplicate_links_through_the_real_pipeline_score_pairwise(cli: Cli, site: Site) -> None:
    """The newsroom corpus served as feeds and pages on loopback, fetched by `ingest fetch`
    (real HTTP, real extraction, real SQLite): the `duplicate_of` links scored pairwise."""
    documents = [d for index in range(12) for d in newsroom.story_documents(index)]
    path = {d.id: "/" + d.url.split("://", 1)[1] for d in documents}
    feeds: dict[str, list[str]] = {}
    for doc in documents:
        link = site.url(path[doc.id])
        summary = html.escape(doc.text if doc.via == "feed" else doc.text.split(". ")[0])
        item = (
            f"<item><title>{html.escape(doc.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{doc.id}</guid><description>{summary}</description></item>'
        )
        feeds.setdefault(f"/feeds/{doc.kind}.rss", []).append(item)
        if doc.via == "page":
            site.server.expect_request(path[doc.id]).respond_with_data(
                _page(doc), content_type=HTML
            )
    for feed_path, items in feeds.items():
        channel = f"<channel><title>{feed_path}</title>{''.join(items)}</channel>"
        body = f'<rss version="2.0">{channel}</rss>'
        site.server.expect_request(feed_path).respond_with_data(body, content_type=RSS)
    assert cli("feeds", "add", *(site.url(p) for p in feeds)).returncode == 0
    done = cli("fetch", timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    predicted = {}
    for record in map(json.loads, cli("export", "--with-duplicates").stdout.splitlines()):
        for source in record["sources"]:
            predicted[source["guid"]] = record["duplicate_of"] or record["id"]
    assert set(predicted) == {d.id for d in documents}
    scores = score(documents, predicted)
    assert scores.pairs >= 90, scores
    assert scores.precision >= 0.99, scores
    assert scores.recall >= 0.95, scores


def test_texts_too_short_to_ever_match_are_not_indexed(db_url: str) -> None:
    """A text under `min_words` never verifies as a near-duplicate, so the worker computes no
    MinHash keys for it and the archive stores no index rows for it (they were most of the
    write of a feed of teasers); a long text is indexed and still links to its copy."""
    from ingest.dedupe import BANDS
    from ingest.records import ParsedEntry
    from ingest.store import entries, feeds
    from ingest.store.engine import open_archive
    from ingest.update.prepare import prepare_entry

    story = newsroom.story_documents(0)
    teaser = ParsedEntry(
        guid="t", link=None, title="Teaser", summary="Read more about the harbour plan."
    )
    original = ParsedEntry(guid="o", link=None, title="Original", summary=story[0].text)
    copy = ParsedEntry(guid="c", link=None, title="Copy", summary=story[1].text)
    assert prepare_entry(teaser, min_words=100).keys == ()
    assert len(prepare_entry(teaser).keys) == BANDS  # the default computes them for any text
    Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = open_archive(db_url)
    feed_id, _ = feeds.add_feed(engine, "http://example.org/f.xml")
    with engine.begin() as conn:
        entries.record(conn, feed_id, [teaser, original, copy], fulltext=False)
    query = (
        "SELECT a.title, a.duplicate_of IS NOT NULL, count(b.key) FROM article a"
        " LEFT JOIN article_band b ON b.article_id = a.id GROUP BY a.id ORDER BY a.id"
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.exec_driver_sql(query)]
    assert rows == [("Teaser", 0, 0), ("Original", 0, BANDS), ("Copy", 1, BANDS)]
    engine.dispose()
