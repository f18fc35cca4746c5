"""The process pool that runs feedparser and trafilatura: a stuck or dying worker costs only
its own call; the next call runs on a fresh worker (the daemon runs for months)."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pebble import ProcessExpired

from ingest.config import Settings
from ingest.pipeline import Pipeline
from ingest.store import feeds
from ingest.store.engine import open_archive
from tests.conftest import Cli, Site


def test_stuck_and_dead_workers_are_replaced(db_url: str) -> None:
    settings = Settings(db_url=db_url, workers=1)

    async def scenario() -> None:
        async with Pipeline(open_archive(db_url), settings, "test:h:1:x") as pipeline:
            with pytest.raises(TimeoutError):
                await pipeline.cpu(0.5, time.sleep, 60)  # the only worker is stuck…
            # …and was killed: a call queued behind a still-sleeping worker would time out
            assert await pipeline.cpu(10, pow, 2, 10) == 1024
            with pytest.raises(ProcessExpired):
                await pipeline.cpu(30, os._exit, 3)  # a worker that dies (segfault, OOM kill)
            assert await pipeline.cpu(30, pow, 3, 3) == 27

    asyncio.run(scenario())


def _model_loaded() -> bool:
    """In a worker: whether the language model is loaded (before this call asked for it)."""
    langid = sys.modules.get("py3langid.langid")
    return langid is not None and langid.IDENTIFIER is not None


def _models_in_workers(db_url: str, fulltext: bool) -> list[bool]:
    settings = Settings(db_url=db_url, workers=2, fulltext=fulltext)

    async def scenario() -> list[bool]:
        async with Pipeline(open_archive(db_url), settings, "test:h:1:x") as pipeline:
            return [await pipeline.cpu(30, _model_loaded) for _ in range(4)]

    return asyncio.run(scenario())


@pytest.mark.parametrize("fulltext", [True, False])
def test_workers_fork_with_the_extraction_models_loaded_once(db_url: str, fulltext: bool) -> None:
    """The forkserver loads the language model and the extraction stack before it forks the
    workers (ingest.workerpreload), so they share those pages instead of ~75 MB each; a
    feeds-only run does not load them at all. A process has one forkserver, whose preload is
    that of the first pool started: each case runs in a fresh interpreter."""
    code = (
        "from tests.test_workers import _models_in_workers; "
        f"print(_models_in_workers({db_url!r}, {fulltext}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],  # where `tests` is a package
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == str([fulltext] * 4)


def test_a_run_with_nothing_to_parse_starts_no_worker(cli: Cli, site: Site) -> None:
    """Workers start with the first body to parse (pebble starts its pool on first use): a
    re-poll that gets only 304s never starts the forkserver, whose preload (the extraction
    stack, the language model) would take a core from the run. Seen in Python's import log,
    which the forkserver writes to the same stderr."""
    site.server.expect_request("/feed.rss", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    site.serve("/feed.rss", "feed.rss", "application/rss+xml", ETag='"v1"')
    first = cli("feeds", "add", site.url("/feed.rss"), PYTHONPROFILEIMPORTTIME="1")  # parsed
    again = cli("fetch", "--no-fulltext", PYTHONPROFILEIMPORTTIME="1")
    assert first.returncode == again.returncode == 0
    assert "not_modified" in again.stdout
    assert "ingest.workerpreload" in first.stderr
    assert "ingest.workerpreload" not in again.stderr


def test_a_feeds_only_run_loads_no_extraction_stack(cli: Cli, site: Site, db_url: str) -> None:
    """`fetch --no-fulltext` preloads the parsing stack only: the extraction stack and its
    language model cost ~1.3 s of CPU that its first parse would wait for. Seen in Python's
    import log of every process of the run."""
    site.serve("/feed.rss", "feed.rss", "application/rss+xml")
    feeds.add_feed(open_archive(db_url), site.url("/feed.rss"))
    done = cli("fetch", "--no-fulltext", PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0, done.stderr
    assert "ingest.parsepreload" in done.stderr
    assert "ingest.workerpreload" not in done.stderr
    assert "trafilatura" not in done.stderr


def test_workers_keep_the_preloaded_objects_out_of_their_collections(db_url: str) -> None:
    """The forkserver freezes what it preloaded (gc.freeze): a worker's collections would
    otherwise write to every shared object and turn its pages into private copies (measured:
    78 -> 66 MB private per worker, benchmarks/run.py)."""
    settings = Settings(db_url=db_url, workers=1)

    async def scenario() -> int:
        async with Pipeline(open_archive(db_url), settings, "test:h:1:x") as pipeline:
            return await pipeline.cpu(30, gc.get_freeze_count)

    assert asyncio.run(scenario()) > 0  # 0 unless something was frozen
