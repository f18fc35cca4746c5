"""The archive layer on a real SQLite file: schema, migrations, leases, blobs."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from ingest.store import feeds, listing
from ingest.store.blobs import get_blob, put_blob
from ingest.store.engine import open_archive
from ingest.store.models import Article, Blob, Entry, Feed, FeedAlias, SQLModel
from ingest.store.rowupdate import update_row
from ingest.store.search import is_index_object
from tests.oldschema import archive_at


@pytest.fixture
def engine(db_url: str) -> Engine:
    return open_archive(db_url)


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": is_index_object})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_busy_timeout(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_reopening_is_idempotent(db_url: str) -> None:
    open_archive(db_url)
    engine = open_archive(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0011"


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    when = datetime(2018, 7, 2, 10, 0, tzinfo=UTC)
    feed_id, _ = feeds.add_feed(engine, "http://example.org/feed")
    feeds.update_feed(engine, feed_id, next_fetch_at=when)
    [feed] = feeds.list_feeds(engine)
    assert feed.next_fetch_at == when and feed.next_fetch_at.tzinfo is not None
    with pytest.raises(sa.exc.StatementError):
        feeds.update_feed(engine, feed_id, next_fetch_at=datetime(2018, 7, 2))  # naive: refused


def test_a_bulk_insert_binds_each_row_its_own_timestamp(engine: Engine) -> None:
    """The timestamp binding remembers its last value (a bulk insert repeats `now`): rows
    alternating between two instants, one of them given in another zone, keep their own."""
    paris = timezone(timedelta(hours=2))
    first = datetime(2018, 7, 2, 10, 0, tzinfo=UTC)
    second = datetime(2018, 7, 2, 14, 30, tzinfo=paris)  # 12:30 UTC
    order = [first, first, second, first, second, second]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Feed.__table__),
            [
                {"url": f"http://example.org/{n}", "created_at": when, "next_fetch_at": when}
                for n, when in enumerate(order)
            ],
        )
    stored = [
        (f.created_at, f.next_fetch_at)
        for f in sorted(feeds.list_feeds(engine), key=lambda f: f.id)
    ]
    assert stored == [(when, when) for when in order]
    assert stored[2][0].hour == 12 and stored[2][0].tzinfo == UTC


def test_update_row_sets_only_the_columns_it_is_given(engine: Engine) -> None:
    """One statement serves every caller, its SET clause taken from each call's keys: a call
    naming other columns must not reuse another call's clause (nor touch a missing row)."""
    first, _ = feeds.add_feed(engine, "http://example.org/a", title="A")
    second, _ = feeds.add_feed(engine, "http://example.org/b", title="B")
    with engine.begin() as conn:
        assert update_row(conn, Feed, first, {"title": "A2"}) == 1
        assert update_row(conn, Feed, second, {"error_count": 3, "error_class": "http_5xx"}) == 1
        assert update_row(conn, Feed, 10**6, {"title": "nobody"}) == 0
    rows = {f.id: (f.title, f.error_count, f.error_class) for f in feeds.list_feeds(engine)}
    assert rows == {first: ("A2", 0, None), second: ("B", 3, "http_5xx")}


def test_blobs_are_content_addressed_and_compressed(engine: Engine) -> None:
    data = b"<html>" + b"x" * 10_000 + b"</html>"
    with engine.begin() as conn:
        first, second = put_blob(conn, data), put_blob(conn, data)
        assert first == second
        assert conn.execute(sa.select(sa.func.count()).select_from(Blob)).scalar() == 1
        stored = conn.execute(sa.select(Blob.data)).scalar()
        assert len(stored) < len(data) / 10
        assert get_blob(conn, first) == data


def test_a_claimed_feed_is_not_claimed_again_until_released(engine: Engine) -> None:
    feed_id, _ = feeds.add_feed(engine, "http://example.org/feed")
    lease = timedelta(minutes=5)
    [state] = feeds.claim_feeds(engine, "a:h:1:x", lease=lease, limit=10, due_only=False)
    assert state.id == feed_id
    assert feeds.claim_feeds(engine, "b:h:2:y", lease=lease, limit=10, due_only=False) == []
    # completion is fenced by the owner: b cannot complete a's feed
    with engine.begin() as conn:
        assert not feeds.complete_feed(conn, "b:h:2:y", feed_id, {"title": "b"})
        assert feeds.complete_feed(conn, "a:h:1:x", feed_id, {"title": "a"})
    assert [
        s.id for s in feeds.claim_feeds(engine, "b:h:2:y", lease=lease, limit=10, due_only=False)
    ] == [feed_id]


