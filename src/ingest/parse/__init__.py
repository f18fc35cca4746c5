"""Feed documents (RSS, Atom, JSON Feed) to `ParsedFeed` records; pure, no I/O."""

from __future__ import annotations

from urllib.parse import urljoin

from ingest.parse.errors import NotAFeedError
from ingest.parse.jsonfeed import VERSION_PREFIX, parse_json_feed
from ingest.parse.xmlfeed import parse_xml_feed
from ingest.records import ParsedFeed

__all__ = ["NotAFeedError", "parse_feed"]

JSON_TYPES = frozenset({"application/feed+json", "application/json"})
_UTF8_BOM = b"\xef\xbb\xbf"


def parse_feed(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
    """Parse a fetched feed body.

    `headers` has lower-case names; `url` is the final URL after redirects, the base of relative
    links. Raises `NotAFeedError` only when the body is not a feed at all; a feed with problems
    returns a `ParsedFeed` whose `problem` says what was wrong.
    """
    content_type = headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    # A Content-Location header names the document's own URL, the base of its relative links
    base = urljoin(url, headers["content-location"]) if headers.get("content-location") else url
    if mime in JSON_TYPES or _looks_like_json_feed(body):
        return parse_json_feed(body, base)
    return parse_xml_feed(body, content_type, base)


def _looks_like_json_feed(body: bytes) -> bool:
    """Sniff JSON Feed served with a generic type (text/plain, octet-stream...)."""
    head = body.removeprefix(_UTF8_BOM).lstrip()
    return head.startswith(b"{") and VERSION_PREFIX.encode() in head.replace(b"\\/", b"/")
