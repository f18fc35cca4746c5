"""`ingest fetch` beside a running daemon: a feed the daemon polled moments ago is skipped, not
requested a second time (issue 13); feeds named on the command line are always fetched."""

from __future__ import annotations

from ingest.records import FetchResult
from ingest.store import feeds, fetchlog
from ingest.store.engine import open_archive
from tests.conftest import Cli, Site


def test_a_feed_a_daemon_just_polled_is_not_requested_again(cli: Cli, site: Site) -> None:
    site.serve_all()
    polled, other = site.url("/feed.rss"), site.url("/feed.atom")
    engine = open_archive(cli.db_url)
    polled_id, _ = feeds.add_feed(engine, polled)
    feeds.add_feed(engine, other)
    result = FetchResult(polled, polled, 304)
    with engine.begin() as conn:
        fetchlog.log_fetch(conn, "feed", result, feed_id=polled_id, owner="daemon:h:1:2:abcd")
    done = cli("fetch", "--no-fulltext")
    assert done.returncode == 0, done.stderr
    assert "a running daemon polled it moments ago" in done.stderr
    assert (len(site.requests("/feed.rss")), len(site.requests("/feed.atom"))) == (0, 1)
    assert cli("fetch", "--no-fulltext", polled).returncode == 0  # named: fetched
    assert len(site.requests("/feed.rss")) == 1
