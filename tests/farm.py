"""A loopback farm of generated feeds and article pages that counts every request per path.

`/feed/<i>.xml` is an RSS feed with `items` entries linking `/page/<i>/<k>.html`, each page a
distinct article (distinct text, so dedupe never merges two). Pages can be held (the request
waits until released) to catch a worker mid-update. Used by the multi-daemon tests and by
benchmarks/daemons.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ["archive", "harbour", "lantern", "meadow", "orchard", "quarry", "river", "summit"]


def page_html(feed: int, item: int) -> bytes:
    paragraphs = "".join(
        f"<p>Paragraph {n} of report {feed}-{item}: the "
        + " ".join(WORDS[(feed * 7 + item * 3 + n + j) % len(WORDS)] for j in range(40))
        + f" (ref {feed}.{item}.{n}).</p>"
        for n in range(5)
    )
    return (
        f"<!doctype html><html><head><title>Report {feed}-{item}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>Report {feed}-{item}</h1>{paragraphs}"
        "</article><footer>Copyright farm</footer></body></html>"
    ).encode()


def feed_xml(base: str, feed: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>Report {feed}-{k}</title><link>{base}/page/{feed}/{k}.html</link>"
        f"<guid>farm-{feed}-{k}</guid><pubDate>Mon, 0{1 + k % 9} Jan 2024 10:00:00 GMT</pubDate>"
        f"<description>Summary of report {feed}-{k}.</description></item>"
        for k in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Farm feed {feed}</title>'
        f"<link>{base}/</link><description>generated</description>{entries}</channel></rss>"
    ).encode()


class Farm:
    """The server, its request counts, and a hold on page requests."""

    def __init__(self, feeds: int, items: int = 2, page_delay: float = 0.0) -> None:
        self.feeds, self.items, self.page_delay = feeds, items, page_delay
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()  # nothing held until `hold()`
        self.held = 0  # page requests waiting right now
        farm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                farm.serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed_urls(self) -> list[str]:
        return [f"{self.base}/feed/{i}.xml" for i in range(self.feeds)]

    def page_paths(self) -> list[str]:
        return [f"/page/{i}/{k}.html" for i in range(self.feeds) for k in range(self.items)]

    def hold(self) -> None:
        self.release.clear()

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self.lock:
            self.counts[path] += 1
        parts = path.strip("/").split("/")
        if parts[0] == "feed" and len(parts) == 2:
            body, ctype = feed_xml(self.base, int(parts[1].split(".")[0]), self.items), "rss+xml"
            ctype = "application/" + ctype
        elif parts[0] == "page" and len(parts) == 3:
            with self.lock:
                self.held += not self.release.is_set()
            self.release.wait(60)
            time.sleep(self.page_delay)
            body, ctype = page_html(int(parts[1]), int(parts[2].split(".")[0])), "text/html"
        else:
            handler.send_error(404)
            return
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", ctype + "; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client was killed while we held its request
            pass

    def __enter__(self) -> Farm:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
