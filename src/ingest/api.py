"""The HTTP API: the archive read over HTTP (JSON), served by `ingest serve`.

Read-only, over the same query functions as `show` and `export`. Database calls run in a
thread so one slow query never stalls other requests. HTML in responses is the sanitized HTML
stored at ingest time (no script, no event handlers, no javascript: URLs).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.health import feeds_with_health
from ingest.store.queries import article_page, get_article
from ingest.store.search import search
from ingest.timestamps import json_default

ENGINE = web.AppKey("engine", Engine)
MAX_PAGE = 500


def _error(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


def _int_param(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _error(web.HTTPBadRequest, f"{name} must be an integer from {low} to {high}")
    return int(raw)


async def _db(request: web.Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, request.app[ENGINE], *args, **kwargs)


async def list_articles(request: web.Request) -> web.Response:
    """GET /api/articles?after=ID&limit=N — a page of articles, and the `next` cursor."""
    after = _int_param(request, "after", 0, low=0, high=2**62)
    limit = _int_param(request, "limit", 50, low=1, high=MAX_PAGE)
    page = await _db(request, article_page, after_id=after, limit=limit)
    following = page[-1]["id"] if len(page) == limit else None
    return web.json_response({"articles": page, "next": following}, dumps=_dumps)


async def show_article(request: web.Request) -> web.Response:
    """GET /api/articles/{id} — one article with its sources and sanitized HTML."""
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise _error(web.HTTPNotFound, f"no such article: {raw}")
    try:
        return web.json_response(await _db(request, get_article, int(raw)), dumps=_dumps)
    except UsageError as exc:
        raise _error(web.HTTPNotFound, str(exc)) from None


async def search_articles(request: web.Request) -> web.Response:
    """GET /api/search?q=WORDS&limit=N — full-text search, best first, with snippets."""
    limit = _int_param(request, "limit", 20, low=1, high=MAX_PAGE)
    try:
        found = await _db(request, search, request.query.get("q", ""), limit=limit)
    except UsageError as exc:
        raise _error(web.HTTPBadRequest, str(exc)) from None
    return web.json_response({"hits": [asdict(hit) for hit in found]}, dumps=_dumps)


def _dumps(data: object) -> str:
    return json.dumps(data, default=json_default)


async def list_feeds(request: web.Request) -> web.Response:
    """GET /api/feeds — every feed with its health."""
    found = await _db(request, feeds_with_health)
    return web.json_response({"feeds": [record for _, _, record in found]}, dumps=_dumps)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True}, dumps=_dumps)


def make_app(engine: Engine) -> web.Application:
    app = web.Application()
    app[ENGINE] = engine
    app.router.add_get("/api/articles", list_articles)
    app.router.add_get("/api/articles/{id}", show_article)
    app.router.add_get("/api/search", search_articles)
    app.router.add_get("/api/feeds", list_feeds)
    app.router.add_get("/healthz", healthz)
    return app
