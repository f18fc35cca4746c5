"""`ingest export`: the archive, or the part of it the filters keep, in a standard format."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

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
from ingest.cli.output import err
from ingest.errors import UsageError


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    atom = "atom"
    json_feed = "json-feed"
    warc = "warc"


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    ctx: typer.Context,
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query",
            "-q",
            help="Only articles matching these words (as search).",
            show_default=False,
        ),
    ] = None,
    feed: FeedOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    lang: LangOption = None,
    site: SiteOption = None,
    with_duplicates: WithDuplicatesOption = False,
    with_revisions: Annotated[
        bool,
        typer.Option("--with-revisions", help="jsonl: add every version in full."),
    ] = False,
) -> None:
    """Write the articles the filters keep (all by default; near-duplicates only with
    --with-duplicates), in id order: JSON lines, CSV, Atom or JSON Feed (full text), or WARC
    (their original page responses). See README, "Export formats"."""
    from ingest import exports
    from ingest.rawarchive import warc_folder
    from ingest.store.queries import iter_articles
    from ingest.store.raw import iter_page_locations

    writers: dict[ExportFormat, Callable[..., int]] = {
        ExportFormat.jsonl: exports.write_jsonl,
        ExportFormat.csv: exports.write_csv,
        ExportFormat.atom: exports.write_atom,
        ExportFormat.json_feed: exports.write_json_feed,
    }
    engine = ctx.obj.reader
    if with_revisions and format is not ExportFormat.jsonl:
        raise UsageError("--with-revisions goes with --format jsonl")
    if query is not None and not query.replace("\x00", " ").strip():
        raise UsageError("--query: empty search query")
    keep = article_filter(
        engine,
        feed=feed,
        since=since,
        until=until,
        lang=lang,
        site=site,
        with_duplicates=with_duplicates,
        query=query,
    )
    with _opened(output) as stream:
        if format is ExportFormat.warc:
            folder = warc_folder(ctx.obj.settings)
            count = exports.write_warc(iter_page_locations(engine, keep), folder, stream)
        else:
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
            records = iter_articles(
                engine,
                keep=keep,
                with_revisions=with_revisions,
                with_html=format in (ExportFormat.atom, ExportFormat.json_feed),
            )
            count = writers[format](records, text)
            text.flush()
            text.detach()
    err.print(f"exported {count} articles", highlight=False)


@contextmanager
def _opened(output: Path | None) -> Iterator[IO[bytes]]:
    """A binary stream: the file (its errors one line), or stdout."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        stream = output.open("wb")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    with stream:
        yield stream
