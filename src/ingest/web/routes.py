"""Every route in one table: the router and the OpenAPI description are both built from it,
so the description cannot drift from what is served."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ingest.web import api, atom, pages

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON, HTML, ATOM, CSS = "application/json", "text/html", "application/atom+xml", "text/css"
TEXT, SVG = "text/plain", "image/svg+xml"
STYLESHEET = (Path(__file__).parent / "static" / "style.css").read_text()
ICON = (Path(__file__).parent / "static" / "favicon.svg").read_text()


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    description: str
    type: str = "integer"  # JSON Schema type
    where: str = "query"  # or "path"
    repeat: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: Handler
    summary: str
    media: str = JSON
    params: tuple[Param, ...] = ()
    schema: str | None = None  # component schema of a 200 JSON answer


async def stylesheet(_request: web.Request) -> web.Response:
    return web.Response(
        text=STYLESHEET, content_type=CSS, headers={"Cache-Control": "max-age=3600"}
    )


async def favicon(_request: web.Request) -> web.Response:
    """What a browser asks for on documents that name no icon (the raw response, Atom)."""
    return web.Response(text=ICON, content_type=SVG, headers={"Cache-Control": "max-age=86400"})


async def openapi_json(request: web.Request) -> web.Response:
    from ingest.web.openapi import describe  # the description is built from this table

    return api.json_response(describe(ROUTES))


ID = Param("id", "Numeric id (ASCII digits).", where="path")
AFTER = Param("after", "Cursor: the `next` value of the previous page.")
LIMIT = Param("limit", "Items per page (1-500).")
FILTERS = (
    Param("feed", "Only articles of this feed (ID or URL); repeatable.", "string", repeat=True),
    Param("since", "Published on or after: ISO date/time, or an age such as 7d.", "string"),
    Param("until", "Published before the end of: ISO date/time, or an age.", "string"),
    Param("lang", "Language code (en, de, zh, pt-br).", "string"),
    Param("site", "Host name of the article (example.com; www. ignored) or site name.", "string"),
    Param("with_duplicates", "Include near-duplicates (hidden by default).", "boolean"),
)
QUERY = Param("q", "Search words (syntax: README, Search syntax). Required.", "string")
CURSOR = Param("after", "Cursor: the `next` value of the previous page (rank:id).", "string")

ROUTES: tuple[Route, ...] = (
    Route(
        "/api/articles",
        api.list_articles,
        "Article summaries in id order (no text), filtered, keyset-paged.",
        params=(AFTER, LIMIT, *FILTERS),
        schema="ArticlePage",
    ),
    Route(
        "/api/articles/{id}",
        api.show_article,
        "One article in full: text, sanitized HTML, sources.",
        params=(ID,),
        schema="Article",
    ),
    Route(
        "/api/articles/{id}/revisions",
        api.article_revisions,
        "Every version of an article, oldest first.",
        params=(ID, Param("text", "Include each version's text.", "boolean")),
        schema="RevisionList",
    ),
    Route(
        "/api/articles/{id}/raw",
        api.article_raw,
        "The page's original response: status line, headers as received, digest, body size.",
        params=(ID,),
        schema="RawResponse",
    ),
    Route(
        "/api/search",
        api.search_articles,
        "Full-text search, best first, with highlighted snippets; paged by `next`.",
        params=(QUERY, CURSOR, LIMIT, *FILTERS),
        schema="SearchPage",
    ),
    Route(
        "/api/feeds",
        api.list_feeds,
        "Feeds in id order with their health, keyset-paged.",
        params=(AFTER, Param("limit", "Feeds per page (1-10000).")),
        schema="FeedPage",
    ),
    Route(
        "/api/feeds/{id}", api.show_feed, "One feed with its health.", params=(ID,), schema="Feed"
    ),
    Route(
        "/api/feeds/{id}/articles",
        api.feed_articles,
        "A feed's article summaries, newest first (as the feed listed them), keyset-paged.",
        params=(ID, AFTER, LIMIT),
        schema="FeedArticlePage",
    ),
    Route("/api/openapi.json", openapi_json, "This description (OpenAPI 3.1).", schema=None),
    Route("/healthz", api.healthz, 'Liveness: {"ok": true}.', schema=None),
    Route(
        "/",
        pages.search_page,
        "Web page: search box with filters and results (newest articles without q).",
        HTML,
        (
            Param("q", "Search words.", "string"),
            Param("before", "Newest-first cursor."),
            AFTER,
            *FILTERS,
        ),
    ),
    Route("/articles/{id}", pages.article_page, "Web page: one article.", HTML, (ID,)),
    Route(
        "/articles/{id}/diff",
        pages.diff_page,
        "Web page: word-level diff between two versions (default: previous → latest).",
        HTML,
        (ID, Param("from", "Older version number."), Param("to", "Newer version number.")),
    ),
    Route(
        "/articles/{id}/html",
        pages.archived_html_page,
        "Web page: the archived HTML, sanitized.",
        HTML,
        (ID,),
    ),
    Route(
        "/articles/{id}/raw",
        pages.raw_page,
        "The page's original response (status line, headers, body) as plain text, as "
        "`ingest show --raw` prints it.",
        TEXT,
        (ID,),
    ),
    Route("/feeds", pages.feeds_page, "Web page: every feed and its health.", HTML, (AFTER,)),
    Route("/feeds/{id}.atom", atom.feed_atom, "Atom: a feed's archived articles.", ATOM, (ID,)),
    Route(
        "/feeds/{id}",
        pages.feed_page,
        "Web page: one feed and its articles, newest first.",
        HTML,
        (ID, Param("before", "Cursor: the entry the previous page ended with.")),
    ),
    Route(
        "/search.atom",
        atom.search_atom,
        "Atom: the best matches of a search, full text.",
        ATOM,
        (QUERY, *FILTERS),
    ),
    Route("/status", pages.status_page, "Web page: what `ingest status` shows.", HTML),
    Route("/static/style.css", stylesheet, "The stylesheet.", CSS),
    Route("/favicon.ico", favicon, "The site's icon (SVG).", SVG),
)
