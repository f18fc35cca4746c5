"""The web pages: search, article (with its versions' diff), feeds, status. Server-rendered
Jinja2 with autoescape on (every archived string is escaped), no JavaScript; archived HTML is
sanitized again (nh3) right before it is shown. Queries and rendering run in worker threads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import Engine

from ingest.diff import diff_hunks
from ingest.parse.sanitize import sanitize_html
from ingest.store import listing
from ingest.store.nodes import status_report
from ingest.web import reads
from ingest.web.api import DB, WARC_DIR, filter_input, path_id
from ingest.web.errors import Problem, bad_request
from ingest.web.params import MAX_QUERY_CHARS, int_param, text_param
from ingest.web.snippets import highlight

PAGE_SIZE = 20
FEED_PAGE = 50
STALE_AFTER = web.AppKey("stale_after", float)
# Pages load nothing but their own stylesheet; forms post only to this site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

templates = Environment(
    loader=PackageLoader("ingest.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def paragraphs(text: str | None) -> list[str]:
    """The archived text's paragraphs (one per line, as extraction stored them)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def when(value: str | None) -> str:
    """An ISO timestamp as `2018-07-02 08:00 UTC` (or an empty string)."""
    if not value:
        return ""
    return value.replace("T", " ")[:16] + " UTC"


templates.filters["when"] = when
templates.globals["urlencode"] = urlencode


def render(name: str, status: int = 200, **context: Any) -> web.Response:
    html = templates.get_template(name).render(**context)
    return web.Response(
        text=html, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


async def _page(request: web.Request, build: Callable[..., dict[str, Any]], *args: Any) -> Any:
    """Run `build(engine, *args)` (queries and all) in a worker thread."""
    return await request.app[DB].call(build, *args)


def _form(request: web.Request) -> dict[str, str]:
    keys = ("q", "feed", "since", "until", "lang", "site", "with_duplicates")
    return {k: request.query.get(k, "")[:MAX_QUERY_CHARS] for k in keys}


async def search_page(request: web.Request) -> web.Response:
    """GET / — the search box with filters; results, or the newest articles without a query."""
    form = _form(request)
    given = filter_input(request)
    text = text_param(request.query, "q", limit=MAX_QUERY_CHARS)
    after = text_param(request.query, "after", limit=100)
    before = int_param(request.query, "before", None)
    if text is not None:
        hits, following = await request.app[DB].call(
            reads.search_hits, text, given, after=after, limit=PAGE_SIZE
        )
        results = [
            {**(hit["summary"] or {}), "snippet": highlight(hit["snippet"], hit["matches"])}
            for hit in hits
        ]
        next_query = following and {**_nonempty(form), "after": following}
    else:
        results = await request.app[DB].call(_latest, given, before, PAGE_SIZE)
        next_query = (
            {**_nonempty(form), "before": results[-1]["id"]} if len(results) == PAGE_SIZE else None
        )
    html = await request.app[DB].call(
        lambda _engine: templates.get_template("search.html").render(
            form=form, query=text, results=results, next_query=next_query
        )
    )
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def _latest(
    engine: Engine, given: reads.FilterInput, before: int | None, limit: int
) -> list[dict[str, Any]]:
    return listing.latest(engine, reads.resolve(engine, given), before_id=before, limit=limit)


def _nonempty(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v}


def _article_html(engine: Engine, folder: Path, article_id: int) -> str:
    record = reads.article_page(engine, folder, article_id)
    return templates.get_template("article.html").render(
        article=record, paragraphs=paragraphs(record["text"])
    )


async def article_page(request: web.Request) -> web.Response:
    """GET /articles/{id} — the archived text, metadata, sources, near-duplicates, versions."""
    html = await request.app[DB].call(_article_html, request.app[WARC_DIR], path_id(request))
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def _archived_html(engine: Engine, article_id: int) -> str:
    record = reads.article(engine, article_id)
    shown = Markup(sanitize_html(record["html"] or "", record["url"]))  # sanitized just now
    return templates.get_template("archived.html").render(article=record, html=shown)


async def archived_html_page(request: web.Request) -> web.Response:
    """GET /articles/{id}/html — the article's archived HTML, sanitized again before shown."""
    html = await request.app[DB].call(_archived_html, path_id(request))
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


async def raw_page(request: web.Request) -> web.Response:
    """GET /articles/{id}/raw — the page's original response as `ingest show --raw` prints it,
    as plain text in the charset the page declared: never rendered as HTML. A body not kept
    whole is said in a `WARC-Truncated` header, as its record says it."""
    folder = request.app[WARC_DIR]
    raw = await request.app[DB].call(reads.raw_message, folder, path_id(request))
    cut = {"WARC-Truncated": raw.truncated} if raw.truncated else {}
    return web.Response(
        body=raw.message,
        content_type="text/plain",
        charset=raw.charset,
        headers=SECURITY_HEADERS | cut,
    )


def _diff_html(engine: Engine, article_id: int, old: int | None, new: int | None) -> str:
    versions = reads.revisions(engine, article_id, with_text=True)
    title = reads.article(engine, article_id)["title"]
    if not versions:
        raise Problem(404, f"article {article_id} has no versions yet (its page is not fetched)")
    new = len(versions) if new is None else new
    old = max(1, new - 1) if old is None else old
    for number in (old, new):
        if not 1 <= number <= len(versions):
            raise bad_request(f"article {article_id} has versions 1 to {len(versions)}")
    a, b = versions[old - 1], versions[new - 1]
    hunks = diff_hunks(a["title"], a["text"] or "", b["title"], b["text"] or "")
    return templates.get_template("diff.html").render(
        article_id=article_id, title=title, old=a, new=b, hunks=hunks, versions=versions
    )


async def diff_page(request: web.Request) -> web.Response:
    """GET /articles/{id}/diff?from=N&to=M — word-level diff of two versions (as `ingest diff`)."""
    old = int_param(request.query, "from", None)
    new = int_param(request.query, "to", None)
    html = await request.app[DB].call(_diff_html, path_id(request), old, new)
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def _feeds_html(engine: Engine, after: int) -> str:
    feeds, following = reads.feed_list(engine, after=after, limit=500)
    return templates.get_template("feeds.html").render(feeds=feeds, following=following)


async def feeds_page(request: web.Request) -> web.Response:
    """GET /feeds — every feed with its health, last success, error class and next fetch."""
    after = int_param(request.query, "after", 0, low=0) or 0
    html = await request.app[DB].call(_feeds_html, after)
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def _feed_html(engine: Engine, feed_id: int, before: int | None) -> str:
    record = reads.feed(engine, feed_id)
    articles, following = reads.feed_articles(engine, feed_id, before=before, limit=FEED_PAGE)
    return templates.get_template("feed.html").render(
        feed=record, articles=articles, following=following, first_page=before is None
    )


async def feed_page(request: web.Request) -> web.Response:
    """GET /feeds/{id} — one feed's state and its articles, newest first, keyset-paged
    (`before`: the entry the previous page ended with)."""
    before = int_param(request.query, "before", None)
    html = await request.app[DB].call(_feed_html, path_id(request), before)
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


async def status_page(request: web.Request) -> web.Response:
    """GET /status — what `ingest status` shows: schedule counts and the daemons."""
    stale_after = request.app[STALE_AFTER]

    def build(engine: Engine) -> str:
        report = status_report(engine, stale_after=stale_after)
        return templates.get_template("status.html").render(report=report)

    html = await request.app[DB].call(build)
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def problem_page(problem: Problem) -> web.Response:
    return render("error.html", status=problem.status, problem=problem)
