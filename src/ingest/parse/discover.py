"""Feed discovery: the feeds an HTML page declares with `<link rel="alternate">`."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from ingest.parse.sanitize import safe_http_url

# Plain application/json is left out on purpose: WordPress declares its REST API with it.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
    }
)


def discover_feeds(body: bytes, headers: dict[str, str], url: str) -> list[str]:
    """Absolute http(s) URLs of the page's feed links, in document order, without repeats.

    Only `<link rel="alternate" type="...feed type...">` counts: anchors to "/feed" are guesses,
    and trafilatura's `find_feed_urls` returns article links, not feeds.
    """
    _, text = html_to_unicode(headers.get("content-type", ""), body)
    if not text.strip():
        return []
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    base = url
    for element in root.iter("base"):
        if element.get("href"):
            base = urljoin(url, element.get("href", ""))
            break
    found: dict[str, None] = {}
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        mime = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rel and mime in FEED_TYPES:
            href = safe_http_url(link.get("href"), base)
            if href:
                found.setdefault(href, None)
    return list(found)
