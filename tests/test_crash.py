"""kill -9 in the middle of a fetch leaves a consistent archive that the next run completes."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from werkzeug import Request, Response

from tests.conftest import Cli, Site
from tests.fixturefiles import load_fixture


def wait_for(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def test_sigkill_mid_fetch_then_next_run_completes(cli: Cli, site: Site, tmp_path: Path) -> None:
    release, arrived = threading.Event(), threading.Event()

    def slow_page(name: str) -> Callable[[Request], Response]:
        def handler(_request: Request) -> Response:
            arrived.set()
            release.wait(30)  # hold the pages until the fetch is killed
            return Response(load_fixture(name, site.base), content_type="text/html; charset=utf-8")

        return handler

    site.server.expect_request("/2018/07/sensetime-singapore/").respond_with_handler(
        slow_page("sensetime.html")
    )
    site.server.expect_request("/2018/07/other-1/").respond_with_handler(slow_page("other-1.html"))
    site.server.expect_request("/2018/07/other-2/").respond_with_handler(slow_page("other-2.html"))
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss"), site.url("/partner.rss")).returncode == 0

    db = tmp_path / "archive" / "ingest.db"
    proc = cli.popen("fetch")
    # the entries are committed (articles pending) and the page requests are in flight
    wait_for(arrived.is_set)
    assert count(db, "SELECT count(*) FROM entry") == 4
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    release.set()
    assert count(db, "SELECT count(*) FROM article WHERE extraction = 'pending'") == 3

    done = cli("fetch")
    assert done.returncode == 0, done.stderr + done.stdout
    records = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert len(records) == 3
    assert {r["extraction"] for r in records} == {"full"}
    assert sorted(len(r["sources"]) for r in records) == [1, 1, 2]
    assert count(db, "SELECT count(*) FROM entry") == 4
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
