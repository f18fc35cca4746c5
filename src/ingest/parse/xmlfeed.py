"""RSS and Atom (any version feedparser knows) to a `ParsedFeed`."""

from __future__ import annotations

import calendar
import io
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
from defusedxml import DefusedXmlException
from feedparser.encodings import convert_to_utf8

from ingest.parse.dates import possible_date
from ingest.parse.errors import NotAFeedError
from ingest.parse.sanitize import (
    clean_record,
    clean_text,
    html_to_text,
    safe_http_url,
    sanitize_html,
    text_to_html,
)
from ingest.records import ParsedEntry, ParsedFeed

# The strict parser refuses entity declarations (a second line of defence: none should remain).
if "defusedxml.expatreader" not in feedparser.api.PREFERRED_XML_PARSERS:
    feedparser.api.PREFERRED_XML_PARSERS.insert(0, "defusedxml.expatreader")
_SY_PERIOD_SECONDS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}


def parse_xml_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Parse with feedparser (sanitizing and URL resolution on), then sanitize again with nh3.

    The body is decoded first, with feedparser's own rules (HTTP charset, BOM, XML declaration,
    detection), and the internal DTD subset is cut from the decoded text: what the parsers then
    read declares no entity, whatever the encoding and whatever precedes the DOCTYPE. The strict
    parser is defusedxml's expat reader, which refuses any entity declaration left anyway.
    """
    detected: dict[str, Any] = {}
    headers = {"content-type": content_type} if content_type else {}
    data = convert_to_utf8(headers, body, detected)
    # The headers drive feedparser's encoding rules; content-location is the base of relative URIs.
    response_headers = {"content-location": url}
    if detected.get("encoding") and isinstance(data, bytes):
        data = strip_internal_subset(data.decode("utf-8")).encode("utf-8")
        mime = content_type.split(";", 1)[0].strip() or "application/xml"
        response_headers["content-type"] = f"{mime}; charset=utf-8"
    else:  # undecodable: feedparser uses only its loose parser, which declares nothing
        data = body
        if content_type:
            response_headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(
            io.BytesIO(data),
            response_headers=response_headers,
            sanitize_html=True,
            resolve_relative_uris=True,
        )
    except DefusedXmlException as exc:
        raise NotAFeedError(f"not a feed: {type(exc).__name__}") from None
    if not parsed.get("version") and not parsed.entries:
        raise NotAFeedError(f"not a feed: {_bozo_text(parsed) or 'no feed elements'}")
    feed = parsed.feed
    entries = []
    problems = [p for p in (_bozo_text(detected), _bozo_text(parsed)) if p]
    for number, raw in enumerate(parsed.entries, 1):
        try:
            entries.append(clean_record(_entry(raw, url)))
        except Exception as exc:  # one broken item never costs its siblings
            problems.append(f"item {number} skipped: {type(exc).__name__}: {exc}")
    return ParsedFeed(
        format=parsed.get("version") or "unknown",
        title=clean_text(_plain(feed, "title")),
        link=safe_http_url(feed.get("link"), url),
        entries=tuple(entries),
        ttl_seconds=_ttl_seconds(feed),
        problem="; ".join(dict.fromkeys(problems)) or None,
    )


def strip_internal_subset(text: str) -> str:
    """Cut the internal subset (`[ ... ]`) of the DOCTYPE from a decoded XML document.

    With no entity declared, billion-laughs and external-entity payloads expand to nothing. The
    prolog is read with XML's grammar (declaration, comments, processing instructions, white
    space, the DOCTYPE), the way expat reads it, so a comment or a PI containing `<x` before the
    DOCTYPE cannot hide it; anything else before the root element is an error at which expat
    stops before it reaches a DOCTYPE. The DOCTYPE's name and external id stay (feedparser reads
    the Netscape RSS 0.91 version from them); an external DTD is never fetched.
    """
    position = 1 if text.startswith("\ufeff") else 0
    while position < len(text):
        char = text[position]
        if char in " \t\r\n":
            position += 1
        elif text.startswith("<?", position) or text.startswith("<!--", position):
            close = "?>" if text[position + 1] == "?" else "-->"
            end = text.find(close, position + 2)
            if end < 0:
                return text
            position = end + len(close)
        elif text[position : position + 9].upper() == "<!DOCTYPE":
            text, position = _cut_subset(text, position + 9)
        else:
            return text  # the root element (or an error expat stops at)
    return text


def _cut_subset(text: str, position: int) -> tuple[str, int]:
    """Remove the internal subset of the DOCTYPE whose name starts at `position`; returns the
    new text and the index just after the DOCTYPE."""
    while position < len(text) and text[position] not in "[>":
        if text[position] in "\"'":  # a public or system literal may contain `[` or `>`
            close = text.find(text[position], position + 1)
            position = len(text) if close < 0 else close
        position += 1
    if position >= len(text) or text[position] == ">":
        return text, position + 1
    end = _end_of_subset(text, position + 1)
    text = text[:position] + text[end:]
    return text, position


def _end_of_subset(text: str, position: int) -> int:
    """Index just after the `]` closing an internal subset (len(text) when unterminated)."""
    while position < len(text):
        char = text[position]
        if char in "\"'":
            close = text.find(char, position + 1)
            position = len(text) if close < 0 else close + 1
        elif text.startswith("<!--", position) or text.startswith("<?", position):
            close = "-->" if text[position + 1] == "!" else "?>"
            end = text.find(close, position + 2)
            position = len(text) if end < 0 else end + len(close)
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
