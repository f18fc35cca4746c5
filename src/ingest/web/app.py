"""The web application: routes, and the guards every request passes first.

- Host check: only the configured names are answered (localhost, 127.0.0.1, [::1], `--host`,
  `--allow-host`), so a DNS-rebinding page in a browser cannot read the archive.
- URL limits: an over-long path (414) or query string (400) is refused before any work.
- Concurrency: at most `max_requests` requests are worked on at once; beyond that the answer is
  503 with Retry-After, so memory stays bounded however many clients push.
- Errors: every error is JSON (`{"error": "…"}`) with its 4xx/5xx status, or an HTML error page
  when a browser asks for a page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import Engine

from ingest.web.api import DB, WARC_DIR, problem_json
from ingest.web.database import Database
from ingest.web.errors import Problem
from ingest.web.pages import STALE_AFTER, problem_page
from ingest.web.routes import ROUTES

log = logging.getLogger(__name__)

LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
MAX_PATH = 2_048
MAX_QUERY_STRING = 16_384
MAX_LINE = 1 << 20  # the HTTP parser's own limit, far above ours: we answer in JSON
ALLOWED_HOSTS = web.AppKey("allowed_hosts", frozenset[str])
MAX_REQUESTS = web.AppKey("max_requests", int)
IN_FLIGHT = web.AppKey("in_flight", list[int])
UNLIMITED = ("/healthz", "/static/", "/favicon.ico")


def host_name(header: str) -> str:
    """The name in a Host header, without its port, lower-cased (`[::1]` keeps brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_names(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host names answered: the local ones, the address listened on, and `extra`."""
    names = {*LOCAL_NAMES, *(name.lower() for name in extra)}
    names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host.lower())
    return frozenset(names)


def _wants_html(request: web.Request) -> bool:
    path = request.path
    if path.startswith("/api/") or path == "/healthz":
        return False
    return "text/html" in request.headers.get("Accept", "")


def _check(request: web.Request) -> None:
    host = request.headers.get("Host")
    if host is None or host_name(host) not in request.app[ALLOWED_HOSTS]:
        raise Problem(400, "unknown Host header: this server answers only its configured names")
    if len(request.raw_path.split("?", 1)[0]) > MAX_PATH:
        raise Problem(414, f"the path is too long (at most {MAX_PATH} characters)")
    if len(request.query_string) > MAX_QUERY_STRING:
        raise Problem(400, f"the query string is too long (at most {MAX_QUERY_STRING} bytes)")


@web.middleware
async def guard(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Host and size checks, the concurrency limit, and one error format for everything.

    A counted request keeps its slot until its answer is written out, so a client that stops
    reading cannot make the server hold more than `max_requests` answers in memory."""
    counted = False
    try:
        try:
            _check(request)
            if not request.path.startswith(UNLIMITED):
                in_flight = request.app[IN_FLIGHT]
                if in_flight[0] >= request.app[MAX_REQUESTS]:
                    raise Problem(503, "too many requests in progress: retry in a moment")
                in_flight[0] += 1
                counted = True
            response = await handler(request)
        except Problem as problem:
            response = _answer(request, problem)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _answer(request, Problem(exc.status, _message(request, exc)))
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
        except Exception:
            log.exception("internal error answering %s", request.path)
            response = _answer(request, Problem(500, "internal error (see the server's log)"))
        await response.prepare(request)
        await response.write_eof()
        return response
    finally:
        if counted:
            request.app[IN_FLIGHT][0] -= 1


def _message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no such route: {request.path[:200]}"
    if exc.status == 405:
        return f"method {request.method} not allowed (this server is read-only)"
    return exc.reason


def _answer(request: web.Request, problem: Problem) -> web.Response:
    answer = problem_page(problem) if _wants_html(request) else problem_json(problem)
    if problem.status == 503:
        answer.headers["Retry-After"] = "1"
    return answer


def make_app(
    engine: Engine,
    *,
    host: str = "127.0.0.1",
    allow_hosts: Iterable[str] = (),
    max_requests: int = 8,
    stale_after: float = 300.0,
    warc_dir: Path = Path("archive") / "warc",
) -> web.Application:
    """The application over `engine`; `host` is the address listened on (its name is answered
    too), `allow_hosts` more names (e.g. a reverse proxy's); `warc_dir` holds the raw
    responses."""
    app = web.Application(middlewares=[guard], handler_args={"max_line_size": MAX_LINE})
    app[DB] = Database(engine, workers=max_requests)
    app[ALLOWED_HOSTS] = allowed_names(host, allow_hosts)
    app[MAX_REQUESTS] = max_requests
    app[IN_FLIGHT] = [0]
    app[STALE_AFTER] = stale_after
    app[WARC_DIR] = warc_dir
    for route in ROUTES:
        app.router.add_get(route.path, route.handler)

    async def interrupt(app: web.Application) -> None:
        app[DB].interrupt_all()

    async def close(app: web.Application) -> None:
        app[DB].close()

    app.on_shutdown.append(interrupt)
    app.on_cleanup.append(close)
    return app
