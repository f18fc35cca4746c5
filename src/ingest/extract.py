"""Article pages to `Extracted` records: trafilatura plus our own boilerplate rule.

Runs in a process pool (extraction is CPU-bound and trafilatura is slower with threads), so the
public functions are module-level and take and return picklable values only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import charset_normalizer
import py3langid
from lxml import etree
from lxml.html import HtmlElement
from trafilatura import __version__ as trafilatura_version
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.utils import load_html
from w3lib.encoding import html_to_unicode

from ingest.parse.sanitize import clean_record, safe_http_url, sanitize_html
from ingest.records import Extracted
from ingest.update.page import PageText
from ingest.update.prepare import page_text

# Stored with every extraction. Bump RULES when our own rules below change what is extracted,
# so `ingest reextract --outdated` re-runs the articles extracted by older code.
RULES = 1
EXTRACTOR = f"trafilatura {trafilatura_version}; ingest rules {RULES}"

# Characters of the text the language is told from: enough for any language, and the cost of
# py3langid grows with the length
LANGUAGE_SAMPLE = 3000

# How trafilatura is called (benchmarks/run.py times trafilatura alone with the same options)
TRAFILATURA_OPTIONS: dict[str, object] = {
    "with_metadata": True,
    "include_comments": False,  # default True: extracts reader comments too; we never keep them
    "favor_precision": True,
    "deduplicate": False,  # its cache spans documents: it would cut text seen on earlier pages
    "include_links": False,
    "include_tables": True,
    "output_format": "python",
}

# In-body cross-links ("SEE ALSO: <link to another story>") belong to the page, not to the
# article, and trafilatura keeps them. A paragraph starting with one of these labels (compared
# case-insensitively) is dropped; a real sentence rarely starts with a label and a colon.
CROSSLINK_LABELS: tuple[str, ...] = (
    "see also:",
    "read more:",
    "related:",
    "also read:",
    "recommended:",
)
_LABEL_LENGTH = max(map(len, CROSSLINK_LABELS))
# Source elements checked for cross-links before extraction, and output elements after it.
_CROSSLINK_SOURCE_TAGS = ("p", "div", "li", "blockquote")
_CROSSLINK_OUTPUT_TAGS = ("p", "item", "head", "quote")
# In the page, a cross-link is mostly link text: at least this share of the text after the label.
_CROSSLINK_MIN_LINK_SHARE = 0.5
# A text node that starts with a label's first word (as `is_crosslink` reads it: white space
# first, any case; a label may go on in the next element, as in `<b>Read</b> more:`)
_LABEL_START = re.compile(
    r"\s*(?:{})\b".format(
        "|".join(sorted({re.escape(label.split()[0].rstrip(":")) for label in CROSSLINK_LABELS}))
    ),
    re.IGNORECASE,
)
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datePublished",
    "pubdate",
)


def decode_html(body: bytes, content_type: str) -> str:
    """Decode by HTTP charset, BOM, `<meta charset>`, then detection.

    trafilatura given bytes ignores the HTTP charset and mis-decodes such pages, so it always gets
    text decoded here. A page that declares nothing is detected by charset-normalizer (without
    it, w3lib falls back to UTF-8 and every non-ASCII byte becomes U+FFFD).
    """
    return html_to_unicode(content_type, body, auto_detect_fun=_detect_charset)[1]


def _detect_charset(body: bytes) -> str | None:
    best = charset_normalizer.from_bytes(body).best()
    return best.encoding if best else None


def extract_page(body: bytes, content_type: str, url: str) -> Extracted | None:
    """`extract_article` of raw response bytes: decoding runs in the worker process too."""
    return extract_article(decode_html(body, content_type), url)


def prepare_page(body: bytes, content_type: str, url: str) -> PageText | None:
    """A fetched page's article with its text's facts, in the worker process: extraction,
    hashing, shingles, MinHash keys and compression all stay off the writer thread."""
    return page_text(extract_page(body, content_type, url))


def warm_up() -> None:
    """Load what extraction loads lazily (the language model), so a process that forks workers
    shares it with them (see ingest.workerpreload; a text's preparation is warmed up by
    ingest.parsepreload, imported before it)."""
    py3langid.classify("warm up")


def extract_article(html: str, url: str) -> Extracted | None:
    """The article in a decoded page, or None when no article text is found."""
    tree = load_html(html)
    if tree is None:
        return None
    published = _meta_published(tree)
    _drop_source_crosslinks(tree)
    document = bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    if document is None or document.body is None:
        return None
    text = "\n".join(
        line for line in (document.text or "").splitlines() if not is_crosslink(line)
    ).strip()
    if not text:
        return None
    if published is None and document.date:
        published = _parse_date(document.date)  # trafilatura's date is a day only
    return clean_record(
        Extracted(
            text=text,
            html=_article_html(document.body, url),
            title=document.title or None,
            author=document.author or None,
            published=published,
            sitename=document.sitename or None,
            language=py3langid.classify(text[:LANGUAGE_SAMPLE])[0],
            description=document.description or None,
            image=safe_http_url(document.image, url),  # og:image may say javascript: or data:
            categories=tuple(document.categories or ()),
            tags=tuple(document.tags or ()),
            canonical_url=document.url or None,  # rel=canonical (or og:url), else `url`
            extractor=EXTRACTOR,
        )
    )


def is_crosslink(text: str) -> bool:
    """Whether a paragraph's text starts with a cross-link label (see CROSSLINK_LABELS)."""
    return " ".join(text.split()).casefold().startswith(CROSSLINK_LABELS)


