"""The OpenAPI 3.1 description of the routes table (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from ingest import __version__
from ingest.web.routes import Route

_STR, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_SPANS = {"type": "array", "items": {"type": "array", "items": _INT, "minItems": 2, "maxItems": 2}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": [schema["type"], "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SUMMARY = {
    "id": _INT,
    "title": _nullable(_STR),
    "url": _nullable(_STR),
    "canonical_url": _nullable(_STR),
    "published": _nullable(_STR),
    "language": _nullable(_STR),
    "sitename": _nullable(_STR),
    "description": _nullable(_STR),
    "word_count": _INT,
    "extraction": {"enum": ["pending", "full", "feed", "failed"]},
    "fetched_at": _nullable(_STR),
    "duplicate_of": _nullable(_INT),
    "similarity": _nullable(_NUM),
    "revisions": _INT,
    "removed_at": _nullable(_STR),
    "feeds": {"type": "array", "items": {"type": "object"}},
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "properties": {"error": _STR}, "required": ["error"]},
    "ArticleSummary": {"type": "object", "properties": _SUMMARY},
    "ArticlePage": {
        "type": "object",
        "properties": {
            "articles": {"type": "array", "items": _ref("ArticleSummary")},
            "next": _nullable(_INT),
        },
    },
    "FeedArticlePage": {
        "type": "object",
        "description": "Summaries with `entry_id` (the feed's entry); `next` is the last one's.",
        "properties": {
            "articles": {"type": "array", "items": _ref("ArticleSummary")},
            "next": _nullable(_INT),
        },
    },
    "Article": {
        "type": "object",
        "description": "The export record (README, Export format) plus html and extraction_error.",
        "properties": {
            **{k: v for k, v in _SUMMARY.items() if k != "feeds"},
            "text": _STR,
            "html": _nullable(_STR),
            "author": _nullable(_STR),
            "sources": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Revision": {
        "type": "object",
        "properties": {
            "revision": _INT,
            "created_at": _STR,
            "title": _nullable(_STR),
            "text": _nullable(_STR),
            "content_hash": _STR,
            "reason": _STR,
        },
    },
    "RevisionList": {
        "type": "object",
        "properties": {"revisions": {"type": "array", "items": _ref("Revision")}},
    },
    "RawResponse": {
        "type": "object",
        "description": "The page's response as archived (WARC); headers null for pages kept "
        "before WARC storage. `body` is the route serving the whole response as text. "
        "`truncated` is the record's WARC-Truncated (length, time, disconnect, unspecified) "
        "when the body was refused or cut short and only part of it (maybe none) is kept.",
        "properties": {
            "uri": _STR,
            "date": _nullable(_STR),
            "record_type": {"enum": ["response", "revisit", None]},
            "status_line": _nullable(_STR),
            "headers": {
                "type": ["array", "null"],
                "items": {"type": "array", "items": _STR, "minItems": 2, "maxItems": 2},
            },
            "payload_digest": _nullable(_STR),
            "truncated": _nullable(_STR),
            "body_bytes": _INT,
            "body": _STR,
        },
    },
    "Hit": {  # matches: [start, end) character offsets into snippet (title_matches: title)
        "type": "object",
        "properties": {
            "id": _INT,
            "title": _nullable(_STR),
            "published": _nullable(_STR),
            "url": _nullable(_STR),
            "snippet": _STR,
            "matches": _SPANS,
            "title_matches": _SPANS,
            "rank": _NUM,
            "summary": _ref("ArticleSummary"),
        },
    },
    "SearchPage": {
        "type": "object",
        "properties": {
            "hits": {"type": "array", "items": _ref("Hit")},
            "next": _nullable(_STR),
        },
    },
    "Feed": {
        "type": "object",
        "properties": {"id": _INT, "url": _STR, "title": _nullable(_STR), "health": _STR},
    },
    "FeedPage": {
        "type": "object",
        "properties": {"feeds": {"type": "array", "items": _ref("Feed")}, "next": _nullable(_INT)},
    },
}
_ERRORS = {
    "400": "Bad parameter (the message names it).",
    "404": "No such article or feed.",
    "500": "The archive could not be read (e.g. a raw response's WARC file is damaged).",
    "503": "Too many requests in flight, or the archive could not answer.",
}


def _operation(route: Route) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ref(route.schema)} if route.schema else {}
    error = {"application/json": {"schema": _ref("Error")}}
    return {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "parameters": [
            {
                "name": p.name,
                "in": p.where,
                "required": p.where == "path" or (p.name == "q" and route.media != "text/html"),
                "description": p.description,
                "schema": {"type": "array", "items": {"type": p.type}}
                if p.repeat
                else {"type": p.type},
                **({"explode": True} if p.repeat else {}),
            }
            for p in route.params
        ],
        "responses": {
            "200": {"description": "OK", "content": {route.media: content}},
            **{code: {"description": text, "content": error} for code, text in _ERRORS.items()},
        },
    }


def describe(routes: tuple[Route, ...]) -> dict[str, Any]:
    """The OpenAPI document: one GET operation per route."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ingest archive",
            "version": __version__,
            "description": "Read-only access to an ingest archive. Errors are JSON "
            '({"error": "…"}) with a 4xx status, or 503 when busy.',
        },
        "paths": {route.path: {"get": _operation(route)} for route in routes},
        "components": {"schemas": SCHEMAS},
    }
