"""Everything shown to users is sanitized; feed content can stand in for article text."""

from __future__ import annotations

import pytest

from ingest.parse.sanitize import html_to_text, safe_http_url, sanitize_html, text_to_html

BASE = "https://example.com/blog/post/"


def test_script_and_style_are_removed_with_their_content() -> None:
    html = "<p>Hi<script>alert('x')</script><style>p{color:red}</style></p>"
    assert sanitize_html(html) == "<p>Hi</p>"


def test_iframe_is_removed_with_its_fallback_text() -> None:
    assert sanitize_html('<p>a<iframe src="https://evil.example/">frame text</iframe></p>') == (
        "<p>a</p>"
    )


def test_event_handler_attributes_are_removed() -> None:
    cleaned = sanitize_html('<p onclick="steal()">x <img src="https://e.com/a.png" onerror="x()">')
    assert "onclick" not in cleaned
    assert "onerror" not in cleaned
    assert 'src="https://e.com/a.png"' in cleaned


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<b>x"],
)
def test_unsafe_link_schemes_are_removed(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}">click</a>')
    assert "href" not in cleaned
    assert "click" in cleaned


def test_data_image_is_removed() -> None:
    assert "data:" not in sanitize_html('<img src="data:image/png;base64,AAAA" alt="x">')


@pytest.mark.parametrize(
    "href", ["https://e.com/a", "http://e.com/a", "mailto:editor@e.com"]
)  # fmt: skip
def test_safe_schemes_are_kept(href: str) -> None:
    assert f'href="{href}"' in sanitize_html(f'<a href="{href}">x</a>')


def test_links_get_noopener_noreferrer() -> None:
    assert 'rel="noopener noreferrer"' in sanitize_html('<a href="https://e.com/">x</a>')


def test_relative_urls_are_resolved_against_base() -> None:
    cleaned = sanitize_html('<a href="/about/">a</a><img src="chart.png">', base_url=BASE)
    assert 'href="https://example.com/about/"' in cleaned
    assert 'src="https://example.com/blog/post/chart.png"' in cleaned


def test_html_to_text_keeps_one_line_per_block_and_decodes_entities() -> None:
    html = "<h2>Head</h2><p>Tom &amp; Jerry’s   <b>show</b></p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "Head\nTom & Jerry’s show\none\ntwo"


def test_html_to_text_drops_scripts_and_handles_br_and_empty_input() -> None:
    assert html_to_text("a<br>b<script>var x = 1;</script>") == "a\nb"
    assert html_to_text("  ") == ""


def test_text_to_html_escapes_and_splits_paragraphs() -> None:
    assert text_to_html("a < b\nc\n\nd") == "<p>a &lt; b<br>c</p><p>d</p>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/x", "https://example.com/x"),
        ("https://other.example/y", "https://other.example/y"),
        ("javascript:alert(1)", None),
        ("mailto:a@b.c", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_http_url(url: str | None, expected: str | None) -> None:
    assert safe_http_url(url, BASE) == expected
