"""`feeds import`: subscribe to every feed of an OPML file, checked as `feeds add` checks one.

Each new URL is fetched (concurrently, under the usual limits) so an HTML page's feed is
discovered and a dead address is reported; URLs already subscribed are skipped untouched.
The file's title, site link and folders are kept on the feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from ingest.config import Settings
from ingest.errors import IngestError, UsageError
from ingest.identity import check_url
from ingest.opml import Outline
from ingest.store import feeds
from ingest.subscribe import Subscription, subscribe_all


@dataclass
class ImportReport:
    added: list[Subscription] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already subscribed
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


async def import_outlines(
    engine: Engine, settings: Settings, outlines: list[Outline], *, check: bool = True
) -> ImportReport:
    """Subscribe to the outlines' feeds; `check=False` adds them without fetching any."""
    report = ImportReport()
    fresh: list[Outline] = []
    for outline in outlines:
        try:
            outline.url = check_url(outline.url)
        except UsageError as exc:
            report.invalid.append((outline.url, str(exc)))
            continue
        if feeds.find_feed(engine, outline.url) is not None:
            report.skipped.append(outline.url)
        else:
            fresh.append(outline)
    if not check:
        for outline in fresh:
            feed_id, created = feeds.add_feed(engine, outline.url, title=outline.title)
            _keep_details(engine, feed_id, outline, created)
            if created:
                report.added.append(Subscription(feed_id, outline.url, True))
            else:
                report.skipped.append(outline.url)
        return report
    # imported here: the pipeline (aiohttp, pebble, trafilatura) is slow to import
    from ingest.owner import make_owner
    from ingest.pipeline import Pipeline

    async with Pipeline(engine, settings, make_owner("import")) as pipeline:
        outcomes = await subscribe_all(pipeline, [outline.url for outline in fresh])
    for outline, outcome in zip(fresh, outcomes, strict=True):
        if isinstance(outcome, IngestError):
            report.invalid.append((outline.url, str(outcome)))
            continue
        _keep_details(engine, outcome.feed_id, outline, outcome.created)
        if outcome.created:
            report.added.append(outcome)
        else:  # a page whose feed is subscribed already
            report.skipped.append(outline.url)
    report.added.sort(key=lambda s: s.feed_id)
    return report


def _keep_details(engine: Engine, feed_id: int, outline: Outline, created: bool) -> None:
    """The file's title wins over the feed's own (the user may have renamed it)."""
    if not created:
        return
    values: dict[str, object] = {"folders": [list(f) for f in outline.folders]}
    if outline.title:
        values["title"] = outline.title
    if outline.site_url:
        values["site_url"] = outline.site_url
    feeds.update_feed(engine, feed_id, **values)
