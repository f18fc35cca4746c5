"""`ingest reextract`: extract the archived pages again, without the network."""

from __future__ import annotations

from typing import Annotated

import typer

from ingest.cli.output import message


def register(app: typer.Typer) -> None:
    app.command("reextract")(reextract)


def reextract(
    ctx: typer.Context,
    article_ids: Annotated[
        list[int] | None, typer.Argument(help="Article IDs (default: all).")
    ] = None,
    outdated: Annotated[
        bool,
        typer.Option("--outdated", help="Only articles extracted by another extractor version."),
    ] = False,
) -> None:
    """Run the current extractor over the archived pages again (after an upgrade): no page is
    fetched; a changed text becomes a new revision. Exit 1 when some could not be extracted."""
    import asyncio

    from ingest.reextract import reextract as run_reextract
    from ingest.store.queries import require_articles

    if article_ids:
        require_articles(ctx.obj.engine, article_ids)

    outcomes = asyncio.run(
        run_reextract(ctx.obj.engine, ctx.obj.settings, article_ids or None, outdated=outdated)
    )
    total = sum(outcomes.values()) - outcomes["cut_short"]
    cut = outcomes["cut_short"]
    message(
        f"re-extracted {total} articles: {outcomes['revised']} revised, "
        f"{outcomes['unchanged']} unchanged, {outcomes['failed']} failed"
        + (f"; {cut} not re-extractable (page archived cut short, WARC-Truncated)" if cut else "")
    )
    if outcomes["failed"]:
        raise typer.Exit(1)
