"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) to a `ParsedFeed`.

feedparser does not read JSON Feed (it returns no entries), so it is mapped here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ingest.parse.errors import NotAFeedError
from ingest.parse.sanitize import (
    clean_record,
    clean_text,
    safe_http_url,
    sanitize_html,
    text_to_html,
)
from ingest.records import ParsedEntry, ParsedFeed

VERSION_PREFIX = "https://jsonfeed.org/version/"
_FORMATS = {"1": "json10", "1.1": "json11"}


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Map a JSON Feed document; items that are not objects are skipped and noted in `problem`."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAFeedError(f"not a JSON Feed: invalid JSON ({exc})") from None
    except RecursionError:  # `[[[[…` 100,000 deep
        raise NotAFeedError("not a JSON Feed: nested too deeply") from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise NotAFeedError("not a JSON Feed: no jsonfeed.org version")
    problems: list[str] = []
    items = document.get("items")
    if not isinstance(items, list):
        problems.append("items is not a list")
        items = []
    skipped = sum(1 for item in items if not isinstance(item, dict))
    if skipped:
        problems.append(f"{skipped} item(s) are not objects")
    home = safe_http_url(_text(document.get("home_page_url")), url)
    entries = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            continue
        try:
            entries.append(clean_record(_entry(item, url)))
        except Exception as exc:  # one broken item never costs its siblings
            problems.append(f"item {number} skipped: {type(exc).__name__}: {exc}")
    return ParsedFeed(
        format=_FORMATS.get(version.removeprefix(VERSION_PREFIX), "json"),
        title=_text(document.get("title")),
        link=home,
        entries=tuple(entries),
        problem="; ".join(problems) or None,
    )


def _entry(item: dict[str, Any], base: str) -> ParsedEntry:
    content_html = _text(item.get("content_html"))
    content_text = _text(item.get("content_text"))
    summary = _text(item.get("summary"))  # plain text per the spec
    if content_html:
        content = sanitize_html(content_html, base) or None
    else:
        content = text_to_html(content_text) if content_text else None
    guid = item.get("id")
    return ParsedEntry(
        # 1.0 allowed numbers as ids; 1.1 requires strings.
        guid=clean_text(str(guid)).strip() or None if isinstance(guid, str | int) else None,
        link=safe_http_url(_text(item.get("url")) or _text(item.get("external_url")), base),
        title=_text(item.get("title")),
        author=_author(item),
        summary=text_to_html(summary) if summary else None,
        content=content,
        published=_date(item.get("date_published")),
        updated=_date(item.get("date_modified")),
        categories=tuple(dict.fromkeys(t.strip() for t in _list(item, "tags") if _text(t))),
        enclosures=tuple(
            dict.fromkeys(
                link
                for attachment in _list(item, "attachments")
                if isinstance(attachment, dict)
                and (link := safe_http_url(_text(attachment.get("url")), base))
            )
        ),
    )


def _author(item: dict[str, Any]) -> str | None:
    """1.1 `authors` list, else the 1.0 `author` object."""
    authors = _list(item, "authors") or [item.get("author")]
    return next(
        (name for a in authors if isinstance(a, dict) and (name := _text(a.get("name")))), None
    )


def _date(value: Any) -> datetime | None:
    """RFC 3339 to aware UTC; a date without offset is taken as UTC; junk is None."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _list(item: dict[str, Any], key: str) -> list[Any]:
    value = item.get(key)
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return clean_text(value).strip() or None if isinstance(value, str) else None
