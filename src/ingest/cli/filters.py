"""The article filter options every listing command shares (`search`, `export`, …).

A command declares them with these annotated types and turns them into an `ArticleFilter` with
`article_filter`, so `--feed`, `--since`, `--until`, `--lang`, `--site` and `--with-duplicates`
are spelled, parsed and reported the same way everywhere:

    def export(ctx, feed: FeedOption = None, since: SinceOption = None, …):
        keep = article_filter(ctx.obj.engine, feed=feed, since=since, …)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ingest.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ingest.store.filters import ArticleFilter

FeedOption = Annotated[
    list[str] | None,
    typer.Option(
        "--feed",
        help="Only articles of this feed (ID or URL); repeat for several.",
        show_default=False,
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Published at or after: a date (2018-07-01), a time or an age (7d, 12h).",
        show_default=False,
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Published before: a time or an age; a bare date includes that whole day.",
        show_default=False,
    ),
]
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang", help="Only articles in this language (en, de, zh, …).", show_default=False
    ),
]
SiteOption = Annotated[
    str | None,
    typer.Option(
        "--site",
        help="Only articles of this site (host name such as example.com).",
        show_default=False,
    ),
]
T = TypeVar("T")

WithDuplicatesOption = Annotated[
    bool,
    typer.Option("--with-duplicates", help="Also list near-duplicates of other articles."),
]


def article_filter(
    engine: Engine,
    *,
    feed: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    lang: str | None = None,
    site: str | None = None,
    with_duplicates: bool = False,
    query: str | None = None,
    now: datetime | None = None,
) -> ArticleFilter:
    """The options as an `ArticleFilter`; a bad value raises UsageError (one line, exit 2)."""
    from ingest.store.feeds import resolve_feed
    from ingest.store.filters import ArticleFilter, normalize_lang, normalize_site, parse_when

    now = now or datetime.now(UTC)
    return ArticleFilter(
        feed_ids=tuple(dict.fromkeys(resolve_feed(engine, ref) for ref in feed or [])),
        since=_option("--since", since, lambda v: parse_when(v, now=now)),
        until=_option("--until", until, lambda v: parse_when(v, now=now, end=True)),
        lang=_option("--lang", lang, normalize_lang),
        site=_option("--site", site, normalize_site),
        with_duplicates=with_duplicates,
        query=query,
    )


def _option(name: str, value: str | None, parse: Callable[[str], T]) -> T | None:
    """`parse(value)`, its error prefixed with the option's name (`--since: not a date …`)."""
    if value is None:
        return None
    try:
        return parse(value)
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from None
