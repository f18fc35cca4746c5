"""The store pieces the daemon stands on, against real SQLite files and a real PostgreSQL:
the writer lock, lease renewal, article leases, singleton maintenance, the status overview."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.owner import is_dead_local, make_owner
from ingest.records import FetchResult
from ingest.store import articles, feeds, fetchlog, nodes, queue
from ingest.store.engine import open_archive
from ingest.store.maintenance import MAINTENANCE_LOCK, run_maintenance
from ingest.store.models import Article, Feed, FetchLog, PageQueue, utcnow
from ingest.store.writerlock import ArchiveBusyError, WriterLock

LEASE = timedelta(minutes=10)


@pytest.fixture
def engine(db_url: str) -> Engine:
    return open_archive(db_url)


def test_writer_lock_allows_one_daemon_per_sqlite_file(db_url: str, tmp_path: Path) -> None:
    first, second = WriterLock(db_url), WriterLock(db_url)
    first.acquire()
    with pytest.raises(ArchiveBusyError, match="another daemon"):
        second.acquire()
    first.release()
    second.acquire()  # freed with its holder
    second.release()
    WriterLock("postgresql+psycopg://u@127.0.0.1/db").acquire()  # no file lock on PostgreSQL


def test_renew_extends_only_the_owners_leases(engine: Engine) -> None:
    a, _ = feeds.add_feed(engine, "http://127.0.0.1:1/a.xml")
    b, _ = feeds.add_feed(engine, "http://127.0.0.1:1/b.xml")
    feeds.claim_feeds(engine, "me", lease=LEASE, limit=1, feed_ids=[a])
    feeds.claim_feeds(engine, "other", lease=LEASE, limit=1, feed_ids=[b])
    later = utcnow() + timedelta(hours=5)
    assert feeds.renew_leases(engine, "me", later) == 1
    held = {f.id: f.lease_until for f in feeds.list_feeds(engine)}
    assert held[a] is not None and held[a] > utcnow() + timedelta(hours=4)
    assert held[b] is not None and held[b] < utcnow() + timedelta(hours=1)


def test_renew_extends_the_owners_article_leases_too(engine: Engine) -> None:
    mine, theirs = _pending_article(engine, "a"), _pending_article(engine, "b")
    assert queue.lease_articles(engine, "me", [mine], lease=LEASE) == [mine]
    assert queue.lease_articles(engine, "other", [theirs], lease=LEASE) == [theirs]
    assert feeds.renew_leases(engine, "me", utcnow() + timedelta(hours=5)) == 1
    with engine.connect() as conn:
        until = dict(conn.execute(sa.select(PageQueue.article_id, PageQueue.lease_until)).all())
    assert until[mine] > utcnow() + timedelta(hours=4) > until[theirs]


def _pending_article(engine: Engine, url: str) -> int:
    with engine.begin() as conn:
        article_id = conn.execute(
            sa.insert(Article)
            .values(url=url, canonical_url=url, extraction="pending")
            .returning(Article.id)
        ).scalar_one()
        conn.execute(sa.insert(PageQueue).values(article_id=article_id))  # as the store does
        return article_id


def test_article_leases_are_exclusive_and_expire_into_the_queue(engine: Engine) -> None:
    ids = [_pending_article(engine, f"http://127.0.0.1:1/p{i}") for i in range(3)]
    assert queue.lease_articles(engine, "me", ids[:2], lease=LEASE) == ids[:2]
    assert queue.lease_articles(engine, "other", ids, lease=LEASE) == ids[2:]
    # nothing due while leased; a lease that ran out hands the page to the retry queue
    assert queue.claim_due_articles(engine, "third", lease=LEASE, limit=10) == []
    later = utcnow() + LEASE + timedelta(seconds=1)
    due = queue.claim_due_articles(engine, "third", lease=LEASE, limit=10, now=later)
    assert [a.id for a in due] == ids
    assert queue.release_articles(engine, "third") == 3


def test_overview_counts_due_leased_failing_gone(engine: Engine) -> None:
    ids = [feeds.add_feed(engine, f"http://127.0.0.1:1/{i}.xml")[0] for i in range(5)]
    now = utcnow()
    feeds.update_feed(engine, ids[0], next_fetch_at=now + timedelta(hours=1))
    feeds.update_feed(engine, ids[1], failing_since=now, error_class="network")
    feeds.update_feed(engine, ids[2], gone_at=now)
    feeds.claim_feeds(engine, "me", lease=LEASE, limit=1, feed_ids=[ids[3]])
    view = nodes.overview(engine)
    assert (view.feeds, view.due, view.leased, view.failing, view.gone) == (5, 2, 1, 1, 1)
    assert view.oldest_due is None  # never-fetched feeds are due with no date


def _old_log_row(engine: Engine) -> None:
    with engine.begin() as conn:
        fetchlog.log_fetch(conn, "feed", FetchResult("http://x/", "http://x/", 200))
        conn.execute(sa.update(FetchLog).values(at=utcnow() - timedelta(days=40)))


def test_maintenance_prunes_the_fetch_log_on_sqlite(engine: Engine) -> None:
    _old_log_row(engine)
    report = run_maintenance(engine, 30)
    assert report is not None and report.pruned == 1


def test_maintenance_merges_the_search_index_segments(engine: Engine) -> None:
    for n in range(5):  # one FTS5 segment per write transaction
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Article).values(url=f"u{n}", canonical_url=f"u{n}", text=f"w{n}")
            )

    def segments() -> int:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM article_fts_idx").scalar() or 0

    before = segments()
    run_maintenance(engine, 30)
    assert segments() < before


@pytest.mark.postgres
def test_maintenance_runs_on_one_postgres_node_at_a_time(pg_url: str) -> None:
    engine = open_archive(pg_url)
    _old_log_row(engine)
    with engine.connect() as other_node:
        other_node.exec_driver_sql(f"SELECT pg_advisory_lock({MAINTENANCE_LOCK})")
        assert run_maintenance(engine, 30) is None  # skipped, not waiting
        other_node.exec_driver_sql(f"SELECT pg_advisory_unlock({MAINTENANCE_LOCK})")
        other_node.commit()
    report = run_maintenance(engine, 30)
    assert report is not None and report.pruned == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Feed)).scalar_one() == 0
    engine.dispose()


def test_a_page_result_is_dropped_when_its_lease_was_taken_over(engine: Engine) -> None:
    """A worker that stalled past its lease must not overwrite what the new holder writes."""
    from ingest.records import Extracted
    from ingest.update.prepare import page_text

    article = _pending_article(engine, "u")
    assert queue.lease_articles(engine, "new", [article], lease=LEASE) == [article]
    page = FetchResult("u", "u", 200, {"content-type": "text/html"}, b"<html></html>")
    late = Extracted(text="stale text from the stalled worker")
    articles.save_page(engine, article, page, page_text(late), None, owner="stalled")
    with engine.connect() as conn:
        row = conn.execute(sa.select(Article.text, Article.extraction)).one()
    assert (row.text, row.extraction) == ("", "pending")
    fresh = page_text(Extracted(text="fresh"))
    articles.save_page(engine, article, page, fresh, None, owner="new")
    with engine.connect() as conn:
        assert conn.execute(sa.select(Article.text)).scalar() == "fresh"


def _local_owner(pid: int, start: int | None = None) -> str:
    started = "" if start is None else f"{start}:"
    return f"daemon:{socket.gethostname()}:{pid}:{started}abcd1234"


def test_due_pages_held_by_a_dead_local_process_are_claimed_at_once(engine: Engine) -> None:
    """A daemon restarted after kill -9 must not wait for its predecessor's page leases."""
    ids = [_pending_article(engine, f"http://127.0.0.1:1/p{i}") for i in range(2)]
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = _local_owner(int(gone.stdout))
    assert queue.lease_articles(engine, dead, ids, lease=LEASE) == ids
    due = queue.claim_due_articles(engine, "daemon:other:1:x", lease=LEASE, limit=10)
    assert [a.id for a in due] == ids


