"""The JSON API (`/api/…`): articles, search, revisions and feeds, read-only.

Lists are summaries (no text; titles and descriptions cut), paged by cursor, so no request
can grow with the size of what is archived; one article is read in full by its own route.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from ingest.timestamps import json_default
from ingest.web import reads
from ingest.web.database import Database
from ingest.web.errors import Problem, bad_request
from ingest.web.params import ascii_int, flag_param, int_param, search_text, text_param

DB = web.AppKey("db", Database)
WARC_DIR = web.AppKey("warc_dir", Path)  # where the raw responses are (`warc_dir`)
MAX_PAGE = 500


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, default=json_default),
        status=status,
        content_type="application/json",
    )


def path_id(request: web.Request, name: str = "id") -> int:
    return ascii_int(request.match_info[name], name)


def page_params(request: web.Request, default_limit: int) -> tuple[int, int]:
    after = int_param(request.query, "after", 0, low=0) or 0
    limit = int_param(request.query, "limit", default_limit, low=1, high=MAX_PAGE) or 1
    return after, limit


def filter_input(request: web.Request) -> reads.FilterInput:
    """The filters of `ingest search` from the query string: feed (ID or URL, repeatable),
    since/until (ISO date or time, or an age such as 7d), lang, site, with_duplicates."""
    query = request.query
    refs = tuple(ref.strip() for ref in query.getall("feed", []) if ref.strip())
    for ref in refs:
        if not ((ref.isascii() and ref.isdigit()) or "://" in ref) or len(ref) > 2048:
            raise bad_request(f"feed must be a feed ID or URL, not {ref[:100]!r}")
    since, until = (text_param(query, key, limit=40) for key in ("since", "until"))
    lang, site = (text_param(query, key, limit=255) for key in ("lang", "site"))
    return reads.FilterInput(refs, since, until, lang, site, flag_param(query, "with_duplicates"))


async def list_articles(request: web.Request) -> web.Response:
    """GET /api/articles — article summaries in id order, filtered, with the `next` cursor."""
    after, limit = page_params(request, 50)
    given = filter_input(request)
    page, following = await request.app[DB].call(
        reads.article_list, given, after=after, limit=limit
    )
    return json_response({"articles": page, "next": following})


async def show_article(request: web.Request) -> web.Response:
    """GET /api/articles/{id} — one article in full: text, sanitized HTML, sources."""
    return json_response(await request.app[DB].call(reads.article, path_id(request)))


async def article_revisions(request: web.Request) -> web.Response:
    """GET /api/articles/{id}/revisions — every version, oldest first (texts with `text=1`)."""
    with_text = flag_param(request.query, "text")
    versions = await request.app[DB].call(reads.revisions, path_id(request), with_text=with_text)
    return json_response({"revisions": versions})


async def article_raw(request: web.Request) -> web.Response:
    """GET /api/articles/{id}/raw — the page's original response: status line, headers as
    received, payload digest and body size (the body itself: `/articles/{id}/raw`)."""
    folder = request.app[WARC_DIR]
    return json_response(await request.app[DB].call(reads.raw_record, folder, path_id(request)))


async def search_articles(request: web.Request) -> web.Response:
    """GET /api/search — full-text search, best first, with snippets and the `next` cursor."""
    text = search_text(request.query)
    after = text_param(request.query, "after", limit=100)
    limit = int_param(request.query, "limit", 20, low=1, high=MAX_PAGE) or 1
    given = filter_input(request)
    hits, following = await request.app[DB].call(
        reads.search_hits, text, given, after=after, limit=limit
    )
    return json_response({"hits": hits, "next": following})


async def list_feeds(request: web.Request) -> web.Response:
    """GET /api/feeds — feeds in id order with their health, and the `next` cursor."""
    after = int_param(request.query, "after", 0, low=0) or 0
    limit = int_param(request.query, "limit", 1_000, low=1, high=10_000) or 1
    page, following = await request.app[DB].call(reads.feed_list, after=after, limit=limit)
    return json_response({"feeds": page, "next": following})


async def show_feed(request: web.Request) -> web.Response:
    """GET /api/feeds/{id} — one feed with its health."""
    return json_response(await request.app[DB].call(reads.feed, path_id(request)))


async def feed_articles(request: web.Request) -> web.Response:
    """GET /api/feeds/{id}/articles — the feed's articles newest first, with the `next` cursor."""
    feed_id = path_id(request)
    after = int_param(request.query, "after", None)
    limit = int_param(request.query, "limit", 50, low=1, high=MAX_PAGE) or 1
    page, following = await request.app[DB].call(
        reads.feed_articles, feed_id, before=after, limit=limit
    )
    return json_response({"articles": page, "next": following})


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"ok": True})


def problem_json(problem: Problem) -> web.Response:
    return json_response({"error": problem.message}, status=problem.status)