def test_an_expired_lease_can_be_taken_over(engine: Engine) -> None:
    feeds.add_feed(engine, "http://example.org/feed")
    past = datetime.now(UTC) - timedelta(hours=1)
    feeds.claim_feeds(
        engine, "a:h:1:x", lease=timedelta(minutes=5), limit=10, due_only=False, now=past
    )
    assert (
        len(
            feeds.claim_feeds(
                engine, "b:h:2:y", lease=timedelta(minutes=5), limit=10, due_only=False
            )
        )
        == 1
    )


def test_lease_of_a_dead_local_process_is_released(engine: Engine) -> None:
    import socket

    feeds.add_feed(engine, "http://example.org/feed")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    owner = f"fetch:{socket.gethostname()}:{dead.stdout.strip()}:abcd1234"
    feeds.claim_feeds(engine, owner, lease=timedelta(hours=1), limit=10, due_only=False)
    assert (
        len(
            feeds.claim_feeds(
                engine, "b:h:2:y", lease=timedelta(minutes=5), limit=10, due_only=False
            )
        )
        == 1
    )


def test_only_due_feeds_are_claimed_by_a_tick(engine: Engine) -> None:
    due, _ = feeds.add_feed(engine, "http://example.org/due")
    later, _ = feeds.add_feed(engine, "http://example.org/later")
    feeds.update_feed(engine, later, next_fetch_at=datetime.now(UTC) + timedelta(hours=1))
    claimed = feeds.claim_feeds(engine, "a:h:1:x", lease=timedelta(minutes=5), limit=10)
    assert [s.id for s in claimed] == [due]


def test_feed_alias_resolves_to_the_feed(engine: Engine) -> None:
    feed_id, _ = feeds.add_feed(engine, "http://old.example.org/feed")
    [state] = feeds.claim_feeds(
        engine, "a:h:1:x", lease=timedelta(minutes=5), limit=1, due_only=False
    )
    # a worker that lost the lease moves nothing
    with engine.begin() as conn:
        assert not feeds.complete_feed(conn, "b:h:2:y", state.id, {"url": "http://evil.example/"})
        new_url = {"url": "http://new.example.org/feed"}
        assert feeds.complete_feed(conn, "a:h:1:x", state.id, new_url)
    assert feeds.resolve_feed(engine, "http://old.example.org/feed") == feed_id
    assert feeds.add_feed(engine, "http://old.example.org/feed") == (feed_id, False)
    with engine.connect() as conn:
        assert conn.execute(sa.select(Feed.url)).scalar() == "http://new.example.org/feed"
        assert conn.execute(sa.select(FeedAlias.url)).scalars().all() == [
            "http://old.example.org/feed"
        ]


def test_merging_an_article_keeps_links_to_it_valid(engine: Engine) -> None:
    """A retried page whose rel=canonical names an archived article merges into it; articles
    linked to the merged one as near-duplicates follow (foreign keys are enforced)."""
    from ingest.identity import content_hash
    from ingest.records import Extracted, FetchResult
    from ingest.store.articles import save_page
    from ingest.store.models import Article, Entry
    from ingest.update.prepare import page_text

    with engine.begin() as conn:
        target = conn.execute(
            sa.insert(Article).values(
                url="c",
                canonical_url="c",
                text="t2",
                content_hash=content_hash("t2"),
                extraction="full",
            )
        ).inserted_primary_key[0]
        merged = conn.execute(
            sa.insert(Article).values(
                url="a", canonical_url="a", text="feed text", extraction="feed"
            )
        ).inserted_primary_key[0]
        linked = conn.execute(
            sa.insert(Article).values(url="b", canonical_url="b", text="x", duplicate_of=merged)
        ).inserted_primary_key[0]
        feed_id = conn.execute(sa.insert(Feed).values(url="f")).inserted_primary_key[0]
        conn.execute(sa.insert(Entry).values(feed_id=feed_id, key="k", article_id=merged))
    page = FetchResult("a", "a", 200, {"content-type": "text/html"}, b"<html></html>")
    text = page_text(Extracted(text="t2", canonical_url="c"))
    assert save_page(engine, merged, page, text, None) == target
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.select(Article.id, Article.duplicate_of)).all())
        assert rows == {target: None, linked: target}
        assert conn.execute(sa.select(Entry.article_id)).scalar() == target


def test_claiming_a_long_list_of_feeds(engine: Engine) -> None:
    """More ids than SQLite takes in one statement (32,766 bound parameters)."""
    with engine.begin() as conn:
        conn.execute(sa.insert(Feed), [{"url": f"http://h/{n}"} for n in range(40_000)])
    ids = list(range(1, 40_001))
    claimed = feeds.claim_feeds(
        engine, "a:h:1:x", lease=timedelta(minutes=5), limit=10**6, feed_ids=ids, due_only=False
    )
    assert len(claimed) == 40_000


