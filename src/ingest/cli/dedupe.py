"""`ingest dedupe`: the near-duplicate links, and their re-evaluation with the current rule."""

from __future__ import annotations

from typing import Annotated

import typer

from ingest.cli.output import out


def register(app: typer.Typer) -> None:
    app.command("dedupe")(dedupe)


def dedupe(
    ctx: typer.Context,
    recheck: Annotated[
        bool,
        typer.Option(
            "--recheck",
            help="Rebuild the near-duplicate index and re-evaluate every link with the "
            "current rule (after upgrading; no network).",
        ),
    ] = False,
) -> None:
    """Count the near-duplicate links; with --recheck, repair them: every article is grouped
    again in arrival order and verified against its group's original."""
    from ingest.dedupe import Thresholds
    from ingest.store.relink import link_stats, relink

    engine, settings = ctx.obj.engine, ctx.obj.settings
    if recheck:
        thresholds = Thresholds(
            settings.near_duplicate_similarity, settings.near_duplicate_min_words
        )
        done = relink(engine, thresholds)
        out.print(
            f"re-checked {done.articles} articles: {done.kept} links kept, "
            f"{done.removed} removed, {done.added} added",
            highlight=False,
        )
        return
    stats = link_stats(engine)
    out.print(
        f"{stats.articles} articles: {stats.linked} linked as near-duplicates of "
        f"{stats.groups} originals",
        highlight=False,
    )
    if stats.unindexed:
        out.print(
            f"{stats.unindexed} articles are not in the near-duplicate index yet: "
            "run `ingest dedupe --recheck`",
            highlight=False,
        )
