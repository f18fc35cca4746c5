"""`ingest search`: full-text search over the archive."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from ingest.cli.output import Format, err, print_json, print_table
from ingest.errors import UsageError
from ingest.store import feeds
from ingest.store.search import search as run_search


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since wants an ISO date like 2018-07-01, not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def search(
    ctx: typer.Context,
    words: Annotated[
        list[str], typer.Argument(help="Words that must all occur (word* for prefixes).")
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    feed: Annotated[
        str | None, typer.Option("--feed", help="Only articles of this feed (ID or URL).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Published on or after (ISO date).")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Search article titles and texts, best matches first."""
    engine = ctx.obj.engine
    feed_id = feeds.resolve_feed(engine, feed) if feed else None
    hits = run_search(engine, " ".join(words), limit=limit, feed_id=feed_id, since=_since(since))
    if format is Format.json:
        print_json([asdict(hit) for hit in hits])
        return
    rows = [(h.id, h.published and f"{h.published:%Y-%m-%d}", h.title, h.snippet) for h in hits]
    print_table(None, ["id", "published", "title", "match"], rows)
    if not hits:
        err.print("no matches")