@pytest.mark.postgres
def test_migrations_create_exactly_the_models_on_postgresql(pg_url: str) -> None:
    with open_archive(pg_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": is_index_object})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_opening_a_current_archive_is_one_read_that_never_waits_for_writers(db_url: str) -> None:
    """The schema check at open takes no write lock (a daemon may hold it for a while) and
    imports no Alembic when there is nothing to migrate."""
    open_archive(db_url)
    writer = open_archive(db_url)
    with writer.begin() as conn:  # BEGIN IMMEDIATE: the write lock, held
        conn.exec_driver_sql("UPDATE feed SET title = title")
        probe = (
            "import sys; from ingest.store.engine import open_archive; "
            f"open_archive({db_url!r}); print('alembic' in sys.modules)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=20
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_pipelines_reads_never_wait_for_another_writer(engine: Engine) -> None:
    """A run reads its pages' URLs, a feed's pending pages and a page's validators on its
    writer thread: while another process holds SQLite's write lock (a daemon's big feed), those
    reads answer at once from the last commit, not after the busy timeout (30 s)."""
    from ingest.records import ParsedEntry
    from ingest.store import articles, entries

    feed_id, _ = feeds.add_feed(engine, "http://example.org/feed.xml")
    item = ParsedEntry(guid="a", link="http://example.org/a", title="A", summary="<p>a</p>")
    with engine.begin() as conn:
        [article_id] = entries.record(conn, feed_id, [item], fulltext=True).pending
    other = open_archive(str(engine.url))
    reads = {
        "article_url": lambda: articles.article_url(engine, article_id),
        "recheck_validators": lambda: articles.recheck_validators(engine, article_id)[0],
        "pending_articles": lambda: entries.pending_articles(engine, feed_id),
    }
    with other.begin() as held, ThreadPoolExecutor(1) as pool:  # BEGIN IMMEDIATE: the lock
        held.exec_driver_sql("UPDATE article SET url = 'http://example.org/moved'")
        answers = {name: pool.submit(read).result(timeout=5) for name, read in reads.items()}
    assert answers == {
        "article_url": "http://example.org/a",
        "recheck_validators": "http://example.org/a",
        "pending_articles": [article_id],
    }


def test_upgrading_an_0009_archive_moves_page_work_to_the_queue_table(db_url: str) -> None:
    """Schema 0010: due times, attempts and leases leave the article rows for `page_queue`,
    each article keeping its values; claims then work on the upgraded archive."""
    from ingest.store import queue
    from ingest.store.models import PageQueue

    old = archive_at(db_url, "0009")
    due = datetime(2026, 1, 1, tzinfo=UTC)
    with old.begin() as conn:
        article = sa.Table("article", sa.MetaData(), autoload_with=conn)
        base = {"text": "", "categories": [], "revision_count": 1, "word_count": 0}
        stamp = {"created_at": due.replace(tzinfo=None), "updated_at": due.replace(tzinfo=None)}
        queued = [  # (url, extraction, next_check_at, retry_count, check_count, lease_owner)
            ("u1", "pending", stamp["created_at"], 2, 0, None),
            ("u2", "full", None, 0, 5, "daemon:h:1:x"),
        ]
        for url, extraction, next_check_at, retries, checks, holder in queued:
            conn.execute(
                sa.insert(article).values(
                    **base,
                    **stamp,
                    url=url,
                    extraction=extraction,
                    next_check_at=next_check_at,
                    retry_count=retries,
                    check_count=checks,
                    lease_owner=holder,
                    lease_until=stamp["created_at"] if holder else None,
                )
            )
    old.dispose()
    engine = open_archive(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                PageQueue.article_id,
                PageQueue.due_at,
                PageQueue.retry_count,
                PageQueue.check_count,
                PageQueue.lease_owner,
            ).order_by(PageQueue.article_id)
        ).all()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("article")}
    assert rows == [(1, due, 2, 0, None), (2, None, 0, 5, "daemon:h:1:x")]
    assert not columns & {"next_check_at", "lease_owner", "lease_until", "retry_count"}
    claimed = queue.claim_due_articles(engine, "me", lease=timedelta(minutes=5), limit=10)
    assert [a.id for a in claimed] == [1]  # due, and its lease (expired in 2026-01) is free


