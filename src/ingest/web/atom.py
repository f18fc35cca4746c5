"""Atom feeds of the archive: a feed's articles (`/feeds/{id}.atom`) and a search
(`/search.atom?q=…`), with the archived full texts.

Rendered by a Jinja2 template with XML escaping; characters XML 1.0 cannot carry (C0 controls
other than tab and newlines, lone surrogates) are dropped first, so any archived text gives a
well-formed document. Each entry's text is cut at ENTRY_CHARS and a feed has at most
MAX_ENTRIES entries, so one response stays a few megabytes at most.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine

from ingest.parse.sanitize import text_to_html
from ingest.store import listing
from ingest.store.models import utcnow
from ingest.web import reads
from ingest.web.api import DB, filter_input, path_id
from ingest.web.params import search_text

MAX_ENTRIES = 50
ENTRY_CHARS = 100_000
ATOM = "application/atom+xml"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: Any) -> Any:
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


templates = Environment(
    loader=PackageLoader("ingest.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    finalize=_xml_safe,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["content_html"] = text_to_html(row.pop("text", "") or "")
    return rows


def _document(base: str, self_url: str, alternate: str, title: str, entries: list[Any]) -> str:
    updated = max(
        (e["updated_at"] for e in entries if e.get("updated_at")),
        default=listing.iso(utcnow()),
    )
    return templates.get_template("feed.atom").render(
        base=base,
        feed_id=self_url,
        self_url=self_url,
        alternate_url=alternate,
        title=title,
        updated=updated,
        entries=entries,
    )


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def feed_atom(request: web.Request) -> web.Response:
    """GET /feeds/{id}.atom — the feed's most recent archived articles, full text."""
    feed_id = path_id(request)
    base = _base(request)

    def build(engine: Engine) -> str:
        record = reads.feed(engine, feed_id)
        rows = listing.feed_articles(engine, feed_id, limit=MAX_ENTRIES, text_chars=ENTRY_CHARS)
        title = f"{record['title'] or record['url']} (archived)"
        return _document(
            base, f"{base}/feeds/{feed_id}.atom", f"{base}/feeds/{feed_id}", title, _entries(rows)
        )

    return web.Response(text=await request.app[DB].call(build), content_type=ATOM)


async def search_atom(request: web.Request) -> web.Response:
    """GET /search.atom?q=… — the best matches of a search (with its filters), full text."""
    text = search_text(request.query)
    given = filter_input(request)
    base = _base(request)
    query_string = request.query_string

    def build(engine: Engine) -> str:
        hits, _ = reads.search_hits(engine, text, given, after=None, limit=MAX_ENTRIES)
        rows = listing.articles_with_text(
            engine, [hit["id"] for hit in hits], text_chars=ENTRY_CHARS
        )
        return _document(
            base,
            f"{base}/search.atom?{query_string}",
            f"{base}/?{query_string}",
            f"Search: {text}",
            _entries(rows),
        )

    return web.Response(text=await request.app[DB].call(build), content_type=ATOM)
