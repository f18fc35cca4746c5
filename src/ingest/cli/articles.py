"""`ingest show` and `ingest export`: read the archive."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from sqlalchemy.engine import Engine

from ingest.cli.output import TextFormat, out, print_json
from ingest.errors import UsageError
from ingest.store.queries import get_article, iter_articles


class ExportFormat(StrEnum):
    jsonl = "jsonl"


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("export")(export)


def show(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article ID.")],
    format: Annotated[TextFormat, typer.Option("--format", "-f")] = TextFormat.text,
) -> None:
    """Print one archived article: metadata, sources and text."""
    record = get_article(ctx.obj.engine, article_id)
    if format is TextFormat.json:
        print_json(record)
        return
    out.print(record["title"] or "(untitled)", style="bold", markup=False, highlight=False)
    for label in (
        "url",
        "canonical_url",
        "author",
        "published",
        "sitename",
        "language",
        "extraction",
    ):
        if record[label]:
            out.print(f"{label}: {record[label]}", markup=False, highlight=False)
    if record["extraction_error"]:
        out.print(f"extraction_error: {record['extraction_error']}", markup=False, highlight=False)
    for source in record["sources"]:
        out.print(
            f"source: {source['feed_url']} ({source['guid'] or source['link']})",
            markup=False,
            highlight=False,
        )
    out.print()
    out.print(record["text"], markup=False, highlight=False)


def export(
    ctx: typer.Context,
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Write every article as one JSON object per line (see README, "Export format")."""
    engine = ctx.obj.engine
    if output is None:
        _write(engine, sys.stdout)
        return
    try:
        with output.open("w", encoding="utf-8") as stream:
            _write(engine, stream)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


def _write(engine: Engine, stream: TextIO) -> None:
    for record in iter_articles(engine):
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
