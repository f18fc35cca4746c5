"""`ingest search`: full-text search over the archive (syntax: store/query.py, README)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperCommand

from ingest.cli.filters import (
    FeedOption,
    LangOption,
    SinceOption,
    SiteOption,
    UntilOption,
    WithDuplicatesOption,
    article_filter,
)
from ingest.cli.output import Format, message, print_json, print_table

if TYPE_CHECKING:
    from ingest.highlight import Span
    from ingest.store.search import Hit

MATCH_STYLE = "bold reverse"


class QueryCommand(TyperCommand):
    """`ingest search turbine -offshore`: a `-word` that is not one of the command's options is
    a word to exclude, not a usage error. Options and their values stay as they are; every
    other argument goes, in order, after a `--` (so `ingest search -- -x y` works too)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        takes_value = {
            name: not getattr(param, "is_flag", False)
            for param in self.params
            if param.param_type_name == "option"
            for name in (*param.opts, *param.secondary_opts)
        }
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words.extend(rest)
                break
            name = arg.split("=", 1)[0]
            if name in takes_value or (arg.startswith("--") and len(arg) > 2):
                options.append(arg)  # ours, or a misspelt long option: Click says which
                if takes_value.get(name) and "=" not in arg:
                    options.extend(islice(rest, 1))
            elif arg[:2] in takes_value and arg[2:].isdigit():
                options.append(arg)  # -n20
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words])


def register(app: typer.Typer) -> None:
    app.command("search", cls=QueryCommand)(search)


def search(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            help='The query: words (all must occur), "a phrase", a OR b, -word, prefix*. '
            "A -word is excluded, even without quotes or --.",
            show_default=False,
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    after: Annotated[
        str | None,
        typer.Option(
            "--after", help="Continue after this cursor (from JSON output).", show_default=False
        ),
    ] = None,
    feed: FeedOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    lang: LangOption = None,
    site: SiteOption = None,
    with_duplicates: WithDuplicatesOption = False,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Search article titles and texts, best matches first."""
    from ingest.store.search import Cursor
    from ingest.store.search import search as run_search

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
    cursor = None if after is None else Cursor.parse(after)
    hits = run_search(
        engine,
        " ".join(words),
        limit=limit,
        keep=keep,
        after=cursor,
        time_limit=ctx.obj.settings.search_time_limit,
    )
    if format is Format.json:
        print_json([_json(hit) for hit in hits])
        return
    rows = [
        (
            hit.id,
            hit.published and f"{hit.published:%Y-%m-%d}",
            _styled(hit.title or "", hit.title_matches),
            _styled(hit.snippet, hit.matches),
        )
        for hit in hits
    ]
    print_table(None, ["id", "published", "title", "match"], rows)
    if not hits:
        message("no matches")


def _styled(text: str, spans: Sequence[Span]) -> Text:
    """Archived text as plain text (never markup), its matches styled."""
    shown = Text(text)
    for start, end in spans:
        shown.stylize(MATCH_STYLE, start, end)
    return shown


def _json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "published": hit.published,
        "url": hit.url,
        "snippet": hit.snippet,
        "matches": [list(span) for span in hit.matches],
        "title_matches": [list(span) for span in hit.title_matches],
        "rank": hit.rank,
        "cursor": hit.cursor,
    }
