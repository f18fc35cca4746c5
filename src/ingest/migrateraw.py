"""`ingest migrate-raw`: move raw bodies kept in the database (before WARC storage) into WARC.

One stored body at a time: its WARC record is written and flushed, then one transaction points
every fetch-log row and article that used it at the record and drops the body from the
database. The request was never recorded, so none is written: a `metadata` record beside each
moved response says where it came from, what its headers were rebuilt from, and what the fetch
log knew of it. Interrupted anywhere, a second run picks up what is left (at worst one record is
written twice; `ingest check` reports the unreferenced copy). Bodies that revisions or entry
histories still use stay: they are texts, not raw responses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest import __version__
from ingest.rawarchive import RawArchive
from ingest.records import Exchange, FetchResult
from ingest.store.blobs import get_blob
from ingest.store.engine import reading
from ingest.store.models import Article, Blob, Entry, FetchLog, Revision, utcnow
from ingest.store.raw import Kept, add_raw

_LOGGED = 20  # fetch-log attempts named in a moved response's metadata record
# the stored body is decoded: headers about the bytes on the wire no longer describe it
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass
class Moved:
    bodies: int = 0
    bytes: int = 0
    rows: int = 0


@dataclass(frozen=True, slots=True)
class _Source:
    url: str
    status: int
    headers: dict[str, str]
    at: datetime
    headers_from: str  # what the archived HTTP headers were rebuilt from
    logged: list[str]  # what the fetch log knew: one line per attempt that got this body


def pending_bodies(engine: Engine) -> int:
    """Distinct raw bodies still kept in the database."""
    with reading(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(_pending().subquery())).scalar()


def _pending() -> sa.Select[tuple[str]]:
    logged = sa.select(FetchLog.blob.label("hash")).where(FetchLog.blob.is_not(None))
    pages = sa.select(Article.page_blob.label("hash")).where(Article.page_blob.is_not(None))
    return sa.union(logged, pages)


def migrate_raw(
    engine: Engine, archive: RawArchive, on_moved: Callable[[Moved], None] | None = None
) -> Moved:
    moved = Moved()
    texts = _history_bodies(engine)
    while True:
        with reading(engine) as conn:
            batch = list(conn.execute(_pending().limit(100)).scalars())
        if not batch:
            return moved
        for digest in batch:
            moved.rows += _move(engine, archive, digest, texts)
            moved.bodies += 1
            if on_moved is not None:
                on_moved(moved)


def _move(engine: Engine, archive: RawArchive, digest: str, texts: set[str]) -> int:
    with reading(engine) as conn:
        body = get_blob(conn, digest) or b""
        source = _source(conn, digest)
    headers = [(k, v) for k, v in source.headers.items() if k.lower() not in _WIRE_HEADERS]
    headers.append(("content-length", str(len(body))))
    reason = _reason(source.status)
    result = FetchResult(
        source.url,
        source.url,
        source.status,
        dict(headers),
        body,
        exchange=Exchange("GET", source.url, (), "1.1", reason, tuple(headers)),
    )
    about = [
        ("via", f"ingest migrate-raw {__version__}"),
        ("migrated-at", utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("origin", f"a body kept in the ingest database before WARC storage (sha256:{digest})"),
        ("request", "not recorded then: no request record exists for this response"),
        ("http-headers", f"rebuilt from {source.headers_from}; Content-Length of the body"),
        *(("fetch-log", line) for line in source.logged),
    ]
    written = archive.writer().write(result, at=source.at, about=about)
    assert written is not None  # a body with a status always makes a record
    with engine.begin() as conn:
        raw_id = add_raw(conn, Kept(written))
        rows = conn.execute(
            sa.update(FetchLog).where(FetchLog.blob == digest).values(raw_id=raw_id, blob=None)
        ).rowcount
        rows += conn.execute(
            sa.update(Article)
            .where(Article.page_blob == digest)
            .values(page_raw_id=raw_id, page_blob=None)
        ).rowcount
        in_use = conn.execute(
            sa.select(Revision.id).where(Revision.text_blob == digest).limit(1)
        ).first()
        if in_use is None and digest not in texts:
            conn.execute(sa.delete(Blob).where(Blob.hash == digest))
    return rows


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _source(conn: sa.Connection, digest: str) -> _Source:
    """What is known of the response: an article's page headers, else its fetch-log row."""
    page = conn.execute(
        sa.select(
            sa.func.coalesce(Article.canonical_url, Article.url),
            Article.page_status,
            Article.page_headers,
            Article.fetched_at,
        )
        .where(Article.page_blob == digest)
        .limit(1)
    ).first()
    attempts = conn.execute(
        sa.select(FetchLog.kind, FetchLog.url, FetchLog.status, FetchLog.content_type, FetchLog.at)
        .where(FetchLog.blob == digest)
        .order_by(FetchLog.id)
        .limit(_LOGGED)
    ).all()
    logged = [
        f"{row.at:%Y-%m-%dT%H:%M:%SZ} {row.kind} {row.url} status {row.status}"
        f" content-type {row.content_type or '-'}"
        for row in attempts
    ]
    if attempts:
        first = attempts[0]
        if page is not None and page.page_headers:
            headers, headers_from = dict(page.page_headers), "the article's page headers"
        elif first.content_type:
            headers = {"content-type": first.content_type}
            headers_from = "the fetch log's content type"
        else:
            headers, headers_from = {}, "nothing (none were kept)"
        return _Source(first.url, first.status or 200, headers, first.at, headers_from, logged)
    assert page is not None
    url, status, headers, at = page
    headers_from = "the article's page headers" if headers else "nothing (none were kept)"
    return _Source(url or "", status or 200, headers or {}, at or utcnow(), headers_from, [])


def _history_bodies(engine: Engine) -> set[str]:
    """Blobs that entry histories point to (inside JSON, so no foreign key protects them)."""
    found: set[str] = set()
    query = sa.select(Entry.history).where(sa.func.json_array_length(Entry.history) > 0)
    with reading(engine) as conn:
        for (history,) in conn.execute(query.execution_options(yield_per=1000)):
            found.update(version["body"] for version in history or [] if version.get("body"))
    return found
