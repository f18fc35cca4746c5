"""What archiving raw responses costs per fetch: WARC bytes per record as this writer writes
them (gzip per record, realistic feed-server headers), and database bytes per `raw_response`
row with its indexes (a real SQLite archive, 100k rows). The figures of docs/scaling.md.

    python benchmarks/raw_sizes.py
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from ingest.records import Exchange, FetchResult
from ingest.store.engine import open_archive
from ingest.store.models import RawResponse
from ingest.warc.writer import Original, WarcWriter

URL = "https://news.example.com/feeds/world/rss.xml"
SENT = (
    ("Host", "news.example.com"),
    ("User-Agent", "ingest/0.1 (feed archiver; ops@example.org)"),
    ("Accept", "application/atom+xml, application/rss+xml, application/feed+json, */*;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("If-None-Match", '"5f2a-61c3b9e2a8f40"'),
    ("If-Modified-Since", "Sat, 05 Dec 2026 21:14:03 GMT"),
)
RECEIVED = (
    ("Date", "Sun, 06 Dec 2026 07:00:00 GMT"),
    ("Server", "nginx"),
    ("Content-Type", "application/rss+xml; charset=utf-8"),
    ("ETag", '"5f2a-61c3b9e2a8f40"'),
    ("Last-Modified", "Sat, 05 Dec 2026 21:14:03 GMT"),
    ("Cache-Control", "max-age=300"),
    ("Vary", "Accept-Encoding"),
)
PAGE = Path(__file__).parent.parent / "tests" / "fixtures" / "sensetime.html"
ROWS = 100_000


def fetched(status: int, body: bytes | None, reason: str) -> FetchResult:
    length = (("Content-Length", str(len(body))),) if body is not None else ()
    exchange = Exchange("GET", URL, SENT, "1.1", reason, RECEIVED + length)
    return FetchResult(URL, URL, status, {}, body, exchange=exchange)


def refused() -> FetchResult:
    """A body refused unread (a PDF link, a Content-Length over the cap): its headers only."""
    received = (*RECEIVED, ("Content-Length", "2097152"))
    exchange = Exchange(
        "GET", URL, SENT, "1.1", "OK", received, wire_body=b"", truncated="unspecified"
    )
    return FetchResult(URL, URL, 200, {}, None, exchange=exchange)


def record_sizes() -> None:
    folder = Path(tempfile.mkdtemp())
    writer = WarcWriter(folder, 1 << 40)
    then = datetime(2026, 12, 5, 21, 14, 3, tzinfo=UTC)
    original = Original(URL, then, "<urn:uuid:3f1c2a9e-8b7d-4e21-9a0c-5d6e7f8a9b0c>")
    page = PAGE.read_bytes()
    writer.write(fetched(200, b"warm-up", "OK"))  # the file's warcinfo record is not counted
    cases = [
        ("304 (revisit, server-not-modified)", fetched(304, None, "Not Modified"), original),
        ("unchanged payload (revisit, identical digest)", fetched(200, page, "OK"), original),
        (f"{len(page) // 1024} KB fixture page (response)", fetched(200, page, "OK"), None),
        ("body refused unread (response, WARC-Truncated)", refused(), None),
    ]
    for name, result, refers in cases:
        before = sum(p.stat().st_size for p in folder.glob("*.warc.gz"))
        written = writer.write(result, refers)
        assert written is not None
        total = sum(p.stat().st_size for p in folder.glob("*.warc.gz")) - before
        print(f"{name}: {written.length} B, with its request record {total} B")
    writer.close()


def row_size() -> None:
    path = Path(tempfile.mkdtemp()) / "rows.db"
    engine = open_archive(f"sqlite:///{path}")
    before = os.path.getsize(path)
    start = datetime(2026, 12, 6, tzinfo=UTC)
    rows = [
        {
            "warc_file": f"ingest-20261206070000-{i // 20000:05d}-node1.example.org-12345-a1b2c3"
            ".warc.gz",
            "offset": i * 3000,
            "length": 3000,
            "payload_digest": "sha1:" + secrets.token_hex(16).upper(),
            "record_type": "revisit" if i % 5 else "response",
            "refers_to": i - i % 5 + 1 if i % 5 else None,
            "uri": f"https://news{i % 977}.example.com/feeds/world/rss-{i}.xml",
            "status": 304 if i % 5 else 200,
            "fetched_at": start + timedelta(seconds=i),
        }
        for i in range(ROWS)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(RawResponse), rows)
    engine.dispose()
    sqlite3.connect(path, isolation_level=None).execute("VACUUM")
    print(
        f"raw_response row with its indexes (SQLite): {(path.stat().st_size - before) / ROWS:.0f} B"
    )


if __name__ == "__main__":
    record_sizes()
    row_size()