def test_upgrading_an_0010_archive_keeps_its_raw_responses_without_record_ids(
    db_url: str,
) -> None:
    """Schema 0011 adds each raw response's WARC-Record-ID and WARC-Truncated; rows archived
    before stay, with neither (their records are read when a revisit needs them)."""
    from ingest.store.raw import find_original

    old = archive_at(db_url, "0010")
    with old.begin() as conn:
        raw = sa.Table("raw_response", sa.MetaData(), autoload_with=conn)
        conn.execute(
            sa.insert(raw).values(
                warc_file="a.warc.gz",
                offset=0,
                length=10,
                payload_digest="sha1:X",
                record_type="response",
                uri="http://example.org/",
                status=200,
                fetched_at=datetime(2026, 1, 1),
            )
        )
    old.dispose()
    engine = open_archive(db_url)
    with engine.connect() as conn:
        earlier = find_original(conn, "sha1:X")
    assert earlier is not None
    assert (earlier.warc_file, earlier.record_id, earlier.truncated) == ("a.warc.gz", None, None)


def _feed_pages(engine: Engine, feed_id: int, limit: int) -> list[list[str]]:
    pages, before = [], None
    while page := listing.feed_articles(engine, feed_id, before=before, limit=limit):
        pages.append([row["title"] for row in page])
        before = page[-1]["entry_id"]
    return pages


def _check_feed_keyset(engine: Engine) -> None:
    """Two polls of three entries (each poll's entries first seen together): pages of two
    follow the feed's order, newest poll first, the later entry first within a poll."""
    feed_id, _ = feeds.add_feed(engine, "http://example.org/feed")
    polls = (datetime(2018, 7, 1, tzinfo=UTC), datetime(2018, 7, 2, tzinfo=UTC))
    with engine.begin() as conn:
        for poll, seen in enumerate(polls):
            for item in range(3):
                name = f"poll{poll}-item{item}"
                article = conn.execute(sa.insert(Article).values(title=name)).inserted_primary_key
                conn.execute(
                    sa.insert(Entry).values(
                        feed_id=feed_id, key=name, article_id=article[0], first_seen=seen
                    )
                )
    expected = [f"poll{poll}-item{item}" for poll in (1, 0) for item in (2, 1, 0)]
    assert [title for page in _feed_pages(engine, feed_id, 6) for title in page] == expected
    assert _feed_pages(engine, feed_id, 2) == [expected[0:2], expected[2:4], expected[4:6]]


def test_a_feeds_articles_are_keyset_paged_in_the_feeds_order(engine: Engine) -> None:
    _check_feed_keyset(engine)


@pytest.mark.postgres
def test_a_feeds_articles_are_keyset_paged_on_postgresql(pg_url: str) -> None:
    _check_feed_keyset(open_archive(pg_url))


def _check_state_reads(engine: Engine) -> None:
    """`load_state` finds what a new item may join through each of its reads: an article by its
    canonical link, a link-less story by its text, a link-less teaser by its text and title
    (and not a teaser with the same text under another title)."""
    from ingest.records import ParsedEntry
    from ingest.store.entries import record

    story = "<p>" + " ".join(f"word{n}" for n in range(120)) + "</p>"
    items = [
        ParsedEntry(guid="a", link="http://example.org/a", title="Linked", summary="<p>x</p>"),
        ParsedEntry(guid="s", link=None, title="Story", summary=story),
        ParsedEntry(guid="t", link=None, title="Weekly notes", summary="<p>Read more</p>"),
    ]
    other = ParsedEntry(guid="u", link=None, title="Other notes", summary="<p>Read more</p>")
    first, _ = feeds.add_feed(engine, "http://example.org/one")
    second, _ = feeds.add_feed(engine, "http://example.org/two")
    with engine.begin() as conn:
        record(conn, first, items, fulltext=False)
    with engine.begin() as conn:
        record(conn, second, [*items, other], fulltext=False)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Entry.feed_id, Entry.key, Entry.article_id)).all()
    articles: dict[str, set[int]] = {}
    for _, key, article in rows:
        articles.setdefault(key, set()).add(article)
    shared = [ids for key, ids in articles.items() if sum(k == key for _, k, _ in rows) == 2]
    [alone] = [ids for key, ids in articles.items() if sum(k == key for _, k, _ in rows) == 1]
    assert [len(ids) for ids in shared] == [1, 1, 1]  # both feeds' entries: one article each
    assert not alone & set().union(*shared)  # the same teaser under another title: its own


def test_a_new_item_joins_what_load_state_finds(engine: Engine) -> None:
    _check_state_reads(engine)


def test_a_new_item_joins_what_load_state_finds_on_postgresql(pg_url: str) -> None:
    _check_state_reads(open_archive(pg_url))
