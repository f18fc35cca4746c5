"""Make feed- and page-supplied HTML safe to show, or flatten it to plain text.

Everything shown to users goes through `sanitize_html`: feeds and pages are untrusted input, and
feedparser's own sanitizer does not add `rel="noopener noreferrer"` nor restrict URL schemes.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import fields, replace
from typing import TypeVar, overload
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree

from ingest.records import Extracted, ParsedEntry

# Only these schemes survive in href/src; javascript:, data:, vbscript: and friends are dropped.
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with everything inside them (nh3 keeps the text of other disallowed tags).
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}
)
# Elements after which text starts a new line in `html_to_text`.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_BLANK_LINE = re.compile(r"\n\s*\n")
# What XML (and so lxml) refuses, and PostgreSQL refuses in text (NUL): C0 controls other than
# tab and line breaks, DEL, lone surrogates, U+FFFE/U+FFFF. Vertical tab and form feed are spacing.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SPACING_CONTROL = re.compile("[\x0b\x0c]")
R = TypeVar("R", ParsedEntry, Extracted)


@overload
def clean_text(text: str) -> str: ...
@overload
def clean_text(text: None) -> None: ...
def clean_text(text: str | None) -> str | None:
    """`text` without the control characters no archive, XML parser or database should get: one
    form feed (or NUL) in an item would otherwise fail the item, or the whole feed's write."""
    if not text:
        return text
    return _NOT_TEXT.sub("", _SPACING_CONTROL.sub(" ", text))


def clean_record(record: R) -> R:
    """Every text field of a record (a feed entry, an extracted page) through `clean_text`,
    tuples of strings included: the one place such text is made safe to store."""
    changes: dict[str, object] = {}
    for spec in fields(record):
        value = getattr(record, spec.name)
        if isinstance(value, str):
            cleaned: object = clean_text(value)
        elif isinstance(value, tuple):
            cleaned = tuple(clean_text(v) if isinstance(v, str) else v for v in value)
        else:
            continue
        if cleaned != value:
            changes[spec.name] = cleaned
    return replace(record, **changes) if changes else record


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Return `html` with scripts, event handlers and unsafe URLs removed.

    Relative URLs are made absolute against `base_url` when given, so the HTML still works when
    shown away from its original page.
    """
    return nh3.clean(
        html,
        clean_content_tags=set(DROP_WITH_CONTENT),
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        url_relative=("rewrite_with_base", base_url) if base_url else None,
    ).strip()


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines split paragraphs, line breaks kept)."""
    paragraphs = (p.strip() for p in _BLANK_LINE.split(text))
    return "".join(
        f"<p>{htmllib.escape(p, quote=False).replace(chr(10), '<br>')}</p>" for p in paragraphs if p
    )


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: one line per block, whitespace collapsed.

    Used when a feed's content has to stand in for the article text (no page could be fetched).
    """
    html = clean_text(html)
    if not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*DROP_WITH_CONTENT)):
        element.drop_tree()
    for element in root.iter():
        if element.tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def safe_http_url(url: str | None, base: str) -> str | None:
    """`url` made absolute against `base`, or None unless it is http(s) (no javascript: links)."""
    if not url or not url.strip():
        return None
    absolute = urljoin(base, url.strip())
    return absolute if urlsplit(absolute).scheme in {"http", "https"} else None
