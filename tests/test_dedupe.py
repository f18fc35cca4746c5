"""Dedupe: fingerprints and the near-duplicate decision (tables of cases), the labelled corpus
through the real write path (precision/recall asserted), and the pipeline end to end."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from ingest.config import Settings
from ingest.dedupe import (
    TextPrint,
    Thresholds,
    bands,
    distance,
    fingerprint,
    near_duplicate,
    to_signed,
    to_unsigned,
)
from tests.conftest import HTML, RSS, Cli, Site
from tests.corpus import generate
from tests.corpus.evaluate import evaluate
from tests.fixturefiles import load_fixture, seed_article

SEED = seed_article()
TEXT = "\n".join(SEED.paragraphs)


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1, -(2**63), -1, 0x1234_5678_9ABC_DEF0])
def test_fingerprint_bands_cover_the_64_bits_of_a_signed_value(value: int) -> None:
    unsigned = to_unsigned(value)
    assert to_signed(unsigned) == value
    assert sum(band << (16 * i) for i, band in enumerate(bands(value))) == unsigned


def test_fingerprint_is_signed_64_bit_and_ignores_case_and_spacing() -> None:
    value = fingerprint(TEXT)
    assert -(2**63) <= value < 2**63
    assert fingerprint("  " + TEXT.upper().replace(" ", "   ")) == value


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (TextPrint(0, 300), TextPrint(0b111, 300), 61 / 64),  # 3 bits apart: near
        (TextPrint(0, 300), TextPrint(0b1111111, 300), None),  # 7 bits apart: too far
        (TextPrint(0, 300), TextPrint(0, 99), None),  # identical prints, but one text too short
        (TextPrint(0, 99), TextPrint(0, 99), None),
    ],
)
def test_near_duplicate_needs_close_prints_and_long_enough_texts(
    a: TextPrint, b: TextPrint, expected: float | None
) -> None:
    assert near_duplicate(a, b, Thresholds(max_distance=6, min_words=100)) == expected


def test_a_light_edit_is_close_and_another_story_is_far() -> None:
    edited = TEXT.replace("an strategic", "a strategic") + "\nCorrection: the date was wrong."
    other = "\n".join(generate.STORIES["sensetime-lab"][1])
    assert distance(fingerprint(TEXT), fingerprint(edited)) <= 3
    assert distance(fingerprint(TEXT), fingerprint(other)) > 12


def test_corpus_file_is_what_the_generator_builds() -> None:
    assert generate.CORPUS.read_text("utf-8") == generate.dump(generate.build())


def test_corpus_grouping_precision_and_recall_at_default_thresholds() -> None:
    defaults = Settings()
    documents = generate.load()
    assert len(documents) >= 100
    assert {d.kind for d in documents} >= {"syndicated-0", "edit-6", "correction", "excerpt"}
    scores = evaluate(
        Thresholds(defaults.near_duplicate_distance, defaults.near_duplicate_min_words), documents
    )
    assert scores.precision >= 0.98, scores
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
    records = [json.loads(line) for line in cli("export").stdout.splitlines()]
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
    records = [json.loads(line) for line in cli("export").stdout.splitlines()]
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
    records = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert len(records) == 3
    assert {r["extraction"] for r in records} == {"full"}
    assert len({r["content_hash"] for r in records}) == 3
