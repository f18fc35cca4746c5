"""`ingest migrate-raw`: an archive made before WARC storage (raw bodies as zlib blobs in the
database) moves its bodies into WARC files, resumably, and keeps working."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import time
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import Cli, Site
from tests.fixturefiles import load_fixture

pytestmark = pytest.mark.timeout(300)  # several processes, one of them killed
EXTRA = 1500  # fetch-log rows of other bodies, so an interruption lands mid-way


def make_legacy(db: Path) -> None:
    """Turn a fresh archive into one as the blob-keeping version left it."""
    folder = db.parent / "warc"
    bodies = {}
    for path in folder.glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    bodies[uri] = record.content_stream().read()
        path.unlink()
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT f.id, r.uri, 'log' FROM fetch_log f JOIN raw_response r ON r.id = f.raw_id"
            " UNION ALL SELECT a.id, r.uri, 'page' FROM article a"
            " JOIN raw_response r ON r.id = a.page_raw_id"
        ).fetchall()
        for row_id, uri, kind in rows:
            body = bodies[uri]
            digest = hashlib.sha256(body).hexdigest()
            conn.execute(
                "INSERT OR IGNORE INTO blob (hash, size, data, created_at)"
                " VALUES (?, ?, ?, '2018-07-02')",
                (digest, len(body), zlib.compress(body)),
            )
            if kind == "log":
                conn.execute(
                    "UPDATE fetch_log SET blob = ?, raw_id = NULL WHERE id = ?", (digest, row_id)
                )
            else:
                conn.execute(
                    "UPDATE article SET page_blob = ?, page_raw_id = NULL WHERE id = ?",
                    (digest, row_id),
                )
        for i in range(EXTRA):
            body = f"<rss>{i}</rss>".encode()
            digest = hashlib.sha256(body).hexdigest()
            conn.execute(
                "INSERT INTO blob (hash, size, data, created_at) VALUES (?, ?, ?, '2018-07-02')",
                (digest, len(body), zlib.compress(body)),
            )
            conn.execute(
                "INSERT INTO fetch_log (at, kind, url, status, bytes, duration_ms, blob,"
                " content_type) VALUES ('2018-07-02', 'feed', ?, 200, 0, 0, ?, 'text/xml')",
                (f"http://old.example/{i}", digest),
            )
        conn.execute("DELETE FROM raw_response")


def counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM fetch_log WHERE blob IS NOT NULL),"
            " (SELECT count(*) FROM article WHERE page_blob IS NOT NULL),"
            " (SELECT count(*) FROM blob b WHERE NOT EXISTS"
            "   (SELECT 1 FROM revision r WHERE r.text_blob = b.hash))"
        ).fetchone()


def test_blobs_move_into_warc_resumably(cli: Cli, site: Site, tmp_path: Path) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    db = tmp_path / "archive" / "ingest.db"
    make_legacy(db)
    logged, pages, _ = counts(db)
    assert logged > EXTRA and pages == 3
    # the legacy archive still re-extracts from its blobs
    assert "3 unchanged" in cli("reextract").stderr
    # interrupted by kill -9 once it started writing
    first = cli.popen("migrate-raw")
    folder = tmp_path / "archive" / "warc"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        files = list(folder.glob("*.warc.gz"))
        if files and files[0].stat().st_size > 20_000:
            break
        time.sleep(0.01)
    if first.poll() is None:
        os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL, first.stderr.read() if first.stderr else ""
    left = counts(db)
    assert 0 < left[0] < logged, "the kill should land mid-way"
    done = cli("migrate-raw")
    assert done.returncode == 0, done.stderr
    assert counts(db) == (0, 0, 0)  # every raw body left the database; texts stayed
    # pages are read from WARC now: re-extraction, `show --raw`
    assert "3 unchanged" in cli("reextract").stderr
    with sqlite3.connect(db) as conn:
        [article_id] = conn.execute(
            "SELECT id FROM article WHERE url LIKE '%sensetime-singapore%'"
        ).fetchone()
    shown = cli("show", str(article_id), "--raw")
    assert shown.stdout.endswith(load_fixture("sensetime.html", site.base).decode())
    assert "Content-Type: text/html" in shown.stdout or "content-type: text/html" in shown.stdout
    # again: nothing left to do
    assert cli("migrate-raw").stdout.startswith("0 raw bodies moved")
    # no request was recorded then, so none is made up: each moved response has a metadata
    # record saying where it came from and what the fetch log knew of it
    records = []
    for path in folder.glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests="raise"):
                records.append((dict(record.rec_headers.headers), record.content_stream().read()))
    assert not [head for head, _ in records if head["WARC-Type"] == "request"]
    about = {
        head["WARC-Refers-To"]: dict(
            line.split(": ", 1)
            for line in body.decode().splitlines()
            if line.startswith("fetch-log")
        )
        | {"all": body.decode()}
        for head, body in records
        if head["WARC-Type"] == "metadata"
    }
    responses = [head for head, _ in records if head["WARC-Type"] == "response"]
    assert len(responses) >= EXTRA + 4  # killed mid-record at most once: one copy more
    for head in responses:
        note = about[head["WARC-Record-ID"]]
        assert "via: ingest migrate-raw" in note["all"]
        assert "request: not recorded then" in note["all"]
        assert "origin: a body kept in the ingest database before WARC storage" in note["all"]
    old = next(h for h in responses if h["WARC-Target-URI"] == "http://old.example/7")
    assert about[old["WARC-Record-ID"]]["fetch-log"] == (
        "2018-07-02T00:00:00Z feed http://old.example/7 status 200 content-type text/xml"
    )
    assert old["WARC-Date"] == "2018-07-02T00:00:00Z"  # when it was fetched, not moved
    page = next(h for h in responses if h["WARC-Target-URI"].endswith("/sensetime-singapore/"))
    assert (
        "http-headers: rebuilt from the article's page headers"
        in about[page["WARC-Record-ID"]]["all"]
    )
