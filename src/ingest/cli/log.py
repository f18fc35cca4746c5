"""`ingest log`: the fetch log, every HTTP attempt of feeds and pages, newest first."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest.cli.output import Format, err, print_json, print_table
from ingest.errors import StorageError, UsageError

if TYPE_CHECKING:
    from ingest.store.models import FetchLog


def register(app: typer.Typer) -> None:
    app.command("log")(log)


def log(
    ctx: typer.Context,
    feed: Annotated[
        str | None,
        typer.Option(
            "--feed", help="Only this feed (ID or URL) and its pages.", show_default=False
        ),
    ] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed attempts.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 50,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    raw: Annotated[
        int | None,
        typer.Option(
            "--raw",
            help="Print the response attempt ID received (headers and body), as archived.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show recent fetch attempts (feeds, pages and robots.txt): id, URL, status, bytes,
    request time (ms), time waiting for the host's turn before it (wait ms) and error class."""
    from ingest.redact import redact_url
    from ingest.store import feeds as feed_store
    from ingest.store.fetchlog import recent_fetches

    engine = ctx.obj.reader
    if raw is not None:
        _print_raw(ctx, raw)
        return
    feed_id = feed_store.resolve_feed(engine, feed) if feed is not None else None
    rows = recent_fetches(engine, feed_id=feed_id, failed=failed, limit=limit)
    if format is Format.json:
        print_json([log_record(row) for row in rows])
        return
    print_table(
        None,
        ["id", "at", "kind", "url", "status", "bytes", "ms", "wait ms", "error"],
        [
            (
                row.id,
                f"{row.at:%Y-%m-%d %H:%M:%S}",
                row.kind,
                redact_url(row.url),
                row.status,
                row.bytes,
                row.duration_ms,
                row.queue_ms,
                row.error_class and f"{row.error_class}: {row.error_message or ''}".rstrip(": "),
            )
            for row in rows
        ],
    )


def _print_raw(ctx: typer.Context, log_id: int) -> None:
    """The response as `show --raw` prints a page (bytes: any charset prints as it was
    served), and a note on stderr when its body was not kept whole."""
    from ingest.rawarchive import cut_note, message_of, read_located, warc_folder
    from ingest.store.fetchlog import logged_response
    from ingest.warc.reader import WarcReadError

    found = logged_response(ctx.obj.reader, log_id)
    if found is None:
        raise UsageError(f"no fetch attempt {log_id} in the log")
    row, location = found
    if location is None:
        why = row.error_class or "its body was not read"
        raise UsageError(f"fetch attempt {log_id} has no archived response ({why})")
    try:
        response = read_located(warc_folder(ctx.obj.settings), *location)
    except WarcReadError as exc:
        raise StorageError(f"cannot read the raw response: {exc} (run `ingest check`)") from None
    sys.stdout.buffer.write(message_of(response))
    sys.stdout.flush()
    if response.truncated:
        err.print(f"note: {cut_note(response.truncated)}")


def log_record(row: FetchLog) -> dict[str, Any]:
    from ingest.redact import redact_url

    record = row.model_dump(mode="json")
    record["url"] = redact_url(record["url"])
    return record
