"""`ingest search`: full-text search over the archive."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ingest.cli.filters import (
    FeedOption,
    LangOption,
    SinceOption,
    SiteOption,
    UntilOption,
    WithDuplicatesOption,
    article_filter,
)
from ingest.cli.output import Format, err, print_json, print_table
from ingest.store.search import search as run_search


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    ctx: typer.Context,
    words: Annotated[
        list[str], typer.Argument(help="Words that must all occur (word* for prefixes).")
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    feed: FeedOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    lang: LangOption = None,
    site: SiteOption = None,
    with_duplicates: WithDuplicatesOption = False,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Search article titles and texts, best matches first."""
    engine = ctx.obj.reader
    keep = article_filter(
        engine,
        feed=feed,
        since=since,
        until=until,
        lang=lang,
        site=site,
        with_duplicates=with_duplicates,
    )
    hits = run_search(engine, " ".join(words), limit=limit, keep=keep)
    if format is Format.json:
        print_json([asdict(hit) for hit in hits])
        return
    rows = [(h.id, h.published and f"{h.published:%Y-%m-%d}", h.title, h.snippet) for h in hits]
    print_table(None, ["id", "published", "title", "match"], rows)
    if not hits:
        err.print("no matches")
