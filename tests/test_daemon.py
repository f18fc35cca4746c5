"""`ingest run` through the real entry point on a real SQLite file: start, poll, SIGTERM."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.request
from pathlib import Path

import pytest
from werkzeug import Request, Response

from tests.conftest import RSS, Cli, Site
from tests.daemons import FAST, Running, free_port, wait_for
from tests.fixturefiles import load_fixture


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # schema not created yet
            return []


def scalar(db: Path, sql: str) -> object:
    rows = query(db, sql)
    return rows[0][0] if rows else None


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "archive" / "ingest.db"


def start(cli: Cli, daemons: list[Running], *args: str, **env: str) -> Running:
    daemon = Running(cli.popen("run", *args, **(FAST | env)))
    daemons.append(daemon)
    return daemon


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_daemon_life_cycle(cli: Cli, site: Site, db: Path, daemons: list[Running]) -> None:
    site.serve_all()
    port = free_port()
    daemon = start(cli, daemons, "--metrics-port", str(port))
    # no feeds: it says how to add one and keeps running...
    wait_for(lambda: daemon.said("no feeds yet"), what="the no-feeds hint")
    assert "ingest feeds add URL" in daemon.log
    assert daemon.proc.poll() is None
    # ...and picks up a feed added later
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM article WHERE extraction = 'full'") == 3,
        what="the feed's articles archived by the daemon",
    )
    status = cli("status", "--format", "json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    (node,) = report["nodes"]
    assert node["kind"] == "daemon" and node["state"] == "running"
    assert node["last_tick_at"] is not None
    assert report["feeds"]["feeds"] == 1 and report["feeds"]["due"] == 0
    table = cli("status")
    assert table.returncode == 0 and "daemon:" in table.stdout

    code, body = get(f"http://127.0.0.1:{port}/healthz")
    assert code == 200 and body.strip() == "ok"
    _, metrics = get(f"http://127.0.0.1:{port}/metrics")
    # `feeds add` made the first poll; the daemon took the new pages from the page queue
    assert 'ingest_article_revisits_total{outcome="full"} 3.0' in metrics
    assert 'ingest_queue_depth{queue="feeds"} 0.0' in metrics
    assert "ingest_tick_lag_seconds" in metrics

    # one daemon per SQLite file: the second refuses with one line and exit 2
    second = cli("run", **FAST)
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert "another daemon" in second.stderr and "PostgreSQL" in second.stderr

    assert daemon.stop() == 0, daemon.log
    assert scalar(db, "SELECT count(*) FROM feed WHERE lease_owner IS NOT NULL") == 0
    assert scalar(db, "SELECT count(*) FROM node") == 0
    # polled once, by `feeds add` (its body is the first poll): the next fetch is scheduled by
    # the posting rate, at least min_interval away
    assert len(site.requests("/feed.rss")) == 1
    assert scalar(db, "SELECT count(*) FROM fetch_log WHERE kind = 'feed'") == 1
    assert scalar(db, "SELECT count(*) FROM feed WHERE next_fetch_at > datetime('now')") == 1


def test_fetch_beside_daemon_never_fetches_a_feed_twice(
    cli: Cli, site: Site, db: Path, daemons: list[Running]
) -> None:
    hold, arrived, release = threading.Event(), threading.Event(), threading.Event()
    polls: list[Request] = []  # the server's own log only lists answered requests

    def held_feed(request: Request) -> Response:
        polls.append(request)
        if hold.is_set():  # `feeds add` checks the feed unheld; the daemon's request waits
            arrived.set()
            release.wait(30)
        return Response(load_fixture("feed.rss", site.base), content_type=RSS)

    site.server.expect_request("/feed.rss").respond_with_handler(held_feed)
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss"), site.url("/partner.rss")).returncode == 0
    seen_by_add = len(polls)
    with sqlite3.connect(db, timeout=30) as conn:  # due again: `feeds add` made the first poll
        conn.execute("UPDATE feed SET next_fetch_at = NULL")
    hold.set()
    daemon = start(cli, daemons)
    wait_for(arrived.is_set, what="the daemon's feed request")

    done = cli("fetch")  # the daemon holds /feed.rss: the one-off fetch must leave it alone
    assert "skipped (another worker is fetching it)" in done.stderr, done.stderr
    assert site.url("/feed.rss") in done.stderr
    assert len(polls) == seen_by_add + 1

    # SIGTERM while the feed is still held: abandoned after the grace period, lease given back
    assert daemon.stop() == 0, daemon.log
    assert daemon.said("abandoned 1 updates")
    release.set()
    assert scalar(db, "SELECT count(*) FROM feed WHERE lease_owner IS NOT NULL") == 0
    assert len(polls) == seen_by_add + 1


def test_transient_page_failure_is_retried_from_its_own_queue(
    cli: Cli, site: Site, db: Path, daemons: list[Running]
) -> None:
    answers = iter([503, 200])

    def flaky_page(_request: Request) -> Response:
        if next(answers, 200) == 503:
            return Response("busy", status=503)
        page = load_fixture("sensetime.html", site.base)
        return Response(page, content_type="text/html; charset=utf-8")

    site.server.expect_request("/2018/07/sensetime-singapore/").respond_with_handler(flaky_page)
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    seen_by_add = len(site.requests("/feed.rss"))
    start(cli, daemons, INGEST_RETRY_SCHEDULE="1,1")
    page = "/2018/07/sensetime-singapore/"
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM article WHERE extraction = 'full'") == 3,
        what="the retried page's full text",
    )
    assert len(site.requests(page)) == 2  # the 503, then the retry
    assert len(site.requests("/feed.rss")) == seen_by_add  # the feed was not polled again
    rows = query(db, "SELECT retry_count, lease_owner FROM page_queue ORDER BY 1")
    assert rows == [(0, None), (0, None), (1, None)]


def test_feeds_set_interval_overrides_and_auto_clears(cli: Cli, site: Site) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0

    def override() -> object:
        (feed,) = json.loads(cli("feeds", "list", "--format", "json").stdout)
        return feed["interval_override"]

    done = cli("feeds", "set", "1", "--interval", "2h")
    assert done.returncode == 0 and "every 2h" in done.stderr
    assert override() == 7200
    bad = cli("feeds", "set", "1", "--interval", "soon")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a duration" in bad.stderr
    assert cli("feeds", "set", "1", "--interval", "auto").returncode == 0
    assert override() is None
    unknown = cli("feeds", "set", "99", "--interval", "1h")
    assert unknown.returncode == 2 and "no such feed" in unknown.stderr
