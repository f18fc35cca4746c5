"""Several daemons, one PostgreSQL archive: separate `ingest run` processes over a loopback farm
of feeds share the work through leases: every feed once per due period, no page twice, and a
SIGKILLed node's feeds finished by the other once its leases expire."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.store import feeds
from ingest.store.engine import open_archive
from ingest.store.models import Article, Entry, Feed, FetchLog, PageQueue, utcnow
from tests.conftest import Cli
from tests.daemons import FAST, Running, wait_for
from tests.farm import Farm

pytestmark = pytest.mark.postgres

ITEMS = 2
# A feed is due once during a test: the next poll is at least an hour away.
DAEMON_ENV = FAST | {
    "INGEST_BATCH_SIZE": "5",
    "INGEST_PER_HOST_CONCURRENCY": "16",
    "INGEST_MIN_INTERVAL": "3600",
    "INGEST_LEASE_SECONDS": "5",
    "INGEST_WORKERS": "1",
}


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = open_archive(pg_url)
    yield engine
    engine.dispose()


def start(cli: Cli, daemons: list[Running], **env: str) -> Running:
    daemon = Running(cli.popen("run", **(DAEMON_ENV | env)))
    daemons.append(daemon)
    return daemon


def count(engine: Engine, query: sa.Select[tuple[int]]) -> int:
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def full_articles(engine: Engine) -> int:
    return count(
        engine,
        sa.select(sa.func.count()).select_from(Article).where(Article.extraction == "full"),
    )


def subscribe(engine: Engine, farm: Farm) -> None:
    for url in farm.feed_urls():
        feeds.add_feed(engine, url)


def test_two_daemons_fetch_every_feed_once_and_no_page_twice(
    engine: Engine, pg_url: str, tmp_path: Path, daemons: list[Running]
) -> None:
    cli = Cli(tmp_path, pg_url)
    with Farm(feeds=30, items=ITEMS, page_delay=0.05) as farm:
        subscribe(engine, farm)
        first, second = start(cli, daemons), start(cli, daemons)
        total = farm.feeds * ITEMS
        wait_for(lambda: full_articles(engine) == total, 90, "every page archived")
        time.sleep(1)  # a few more ticks of both: nothing is due again
        assert first.stop() == 0, first.log
        assert second.stop() == 0, second.log

        assert [farm.counts[f"/feed/{i}.xml"] for i in range(farm.feeds)] == [1] * farm.feeds
        assert [farm.counts[p] for p in farm.page_paths()] == [1] * total
    assert count(engine, sa.select(sa.func.count()).select_from(Entry)) == total
    with engine.connect() as conn:
        owners = conn.execute(
            sa.select(FetchLog.owner, sa.func.count())
            .where(FetchLog.kind == "feed")
            .group_by(FetchLog.owner)
        ).all()
        leased = conn.execute(sa.select(sa.func.count()).where(Feed.lease_owner.is_not(None)))
        assert leased.scalar_one() == 0
    assert len(owners) == 2, owners  # both nodes did a share of the work
    assert sum(n for _, n in owners) == farm.feeds
    # only one node pruned and analyzed at a time; the other may have skipped
    assert first.said("maintenance") and second.said("maintenance")


def test_sigkilled_daemon_feeds_are_finished_by_the_other_after_lease_expiry(
    engine: Engine, pg_url: str, tmp_path: Path, daemons: list[Running]
) -> None:
    cli = Cli(tmp_path, pg_url)
    with Farm(feeds=12, items=ITEMS) as farm:
        subscribe(engine, farm)
        farm.hold()
        doomed = start(cli, daemons, INGEST_BATCH_SIZE="4")
        wait_for(lambda: farm.held >= 2, 60, "the first daemon's page requests, held")
        doomed.kill()  # SIGKILL mid-update: entries committed, pages in flight under leases
        requested = farm.held  # page requests the killed node had in flight
        with engine.begin() as conn:
            # Make its leases look like those of a node on another machine, which can only
            # expire (a dead process on this host would be detected and released at once).
            remote = {"lease_owner": "daemon:other-host:1:deadbeef"}
            expiry = utcnow() + timedelta(seconds=3)
            for table in (Feed, PageQueue):
                conn.execute(
                    sa.update(table)
                    .where(table.lease_owner.is_not(None))
                    .values(**remote, lease_until=expiry)
                )
            held = conn.execute(
                sa.select(Article.url)
                .join(PageQueue, PageQueue.article_id == Article.id)
                .where(PageQueue.lease_owner.is_not(None))
            ).scalars()
            held_paths = {url.removeprefix(farm.base) for url in held}
        assert len(held_paths) >= 2
        farm.release.set()

        survivor = start(cli, daemons)
        total = farm.feeds * ITEMS
        wait_for(lambda: full_articles(engine) == total, 90, "every page archived by the survivor")
        assert survivor.stop() == 0, survivor.log
        # every feed polled once; the killed node's pages fetched again by the survivor, no other
        assert [farm.counts[f"/feed/{i}.xml"] for i in range(farm.feeds)] == [1] * farm.feeds
        twice = {path for path in farm.page_paths() if farm.counts[path] == 2}
        assert twice <= held_paths and len(twice) == requested
        assert all(farm.counts[path] in (1, 2) for path in farm.page_paths())
    assert count(engine, sa.select(sa.func.count()).select_from(Article)) == total  # no dupes
    assert count(engine, sa.select(sa.func.count()).select_from(Entry)) == total