def test_a_zombie_lease_holder_counts_as_dead(engine: Engine) -> None:
    """Killed but not reaped (our child, never waited for): `kill(pid, 0)` still succeeds."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child.kill()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        feed, _ = feeds.add_feed(engine, "http://127.0.0.1:1/z.xml")
        feeds.claim_feeds(engine, _local_owner(child.pid), lease=LEASE, limit=1, due_only=False)
        taken = feeds.claim_feeds(engine, "fetch:h:2:y", lease=LEASE, limit=1, due_only=False)
        assert [s.id for s in taken] == [feed]
    finally:
        child.wait()


def test_a_reused_pid_is_not_taken_for_the_holder() -> None:
    me = make_owner("fetch")
    assert not is_dead_local(me)
    start = int(me.split(":")[3])
    assert is_dead_local(_local_owner(os.getpid(), start + 1))  # same PID, another process
    assert not is_dead_local(_local_owner(os.getpid()))  # older ids: the PID alone
    assert not is_dead_local("daemon:another-host:1:1:abcd1234")  # only expiry frees those


def test_a_feed_added_for_its_first_poll_is_not_claimed_by_a_daemon_meanwhile(
    engine: Engine,
) -> None:
    """`feeds add` stores the feed leased to itself, then polls it with the body it fetched:
    nobody claims it in between (it would be fetched twice), not even a fetch of every feed;
    and when that poll is cut short (its lease given back), it is not due before its time."""
    until = utcnow() + LEASE
    adder = "add:another-host:1:1:abcd1234"
    feed_id, created = feeds.add_feed(
        engine, "http://h/f", due_at=until, holder=adder, lease_until=until
    )
    assert created
    assert feeds.claim_feeds(engine, "daemon", lease=LEASE, limit=10, due_only=False) == []
    assert feeds.add_feed(engine, "http://h/f", holder="other", lease_until=until) == (
        feed_id,
        False,
    )
    assert feeds.claim_feeds(engine, "daemon", lease=LEASE, limit=10, due_only=False) == []
    assert feeds.release_leases(engine, adder) == 1
    assert feeds.claim_feeds(engine, "daemon", lease=LEASE, limit=10) == []
    [state] = feeds.claim_feeds(engine, "daemon", lease=LEASE, limit=1, due_only=False)
    assert state.id == feed_id
