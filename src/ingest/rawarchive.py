"""The raw archive: every response a fetch received goes to WARC, the database learns where.

Runs on the pipeline's writer thread, between the fetch and the store call that records it, so
the store only ever sees a reference (`Kept`), never the bytes: one WARC file per process,
records written and flushed before any row points at them.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection, make_url

from ingest.config import Settings
from ingest.records import FetchResult
from ingest.store.raw import Earlier, Kept, Location, find_original, find_revisited
from ingest.warc.reader import (
    ArchivedResponse,
    RecordHead,
    WarcReadError,
    read_head,
    read_response,
)
from ingest.warc.recovery import recover
from ingest.warc.writer import (
    SERVER_NOT_MODIFIED,
    Original,
    WarcWriter,
    archived_payload,
    payload_digest,
)

if TYPE_CHECKING:
    from ingest.store.articles import StoredPage

log = logging.getLogger(__name__)


def warc_folder(settings: Settings) -> Path:
    """`warc_dir`, else `warc/` beside the SQLite database, else `archive/warc`."""
    if settings.warc_dir:
        return Path(settings.warc_dir)
    url = make_url(settings.db_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and not database.startswith(":memory:"):
        return Path(database).parent / "warc"
    return Path("archive") / "warc"


class RawArchive:
    """This process's WARC writer (opened at the first response, recovering crashed files)."""

    def __init__(self, settings: Settings) -> None:
        self.folder = warc_folder(settings)
        self.enabled = settings.warc
        self._max_bytes = settings.warc_max_bytes
        self._writer: WarcWriter | None = None
        if self.enabled and self.folder.is_dir():
            recover(self.folder)  # files a crashed writer left: cut back to whole records

    def keep(
        self,
        conn: Connection,
        result: FetchResult,
        *,
        feed_id: int | None = None,
        article_id: int | None = None,
    ) -> Kept | None:
        """Write `result` as WARC records (`conn`: the transaction that will record where they
        went); None when it got no response worth keeping. A 304 refers to the response of this
        feed or article page it confirms; a whole payload archived before is not written again
        (both are `revisit` records). A record cut short (WARC-Truncated) is never what a
        revisit refers to: its payload is not the resource."""
        if not self.enabled or result.exchange is None:
            return None
        payload = archived_payload(result)
        earlier: Earlier | None = None
        if result.not_modified:
            earlier = find_revisited(conn, feed_id=feed_id, article_id=article_id)
        elif payload is not None and not result.exchange.truncated:
            earlier = find_original(conn, payload_digest(payload))
        original = None
        if earlier is not None:
            head = record_head(self.folder, earlier)
            if head is not None and head.truncated:
                earlier = None
            else:
                record_id = head.record_id if head else None
                original = Original(earlier.uri, earlier.fetched_at, record_id)
        written = self.writer().write(result, original)
        if written is None:
            return None
        return Kept(written, earlier.id if earlier else None)

    def writer(self) -> WarcWriter:
        """This process's writer, opened (and crashed files repaired) on first use."""
        if self._writer is None:
            self._writer = WarcWriter(self.folder, self._max_bytes)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def record_head(folder: Path, place: Earlier | Location) -> RecordHead | None:
    """A record's WARC-Record-ID and WARC-Truncated: from its row; a row archived before
    schema 0011 has neither, so its record is read (None when it cannot be)."""
    if place.record_id is not None:
        return RecordHead(place.record_id, place.truncated)
    return read_head(folder, place.warc_file, place.offset)


def read_located(folder: Path, record: Location, payload: Location | None) -> ArchivedResponse:
    """The response at a stored location; a revisit of a repeated payload gets the payload of
    the response it repeats (its own headers stay: they are what this fetch received), a 304
    stays as it came, without a body."""
    response = read_response(folder, record.warc_file, record.offset, record.length)
    if payload is None or response.profile == SERVER_NOT_MODIFIED:
        return response
    original = read_response(folder, payload.warc_file, payload.offset, payload.length)
    return replace(response, body=original.body, payload_digest=original.payload_digest)


class CutShort(Exception):
    """The archived page is not whole (its record says WARC-Truncated: the body was refused,
    or stopped being read): it is kept as it came, never extracted as if it were the page."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def page_body(folder: Path, page: StoredPage) -> bytes | None:
    """An archived page's body, from its WARC record (or the database, before migrate-raw);
    None when the record cannot be read (logged: `ingest check` tells more); CutShort when
    the record holds only part of it."""
    if page.raw is None:
        return page.legacy_body
    try:
        response = read_located(folder, *page.raw)
    except WarcReadError as exc:
        log.error("article %d: raw page unreadable: %s", page.article_id, exc)
        return None
    if response.truncated:
        raise CutShort(response.truncated)
    return response.body


def http_message(folder: Path, page: StoredPage) -> tuple[bytes, str | None]:
    """The page's original response as `ingest show --raw` prints it and `/articles/ID/raw`
    serves it: the status line and headers as received, a blank line, then the body (content
    coding removed) as bytes; and its record's WARC-Truncated (None: the body is whole). A page
    kept in the database before WARC storage is its body alone: no headers were kept.
    WarcReadError when the record cannot be read back."""
    if page.raw is None:
        return page.legacy_body or b"", None
    response = read_located(folder, *page.raw)
    return message_of(response), response.truncated


def cut_note(truncated: str) -> str:
    """What `show --raw`, `log --raw` and the web say of a record whose body is not whole."""
    return f"the body was not kept whole (WARC-Truncated: {truncated})"


def message_of(response: ArchivedResponse) -> bytes:
    """The status line and headers as received, a blank line, then the body (content coding
    removed), as bytes."""
    head = [response.status_line, *(f"{name}: {value}" for name, value in response.headers)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + response.body
