"""RSS and Atom (any version feedparser knows) to a `ParsedFeed`."""

from __future__ import annotations

import calendar
import codecs
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from ingest.parse.dates import possible_date
from ingest.parse.errors import NotAFeedError
from ingest.parse.sanitize import html_to_text, safe_http_url, sanitize_html, text_to_html
from ingest.records import ParsedEntry, ParsedFeed

_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ELEMENT_START = re.compile(r"<[A-Za-z_]")
_SY_PERIOD_SECONDS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}
# UTF-16/32 bodies cannot be searched as bytes; they are decoded and re-encoded with a BOM.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse_xml_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Parse with feedparser (sanitizing and URL resolution on), then sanitize again with nh3."""
    # The headers drive feedparser's encoding rules; content-location is the base of relative URIs.
    response_headers = {"content-location": url}
    if content_type:
        response_headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(drop_internal_subset(body)),
        response_headers=response_headers,
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    if not parsed.get("version") and not parsed.entries:
        raise NotAFeedError(f"not a feed: {_bozo_text(parsed) or 'no feed elements'}")
    feed = parsed.feed
    return ParsedFeed(
        format=parsed.get("version") or "unknown",
        title=_plain(feed, "title"),
        link=safe_http_url(feed.get("link"), url),
        entries=tuple(_entry(entry, url) for entry in parsed.entries),
        ttl_seconds=_ttl_seconds(feed),
        problem=_bozo_text(parsed),
    )


def drop_internal_subset(body: bytes) -> bytes:
    """Remove a DOCTYPE with an internal subset (`<!DOCTYPE x [ ... ]>`) from the prolog.

    With no entity declared, billion-laughs and external-entity payloads expand to nothing.
    feedparser strips entity declarations only when they start a line: with the whole prolog on
    one line (tests/fixtures/laughs.xml) expat expands until its amplification limit, ~0.6 s of
    CPU per document. So the whole subset is cut here, quotes and comments inside it respected.
    """
    for bom, codec in _WIDE_BOMS:
        if body.startswith(bom):
            text = body.decode(codec, errors="replace")
            stripped = _drop_subset_text(text)
            return body if stripped is text else stripped.encode(codec)
    # latin-1 maps bytes 1:1 to code points, so ASCII-compatible encodings survive the round trip.
    text = body.decode("latin-1")
    stripped = _drop_subset_text(text)
    return body if stripped is text else stripped.encode("latin-1")


def _drop_subset_text(text: str) -> str:
    match = _DOCTYPE.search(text)
    if match is None or _ELEMENT_START.search(text, 0, match.start()):
        return text  # no DOCTYPE, or one after the root element started (inside CDATA, say)
    position = match.end()
    while position < len(text) and text[position] not in "[>":
        position += 1
    if position >= len(text) or text[position] == ">":
        return text  # no internal subset: nothing is declared
    position = _end_of_subset(text, position + 1)
    end = text.find(">", position)
    return text[: match.start()] + ("" if end < 0 else text[end + 1 :])


def _end_of_subset(text: str, position: int) -> int:
    """Index just after the `]` closing an internal subset (len(text) when unterminated)."""
    while position < len(text):
        char = text[position]
        if char in "\"'":
            close = text.find(char, position + 1)
            position = len(text) if close < 0 else close + 1
        elif text.startswith("<!--", position):
            close = text.find("-->", position + 4)
            position = len(text) if close < 0 else close + 3
        elif char == "]":
            return position + 1
        else:
            position += 1
    return position


def _entry(entry: Mapping[str, Any], base: str) -> ParsedEntry:
    """`base` is the document URL: feedparser already resolved against it (and xml:base)."""
    summary = _html_field(entry, "summary", base)
    content = next(
        (
            html
            for detail in entry.get("content") or ()
            if (html := _detail_html(detail.get("value"), detail.get("type"), base))
        ),
        None,
    )
    return ParsedEntry(
        guid=(entry.get("id") or "").strip() or None,
        link=safe_http_url(entry.get("link"), base),
        title=_plain(entry, "title"),
        author=(entry.get("author") or "").strip() or None,
        summary=summary,
        content=content,
        # dict.get, not .get: FeedParserDict.get("updated_parsed") falls back to the published date.
        published=_utc(dict.get(entry, "published_parsed"), entry.get("published")),
        updated=_utc(dict.get(entry, "updated_parsed"), dict.get(entry, "updated")),
        categories=_unique(tag.get("term") for tag in entry.get("tags") or ()),
        enclosures=_unique(
            safe_http_url(enclosure.get("href"), base)
            for enclosure in entry.get("enclosures") or ()
        ),
    )


def _plain(node: Mapping[str, Any], key: str) -> str | None:
    """A title as plain text: feedparser keeps markup (and `&lt;`) when it thinks it is HTML."""
    value = node.get(key)
    if not value:
        return None
    detail = node.get(f"{key}_detail") or {}
    if "html" in (detail.get("type") or ""):
        value = html_to_text(value)
    return " ".join(value.split()) or None


def _html_field(node: Mapping[str, Any], key: str, base: str) -> str | None:
    detail = node.get(f"{key}_detail") or {}
    return _detail_html(node.get(key), detail.get("type"), base)


def _detail_html(value: str | None, mime: str | None, base: str) -> str | None:
    if not value or not value.strip():
        return None
    html = value if "html" in (mime or "text/html") else text_to_html(value)
    return sanitize_html(html, base) or None


def _utc(parsed: time.struct_time | None, raw: str | None) -> datetime | None:
    """feedparser's `*_parsed` are UTC struct_times; None when the date as written is impossible
    (feedparser rolls `2025-02-30T25:61` over into March: a date nobody published)."""
    if parsed is None or (raw and not possible_date(raw)):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _ttl_seconds(feed: Mapping[str, Any]) -> int | None:
    """RSS `<ttl>` (minutes), else `sy:updatePeriod` / `sy:updateFrequency`."""
    ttl = _positive_int(feed.get("ttl"))
    if ttl is not None:
        return ttl * 60
    period = _SY_PERIOD_SECONDS.get((feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    return period // (_positive_int(feed.get("sy_updatefrequency")) or 1)


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _unique(values: Any) -> tuple[str, ...]:
    """Non-empty stripped strings, first occurrence order."""
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _bozo_text(parsed: Mapping[str, Any]) -> str | None:
    """What was wrong with the document, or None.

    A wrong charset is a problem ("declared as utf-8, but parsed as windows-1252"). Complaints
    about the HTTP headers alone are not: feedparser flags `text/xml` without a charset (RFC 3023
    says us-ascii; it then decodes as the document declares) and a missing or non-XML content
    type, though it parsed the document fine.
    """
    exc = parsed.get("bozo_exception")
    if not parsed.get("bozo") or exc is None or isinstance(exc, feedparser.NonXMLContentType):
        return None
    if isinstance(exc, feedparser.CharacterEncodingOverride) and "declared as us-ascii" in str(exc):
        return None
    return f"{type(exc).__name__}: {exc}"
