"""Shared fixtures: a real threaded HTTP server on 127.0.0.1 serving the fixture site, a real
SQLite archive in a temporary folder, and the real `ingest` entry point run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.fixturefiles import load_fixture

# fixtures of their own modules: pg_server/pg_url (a real PostgreSQL), web (a raw loopback
# server for HTTP faults), daemons (`ingest run` processes, killed at the end)
pytest_plugins = ["tests.postgres", "tests.faultsite", "tests.daemons", "tests.webarchive"]

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"

# path on the fixture site → (fixture file, content type)
SITE = {
    "/feed.rss": ("feed.rss", RSS),
    "/feed.atom": ("feed.atom", ATOM),
    "/feed.json": ("feed.json", "application/feed+json"),
    "/partner.rss": ("partner.rss", RSS),
    "/minimal.rss": ("minimal.rss", RSS),
    "/malformed.rss": ("malformed.rss", RSS),
    "/": ("index.html", HTML),
    "/2018/07/sensetime-singapore/": ("sensetime.html", HTML),
    "/2018/07/other-1/": ("other-1.html", HTML),
    "/2018/07/other-2/": ("other-2.html", HTML),
}


@pytest.fixture(scope="session")
def server() -> Iterator[HTTPServer]:
    """One threaded server for the session (handlers are reset per test by `site`)."""
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


@dataclass
class Site:
    """The fixture news site on the loopback server."""

    server: HTTPServer

    @property
    def base(self) -> str:
        return self.server.url_for("").rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, name: str, content_type: str, **headers: str) -> None:
        self.server.expect_request(path).respond_with_data(
            load_fixture(name, self.base), content_type=content_type, headers=headers
        )

    def serve_all(self) -> None:
        for path, (name, content_type) in SITE.items():
            self.serve(path, name, content_type)

    def requests(self, path: str) -> list[object]:
        return [request for request, _ in self.server.log if request.path == path]


@pytest.fixture
def site(server: HTTPServer) -> Iterator[Site]:
    server.clear()
    yield Site(server)
    server.clear()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive' / 'ingest.db'}"


@dataclass
class Cli:
    """Runs the real `ingest` entry point in a subprocess, in a clean working directory."""

    cwd: Path
    db_url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
        # Test settings: no politeness delay (one loopback host), loopback pages allowed only as
        # each feed's own origin, small worker pool.
        env |= {"INGEST_DB_URL": self.db_url, "INGEST_HOST_DELAY": "0", "INGEST_WORKERS": "2"}
        return env

    def __call__(
        self, *args: str, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ingest", *args],
            cwd=self.cwd,
            env=self.env() | env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ingest", *args],
            cwd=self.cwd,
            env=self.env() | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path, db_url)
