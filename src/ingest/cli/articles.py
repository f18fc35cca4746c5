"""`ingest show` and `ingest diff`: read one article."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.cli.output import TextFormat, err, print_json, print_table, say
from ingest.errors import StorageError, UsageError

if TYPE_CHECKING:
    from ingest.store.revisions import RevisionRecord


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("diff")(diff)


def show(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article ID.")],
    format: Annotated[TextFormat, typer.Option("--format", "-f")] = TextFormat.text,
    revisions: Annotated[
        bool, typer.Option("--revisions", help="List the article's versions instead.")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Print the page's original response (headers and body)."),
    ] = False,
) -> None:
    """Print one archived article: metadata, sources and text (or its versions, or its page)."""
    from ingest.redact import redact_url
    from ingest.store.queries import get_article

    if raw:
        _show_raw(ctx, article_id)
        return
    if revisions:
        _show_revisions(ctx, article_id, format)
        return
    record = get_article(ctx.obj.reader, article_id)
    if format is TextFormat.json:
        print_json(record)
        return
    say(record["title"] or "(untitled)", style="bold")
    for label in (
        "url",
        "canonical_url",
        "author",
        "published",
        "sitename",
        "language",
        "extraction",
        "revisions",
        "removed_at",
    ):
        if record[label]:
            value = record[label]
            say(f"{label}: {redact_url(value) if label.endswith('url') else value}")
    if record["duplicate_of"]:
        say(f"duplicate_of: {record['duplicate_of']} (similarity {record['similarity']:.2f})")
    if record["extraction_error"]:
        say(f"extraction_error: {record['extraction_error']}")
    for source in record["sources"]:
        removed = f", removed from the feed {source['removed_at']}" if source["removed_at"] else ""
        where = source["guid"] or source["link"]
        say(f"source: {redact_url(source['feed_url'])} ({where}{removed})")
    if record["text_from"] != "page" and record["text"]:
        said = f"the feed {record['text_from']}" if record["text_from"] else "a feed"
        say(f"text: as {said} gave it (the page itself was never fetched successfully)")
    say()
    say(record["text"])


def _show_raw(ctx: typer.Context, article_id: int) -> None:
    """The status line and headers as received, a blank line, then the body (content coding
    removed), as bytes: a page in any charset prints as it was served; a note on stderr when
    its body was not kept whole."""
    from ingest.rawarchive import cut_note, http_message, warc_folder
    from ingest.store.articles import stored_page
    from ingest.warc.reader import WarcReadError

    page = stored_page(ctx.obj.reader, article_id)
    if page is None:
        raise UsageError(f"article {article_id} has no archived page")
    try:
        message, truncated = http_message(warc_folder(ctx.obj.settings), page)
    except WarcReadError as exc:
        raise StorageError(f"cannot read the raw page: {exc} (run `ingest check`)") from None
    sys.stdout.buffer.write(message)
    sys.stdout.flush()
    if truncated:
        err.print(f"note: {cut_note(truncated)}")


def _show_revisions(ctx: typer.Context, article_id: int, format: TextFormat) -> None:
    from ingest.store.revisions import list_revisions

    versions = list_revisions(ctx.obj.reader, article_id, with_text=format is TextFormat.json)
    if format is TextFormat.json:
        print_json([v.as_json() for v in versions])
        return
    print_table(
        f"article {article_id}: {len(versions)} versions",
        ["rev", "created_at", "reason", "content_hash", "title"],
        [
            (v.number, v.as_json()["created_at"], v.reason, v.content_hash[:12], v.title)
            for v in versions
        ],
    )


def diff(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article ID.")],
    rev_a: Annotated[int | None, typer.Argument(help="Older version (default: previous).")] = None,
    rev_b: Annotated[int | None, typer.Argument(help="Newer version (default: latest).")] = None,
) -> None:
    """Print a word-level diff of an article's title and text between two versions.

    Versions are numbered as `ingest show ID --revisions` lists them.
    """
    from ingest.diff import unified_word_diff
    from ingest.store.revisions import list_revisions

    versions = list_revisions(ctx.obj.reader, article_id, with_text=True)
    if not versions:
        raise UsageError(f"article {article_id} has no versions yet (its page is not fetched)")
    new = _pick(versions, rev_b, len(versions), article_id)
    old = _pick(versions, rev_a, max(1, new.number - 1), article_id)
    say(
        unified_word_diff(
            old.title,
            old.text or "",
            new.title,
            new.text or "",
            old_label=_label(article_id, old),
            new_label=_label(article_id, new),
        )
    )


def _pick(
    versions: list[RevisionRecord], number: int | None, default: int, article_id: int
) -> RevisionRecord:
    number = default if number is None else number
    if not 1 <= number <= len(versions):
        raise UsageError(f"article {article_id} has versions 1 to {len(versions)}, not {number}")
    return versions[number - 1]


def _label(article_id: int, version: RevisionRecord) -> str:
    when = version.as_json()["created_at"]
    return f"article {article_id} rev {version.number} ({when}, {version.reason})"