def _drop_source_crosslinks(tree: HtmlElement) -> None:
    """Remove cross-link paragraphs from the page before trafilatura weighs its blocks.

    Only when the text after the label is mostly link text: a wrapper `<div>` whose first
    paragraph is a cross-link also "starts with" the label, and must not take the article with it.
    """
    candidates = _label_holders(tree)
    if not candidates:
        return  # most pages: one pass over their text nodes
    doomed = []
    for element in tree.iter(*_CROSSLINK_SOURCE_TAGS):
        if element not in candidates or not _leads_with_label(element):
            continue
        text = " ".join(element.text_content().split())
        rest = text.split(":", 1)[1].strip()
        linked = sum(len(" ".join(a.text_content().split())) for a in element.iter("a"))
        if rest and linked >= _CROSSLINK_MIN_LINK_SHARE * len(rest):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text


def _label_holders(tree: HtmlElement) -> set[HtmlElement]:
    """The elements that may lead with a label: those around a text node that starts with a
    label's first word (only white space may come before a label in the element's text, so the
    node holding its first word starts with it). Checking each of the ~800 elements of a page
    with a cross-link took 5 ms of a 30 ms extraction."""
    holders: set[HtmlElement] = set()
    for element in tree.iter():
        starts = []
        if element.text and _LABEL_START.match(element.text):
            starts.append(element)
        if element.tail and _LABEL_START.match(element.tail):
            starts.append(element.getparent())  # a tail is its parent's text
        for holder in starts:
            while holder is not None and holder not in holders:
                holders.add(holder)
                holder = holder.getparent()
    return holders


def _leads_with_label(element: HtmlElement) -> bool:
    """`is_crosslink` of the element's text, reading only as much of it as a label is long:
    a page's wrapper elements hold all of its text, and reading it for each was a sixth of
    a page's extraction time."""
    lead = ""
    for chunk in element.itertext():  # the text_content() pieces, in order, lazily
        lead = " ".join(f"{lead} {chunk}".split())
        if len(lead) > _LABEL_LENGTH:
            break
    return is_crosslink(lead)


def _article_html(body: etree._Element, url: str) -> str | None:
    """Sanitized HTML of trafilatura's output tree (headings, lists and tables kept).

    `convert_to_html` is what `trafilatura.extract(output_format="html")` uses; calling it on the
    tree we already have saves a second extraction pass.
    """
    for element in list(body.iter(*_CROSSLINK_OUTPUT_TAGS)):
        if is_crosslink("".join(element.itertext())) and element.getparent() is not None:
            element.getparent().remove(element)
    html_root = convert_to_html(body)
    # nh3 drops the <body> wrapper and keeps its content (text directly in it included).
    markup = etree.tostring(html_root[0], encoding="unicode", method="html")
    return sanitize_html(markup, url) or None


def _meta_published(tree: HtmlElement) -> datetime | None:
    """The full publication timestamp from the page's meta tags (trafilatura keeps the day)."""
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        if key in _PUBLISHED_META and (published := _parse_date(meta.get("content"))):
            return published
    return None


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601 to aware UTC; no offset means UTC."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
