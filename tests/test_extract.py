"""Article extraction: every body paragraph of the seed, none of the page furniture."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from ingest.extract import CROSSLINK_LABELS, decode_html, extract_article, is_crosslink
from ingest.records import Extracted
from tests.fixturefiles import load_fixture, seed_article

BASE = "http://127.0.0.1:8123"
URL = f"{BASE}/2018/07/sensetime-singapore/"
SEED = seed_article()
# Text a reader sees around the article on the fixture pages; none of it is the article.
PANDAILY_FURNITURE = (
    "Business Insights",  # nav
    "Gadget Reviews",
    "Pandaily Summit Tickets",
    "Trending Now",  # sidebar
    "Xiaomi Files for Hong Kong IPO",
    "Meituan Dianping Launches Ride-Hailing",
    "We use cookies",  # cookie banner
    "Accept cookies",
    "Great news for the local research scene",  # comments
    "Facial recognition everywhere worries me",
    "Curious which supercomputer",
    "thoughts on this story",
    "Get the best of China tech",  # newsletter
    "Sign me up",
    "All rights reserved",  # footer
    "Privacy Policy",
    "Share this story",
    "Made-In-China Meeting AI unicorn",  # the cross-link's link text
    "dataLayer",  # script
)
SYNDICATED_FURNITURE = (
    "Member Login",
    "Markets Daily",
    "Chips and Fabs",
    "Most Read This Week",
    "TSMC Raises Capital Spending",
    "Advertisement",
    "independent wire service",
    "Made-In-China Meeting AI unicorn",
)
# How the same page arrives: (fixture, Content-Type header).
SERVINGS = [
    ("sensetime.html", "text/html; charset=utf-8"),
    ("sensetime.html", "text/html"),
    ("sensetime-cp1252.html", "text/html; charset=windows-1252"),
    ("sensetime-cp1252.html", "text/html"),  # <meta charset> only
    ("sensetime-cp1252.html", ""),
]


def extract_fixture(name: str, content_type: str = "text/html; charset=utf-8") -> Extracted:
    extracted = extract_article(decode_html(load_fixture(name, BASE), content_type), URL)
    assert extracted is not None
    return extracted


@pytest.mark.parametrize(("name", "content_type"), SERVINGS)
def test_every_body_paragraph_is_kept_exactly(name: str, content_type: str) -> None:
    lines = extract_fixture(name, content_type).text.splitlines()
    for paragraph in SEED.paragraphs:  # typos and curly quotes included
        assert paragraph in lines
    assert len(lines) == len(SEED.paragraphs)


@pytest.mark.parametrize(("name", "content_type"), SERVINGS)
def test_cross_link_and_boilerplate_are_dropped(name: str, content_type: str) -> None:
    extracted = extract_fixture(name, content_type)
    assert extracted.html is not None
    for output in (extracted.text, extracted.html):
        assert "SEE ALSO" not in output
        for furniture in PANDAILY_FURNITURE:
            assert furniture not in output


@pytest.mark.parametrize(("name", "content_type"), SERVINGS)
def test_metadata(name: str, content_type: str) -> None:
    extracted = extract_fixture(name, content_type)
    assert extracted.title == SEED.headline
    assert extracted.author == "Jane Doe"
    assert extracted.published == datetime(2018, 7, 2, 8, 0, tzinfo=UTC)  # full meta timestamp
    assert extracted.sitename == "Pandaily"
    assert extracted.language == "en"
    assert extracted.canonical_url == URL
    assert extracted.image == f"{BASE}/wp-content/uploads/2018/07/sensetime-singapore.jpg"
    assert extracted.description is not None
    assert extracted.description.startswith("SenseTime signed memoranda")
    assert extracted.tags == ("SenseTime", "Singapore")


def test_cp1252_page_needs_its_declared_charset() -> None:
    body = load_fixture("sensetime-cp1252.html", BASE)
    assert "Xiao’ou" not in body.decode("utf-8", errors="replace")  # the test can tell
    assert "Xiao’ou Tang" in decode_html(body, "text/html; charset=windows-1252")
    assert "Xiao’ou Tang" in decode_html(body, "text/html")


def test_page_that_declares_no_charset_is_detected() -> None:
    body = load_fixture("sensetime-cp1252.html", BASE).replace(
        b'<meta charset="windows-1252">', b""
    )
    assert b"charset" not in body  # neither header nor meta nor BOM says it
    text = decode_html(body, "text/html")
    assert "Xiao’ou Tang" in text and "“a new economic engine”" in text


def test_html_is_sanitized_article_markup() -> None:
    html = extract_fixture("sensetime.html").html
    assert html is not None
    assert html.startswith("<p>SenseTime, a Beijing-based")
    assert html.count("<p>") == len(SEED.paragraphs)
    assert "“a new economic engine”" in html
    assert "<script" not in html


def test_revision_differs_by_one_sentence() -> None:
    original = extract_fixture("sensetime.html").text.splitlines()
    revised = extract_fixture("sensetime-revised.html").text.splitlines()
    changed = [(a, b) for a, b in zip(original, revised, strict=True) if a != b]
    assert len(changed) == 1
    before, after = changed[0]
    assert "The signing of the MOU is an strategic move" in before
    assert after == before.replace("an strategic move", "a strategic move")


def test_syndicated_copy_has_the_same_paragraphs_and_its_own_identity() -> None:
    extracted = extract_fixture("syndicated.html")
    lines = extracted.text.splitlines()
    for paragraph in SEED.paragraphs:
        assert paragraph in lines
    assert not any(line.startswith("Read more:") for line in lines)
    for furniture in SYNDICATED_FURNITURE:
        assert furniture not in extracted.text
    assert extracted.sitename == "AsiaTechWire"
    assert extracted.canonical_url == f"{BASE}/news/2018/07/03/sensetime-enters-singapore.html"
    assert extracted.published == datetime(2018, 7, 3, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "title", "author", "first_words"),
    [
        ("other-1.html", "Meituan Tests Drone Deliveries for Food Orders in Beijing Suburbs",
         "Li Wei", "Meituan Dianping has started a three-month trial"),
        ("other-2.html", "Bilibili Adds Tipping for Live-Streaming Video Creators",
         "Chen Yu", "Video platform Bilibili now lets viewers"),
    ],
)  # fmt: skip
def test_other_articles(name: str, title: str, author: str, first_words: str) -> None:
    extracted = extract_fixture(name)
    assert (extracted.title, extracted.author) == (title, author)
    assert first_words in extracted.text
    assert "SenseTime" not in extracted.text
    assert "Gadget Reviews" not in extracted.text


@pytest.mark.parametrize(
    "label",
    [
        "SEE ALSO:",
        "Read more:",
        "READ MORE:",
        "Related:",
        "ALSO READ:",
        "Recommended:",
        "Read&nbsp;more:",  # the page's text is normalized before it is searched for a label
        "Read\u2009\n  more:",
        "See <em>also</em>:",  # a label across elements: read until it is long enough
        "<br>Read more:",  # in the tail of an empty element: its parent's text
        "<span> </span>\nRelated:",
    ],
)
def test_every_cross_link_label_is_dropped_from_text_and_html(label: str) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in SEED.paragraphs)
    crosslink = f'<p><strong>{label}</strong> <a href="/other/">Another story entirely</a></p>'
    page = f"<html><body><article>{crosslink}{paragraphs}{crosslink}</article></body></html>"
    extracted = extract_article(page, URL)
    assert extracted is not None
    assert extracted.html is not None
    for output in (extracted.text, extracted.html):
        assert "Another story entirely" not in output
        assert label.rstrip(":") not in output
    assert extracted.text.splitlines() == list(SEED.paragraphs)


def test_a_wrapper_starting_with_a_cross_link_keeps_the_article() -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in SEED.paragraphs)
    page = (
        '<html><body><div class="content"><p>Related: <a href="/x/">Other story</a></p>'
        f"{paragraphs}</div></body></html>"
    )
    extracted = extract_article(page, URL)
    assert extracted is not None
    assert extracted.text.splitlines() == list(SEED.paragraphs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEE ALSO: Made-In-China Meeting AI unicorn", True),
        ("  see   also: something", True),
        ("Also read: x", True),
        ("Related stories are below", False),  # no colon: a sentence
        ("The company said, see also: the filing", False),
    ],
)
def test_is_crosslink(text: str, expected: bool) -> None:
    assert is_crosslink(text) is expected
    assert all(label == label.casefold() for label in CROSSLINK_LABELS)


@pytest.mark.parametrize(
    "html", ["", "<html><head><title>t</title></head><body><script>x = 1</script></body></html>"]
)
def test_no_text_gives_none(html: str) -> None:
    assert extract_article(html, URL) is None


def test_runs_in_a_process_pool_and_results_pickle() -> None:
    html = decode_html(load_fixture("sensetime.html", BASE), "text/html; charset=utf-8")
    local = extract_article(html, URL)
    assert pickle.loads(pickle.dumps(local)) == local
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert pool.submit(extract_article, html, URL).result(timeout=60) == local
