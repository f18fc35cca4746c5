"""A small archive served by the real `ingest serve` process, shared by the web and API tests of
one module: the fixture site's feeds, a feed of hostile HTML, and the seed article revised once
(two versions, for the diff view)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import HTML, Cli, Site
from tests.daemons import free_port

SEED_PATH = "/2018/07/sensetime-singapore/"
SEED_TITLE = "SenseTime Enters Singapore Through NTU, NSCC and Singtel Partnerships"
XSS_FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>X &lt;b&gt;feed</title><item>'
    "<title>t &lt;script&gt;alert(9)&lt;/script&gt;</title><guid>x1</guid>"
    '<description>&lt;p onclick="alert(1)"&gt;hi&lt;script&gt;alert(2)'
    '&lt;/script&gt;&lt;a href="javascript:alert(3)"&gt;l&lt;/a&gt;&lt;/p&gt;</description>'
    "</item></channel></rss>"
)


@dataclass
class Served:
    """A running `ingest serve` and the archive behind it."""

    base: str
    cli: Cli
    site: Site

    def get(self, path: str, **headers: str) -> tuple[int, Any]:
        """GET `path`: (status, parsed JSON body)."""
        status, body, _ = self.fetch(path, **headers)
        return status, json.loads(body)

    def fetch(self, path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
        """GET `path`: (status, body text, headers)."""
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def seed_id(self) -> int:
        listed = self.get("/api/articles?limit=50")[1]["articles"]
        return next(a["id"] for a in listed if a["title"] == SEED_TITLE)


def wait_until_serving(base: str, proc: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not answer /healthz")


@pytest.fixture(scope="module")
def served(server: HTTPServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    cli = Cli(root, f"sqlite:///{root / 'archive' / 'ingest.db'}")
    site = Site(server)
    server.clear()
    site.serve_all()
    server.expect_request("/xss.rss").respond_with_data(XSS_FEED, content_type="text/xml")
    # one by one: `feeds add A B` polls both at once, so which gets id 1 is a race
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("feeds", "add", site.url("/xss.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    server.clear()  # the seed page is edited: a re-check archives a second version
    site.serve(SEED_PATH, "sensetime-revised.html", HTML)
    site.serve_all()
    server.expect_request("/xss.rss").respond_with_data(XSS_FEED, content_type="text/xml")
    done = cli("fetch", "--recheck")
    assert "1 revised" in done.stdout, done.stdout + done.stderr
    server.clear()
    port = free_port()
    proc = cli.popen("serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, proc)
        yield Served(base, cli, site)
    finally:
        proc.terminate()
        proc.wait(10)
