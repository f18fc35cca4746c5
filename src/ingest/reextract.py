"""Re-extraction from the archive: run the current extractor over the pages already kept.

No network: every page's raw bytes are in the archive. Use it after upgrading trafilatura or
changing our rules (`--outdated` picks the articles another extractor version produced); a text
that comes out different becomes a new revision (reason `reextract`), the old one is kept.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from ingest.config import Settings
from ingest.extract import EXTRACTOR, prepare_page
from ingest.owner import make_owner
from ingest.pipeline import Pipeline
from ingest.rawarchive import CutShort, page_body
from ingest.store import articles


async def reextract(
    engine: Engine,
    settings: Settings,
    article_ids: Sequence[int] | None = None,
    *,
    outdated: bool = False,
    on_done: Callable[[str], None] | None = None,
) -> Counter[str]:
    """Re-extract the named articles (or all with a kept page); counts of the outcomes:
    `revised`, `unchanged`, `failed`, or `cut_short` (the page is archived only in part:
    WARC-Truncated; never extracted, the article stays as it is)."""
    outcomes: Counter[str] = Counter()
    async with Pipeline(engine, settings, make_owner("reextract")) as pipeline:
        ids = await pipeline.db(
            articles.reextract_candidates,
            engine,
            article_ids,
            outdated_than=EXTRACTOR if outdated else None,
        )
        slots = asyncio.Semaphore(2 * (settings.workers or 2))  # bounded: pages are loaded whole

        async def one(article_id: int) -> None:
            async with slots:
                page = await pipeline.db(articles.stored_page, engine, article_id)
                try:
                    body = await pipeline.db(page_body, pipeline.raw.folder, page) if page else None
                except CutShort:
                    body, outcome = None, "cut_short"
                else:
                    outcome = "failed"
                if page is not None and body is not None:
                    try:
                        text = await pipeline.cpu(
                            settings.extract_timeout,
                            prepare_page,
                            body,
                            page.content_type,
                            page.url,
                        )
                    except Exception:  # timeout or a hostile page: the article stays as it was
                        text = None
                    outcome = await pipeline.db(
                        articles.save_reextraction, engine, article_id, text
                    )
                outcomes[outcome] += 1
                if on_done is not None:
                    on_done(outcome)

        await asyncio.gather(*(one(article_id) for article_id in ids))
    return outcomes
