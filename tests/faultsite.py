"""Helpers of the fault-scenario suite (tests/test_faults_*.py).

`RawSite` is a loopback HTTP server whose handlers write raw bytes, so a test can serve what
well-behaved servers refuse to: a body shorter than its Content-Length, a gzip bomb, a drip, a
redirect loop. `Archive` runs the real batch (`fetch_once`, the code behind `ingest fetch`) on a
real SQLite file and reads the state back through the same functions the CLI prints.
"""

from __future__ import annotations

import asyncio
import socketserver
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ingest.batch import BatchResult, fetch_once
from ingest.config import Settings
from ingest.health import feed_record
from ingest.store import feeds
from ingest.store.engine import open_archive
from ingest.store.fetchlog import recent_fetches
from ingest.store.hosts import blocked_hosts
from ingest.store.models import FetchLog
from ingest.store.queries import get_article, iter_articles
from tests.conftest import SITE
from tests.fixturefiles import load_fixture

RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]  # lower-case names


Handler = Callable[[Request], Iterable[bytes]]  # chunks written (and flushed) one by one


def response(status: int, body: bytes = b"", **headers: str) -> bytes:
    """A complete HTTP/1.1 response; Content-Length is the body's unless given."""
    names = {k.replace("_", "-"): v for k, v in headers.items()}
    names.setdefault("Content-Length", str(len(body)))
    head = [f"HTTP/1.1 {status} X", "Connection: close", *(f"{k}: {v}" for k, v in names.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def rss(base: str, items: Iterable[dict[str, str]], title: str = "Fault feed") -> bytes:
    """A small RSS 2.0 document; item values are escaped, keys are element names."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{base}/</link>{body}</channel></rss>"
    ).encode()


class RawSite:
    """A threaded loopback server: path → handler; counts requests per path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self.log: list[Request] = []
        site = self

        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(65536).decode("latin-1")
                parts = line.split()
                if len(parts) < 2:
                    return
                headers: dict[str, str] = {}
                while (raw := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = Request(parts[1], headers)
                site.hits[request.path] += 1
                site.log.append(request)
                handler = site.routes.get(request.path, lambda _r: [response(404, b"nope")])
                try:
                    for chunk in handler(request):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:  # the client gave up (deadline, cap): fine
                    pass

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server((host, 0), _Handler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> RawSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def serve(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        data = response(status, body, **headers)
        self.routes[path] = lambda _r: [data]

    def serve_fixture(self, path: str, name: str, content_type: str, **headers: str) -> None:
        self.serve(path, 200, load_fixture(name, self.base), Content_Type=content_type, **headers)

    def serve_site(self) -> None:
        """The fixture news site of tests/conftest.py (feed.rss and its three pages)."""
        for path, (name, content_type) in SITE.items():
            if path not in self.routes:
                self.serve_fixture(path, name, content_type)

    def page_hits(self) -> int:
        return sum(n for path, n in self.hits.items() if path.startswith("/2018/"))


def raw_site(host: str = "127.0.0.1") -> Iterator[RawSite]:
    with RawSite(host) as site:
        yield site


@dataclass
class Archive:
    """A real SQLite archive and the settings a test runs the batch with."""

    engine: Engine
    settings: Settings
    ids: dict[str, int] = field(default_factory=dict)

    def add(self, url: str) -> int:
        self.ids[url] = feeds.add_feed(self.engine, url)[0]
        return self.ids[url]

    def fetch(self, *feed_ids: int, **overrides: Any) -> BatchResult:
        """One `ingest fetch` (of all feeds, or of `feed_ids`), in this process."""
        settings = self.settings.model_copy(update=overrides)
        return asyncio.run(fetch_once(self.engine, settings, list(feed_ids) or None))

    def feed(self, feed_id: int) -> dict[str, Any]:
        """The feed as `ingest feeds list --format json` prints it."""
        [found] = [f for f in feeds.list_feeds(self.engine) if f.id == feed_id]
        return feed_record(found, blocked_hosts(self.engine))

    def export(self) -> list[dict[str, Any]]:
        return list(iter_articles(self.engine))

    def article(self, url: str) -> dict[str, Any]:
        """`ingest show --format json` of the article whose link is `url`."""
        [found] = [a for a in self.export() if a["url"] == url]
        return get_article(self.engine, found["id"])

    def log(self, **filters: Any) -> list[FetchLog]:
        return recent_fetches(self.engine, limit=1000, **filters)


def open_test_archive(db_url: str, **overrides: Any) -> Archive:
    """Test settings: no politeness delay (tests that need it set it), one worker process."""
    settings = Settings(**({"db_url": db_url, "host_delay": 0, "workers": 1} | overrides))
    return Archive(open_archive(db_url), settings)


@pytest.fixture
def web() -> Iterator[RawSite]:
    """A raw loopback server for the faults pytest-httpserver cannot serve."""
    yield from raw_site()
