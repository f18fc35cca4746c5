"""The process pool that runs feedparser and trafilatura: a stuck or dying worker costs only
its own call; the next call runs on a fresh worker (the daemon runs for months)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time

import pytest
from pebble import ProcessExpired

from ingest.config import Settings
from ingest.pipeline import Pipeline
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


def test_workers_fork_with_the_extraction_models_loaded_once(db_url: str) -> None:
    """The forkserver loads the language model and the extraction stack before it forks the
    workers (ingest.workerpreload), so they share those pages instead of ~75 MB each."""
    settings = Settings(db_url=db_url, workers=2)

    async def scenario() -> list[bool]:
        async with Pipeline(open_archive(db_url), settings, "test:h:1:x") as pipeline:
            return [await pipeline.cpu(30, _model_loaded) for _ in range(4)]

    assert asyncio.run(scenario()) == [True] * 4


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


def test_workers_keep_the_preloaded_objects_out_of_their_collections(db_url: str) -> None:
    """The forkserver freezes what it preloaded (gc.freeze): a worker's collections would
    otherwise write to every shared object and turn its pages into private copies (measured:
    78 -> 66 MB private per worker, benchmarks/run.py)."""
    settings = Settings(db_url=db_url, workers=1)

    async def scenario() -> int:
        async with Pipeline(open_archive(db_url), settings, "test:h:1:x") as pipeline:
            return await pipeline.cpu(30, gc.get_freeze_count)

    assert asyncio.run(scenario()) > 0  # 0 unless something was frozen
