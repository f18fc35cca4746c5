"""Raw responses as WARC/1.1 files: read back by warcio's own ArchiveIterator (digests
verified), revisits for 304s and repeated payloads, crash repair, writers never interleaved."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from werkzeug import Request, Response

from ingest.records import Exchange, FetchResult
from ingest.warc.reader import read_response
from ingest.warc.recovery import OPEN_DIR, complete_length, recover
from ingest.warc.writer import WarcWriter, payload_digest
from tests.conftest import RSS, Cli, Site
from tests.daemons import free_port
from tests.faultsite import RSS as FAULT_RSS
from tests.faultsite import RawSite, rss
from tests.faultsite import Request as FaultRequest
from tests.fixturefiles import load_fixture
from tests.webarchive import wait_until_serving


def warc_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.warc.gz"))


def each_record(*paths: Path) -> Iterator[ArcWarcRecord]:
    """Every record of these WARC files in order, digests checked; a record's payload can be
    read until the next one is asked for."""
    for path in paths:
        with path.open("rb") as stream:
            yield from ArchiveIterator(stream, check_digests="raise")


def records(path: Path) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(type, target URI, HTTP headers, decoded payload) of every record, digests checked."""
    return [
        (
            record.rec_type,
            record.rec_headers.get_header("WARC-Target-URI") or "",
            dict(record.http_headers.headers) if record.http_headers else {},
            record.content_stream().read(),
        )
        for record in each_record(path)
    ]


def test_every_response_is_a_warc_record_with_its_request(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    folder = tmp_path / "archive" / "warc"
    paths = warc_files(folder)  # one per pipeline the run opened
    assert paths and all(path.stat().st_mode & 0o777 == 0o600 for path in paths)
    assert not list((folder / OPEN_DIR).iterdir())  # closed cleanly
    found = [record for path in paths for record in records(path)]
    assert found[0][0] == "warcinfo"
    responses = {uri: (headers, body) for kind, uri, headers, body in found if kind == "response"}
    headers, body = responses[site.url("/feed.rss")]
    assert body == load_fixture("feed.rss", site.base)
    assert headers["Content-Type"] == RSS
    page = site.url("/2018/07/sensetime-singapore/")
    assert responses[page][1] == load_fixture("sensetime.html", site.base)
    requests = [headers for kind, uri, headers, _ in found if kind == "request" and uri == page]
    assert requests and requests[0]["User-Agent"].startswith("ingest/")
    # the database keeps where each response is, not its bytes
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        rows = conn.execute(
            "SELECT r.warc_file, r.offset, r.length, r.uri, r.payload_digest FROM article a"
            " JOIN raw_response r ON r.id = a.page_raw_id"
        ).fetchall()
        in_db = conn.execute(
            "SELECT (SELECT count(*) FROM fetch_log WHERE blob IS NOT NULL),"
            " (SELECT count(*) FROM article WHERE page_blob IS NOT NULL)"
        ).fetchone()
    assert in_db == (0, 0)
    assert len(rows) == 3
    for warc_file, offset, length, uri, digest in rows:
        response = read_response(folder, warc_file, offset, length)
        assert (response.uri, response.payload_digest) == (uri, digest)
        assert response.body == responses[uri][1]
    # `show --raw`: the original response, headers and body
    article_id = conn_article(tmp_path, page)
    shown = subprocess.run(
        [sys.executable, "-m", "ingest", "show", str(article_id), "--raw"],
        cwd=cli.cwd,
        env=cli.env(),
        capture_output=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    head, _, body = shown.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Type: text/html" in head
    assert body == load_fixture("sensetime.html", site.base)


def test_redirects_followed_are_archived_too(cli: Cli, site: Site, tmp_path: Path) -> None:
    """A 301 on the way is a response of its own: its record (body included) and request, a
    row in raw_response, so `ingest check` finds nothing unreferenced."""
    site.serve("/minimal.rss", "minimal.rss", RSS)
    moved = b"<html><body>Moved to /minimal.rss</body></html>"
    site.server.expect_request("/old.rss").respond_with_data(
        moved, status=301, content_type="text/html", headers={"Location": "/minimal.rss"}
    )
    cli("feeds", "add", site.url("/old.rss"))
    assert cli("fetch", "--no-fulltext").returncode == 0
    found = [
        (
            dict(record.rec_headers.headers),
            record.http_headers.get_statuscode() if record.http_headers else "",
            record.content_stream().read(),
        )
        for record in each_record(*warc_files(tmp_path / "archive" / "warc"))
    ]
    hops = [
        (head, code, body)
        for head, code, body in found
        if head.get("WARC-Target-URI") == site.url("/old.rss") and head["WARC-Type"] != "request"
    ]
    assert hops and {code for _, code, _ in hops} == {"301"}
    first = next(h for h in hops if h[0]["WARC-Type"] == "response")
    assert first[2] == moved
    requests = {h["WARC-Concurrent-To"] for h, _, _ in found if h["WARC-Type"] == "request"}
    assert all(head["WARC-Record-ID"] in requests for head, _, _ in hops)
    final = [h for h, _, _ in found if h.get("WARC-Target-URI") == site.url("/minimal.rss")]
    assert {h["WARC-Type"] for h in final} >= {"response", "request"}
    checked = cli("check")
    assert checked.returncode == 0 and "orphan" not in checked.stdout, checked.stdout


def test_feeds_add_archives_what_it_fetched(cli: Cli, site: Site, tmp_path: Path) -> None:
    """The page a feed is discovered from, and a feed that failed at `feeds add`, are
    responses like any other: archived and logged under the feed."""
    site.serve_all()
    site.server.expect_request("/gone.rss").respond_with_data(
        b"<html>no feed here</html>", status=404, content_type="text/html"
    )
    assert cli("feeds", "add", site.url("/")).returncode == 0  # discovers /feed.rss
    assert cli("feeds", "add", site.url("/gone.rss")).returncode == 0  # added, failing
    responses = {
        record.rec_headers.get_header("WARC-Target-URI"): (
            record.http_headers.get_statuscode(),
            record.content_stream().read(),
        )
        for record in each_record(*warc_files(tmp_path / "archive" / "warc"))
        if record.rec_type == "response"
    }
    assert responses[site.url("/")] == ("200", load_fixture("index.html", site.base))
    assert responses[site.url("/gone.rss")] == ("404", b"<html>no feed here</html>")
    assert responses[site.url("/feed.rss")][0] == "200"
    log = json.loads(cli("log", "--format", "json").stdout)
    feeds = {f["url"]: f["id"] for f in json.loads(cli("feeds", "list", "-f", "json").stdout)}
    rows = {row["url"]: row for row in log}
    assert rows[site.url("/")]["feed_id"] == feeds[site.url("/feed.rss")]
    assert rows[site.url("/gone.rss")]["feed_id"] == feeds[site.url("/gone.rss")]
    assert all(rows[url]["raw_id"] is not None for url in (site.url("/"), site.url("/gone.rss")))


def conn_article(tmp_path: Path, url: str) -> int:
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        return conn.execute("SELECT id FROM article WHERE url = ?", (url,)).fetchone()[0]


def test_304_and_repeated_payloads_are_revisits_and_gzip_is_kept_as_sent(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    feed = load_fixture("minimal.rss", site.base)

    def validated(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(feed, content_type=RSS, headers={"ETag": '"v1"'})

    packed = gzip.compress(feed)
    site.server.expect_request("/etag.rss").respond_with_handler(validated)
    site.server.expect_request("/plain.rss").respond_with_data(
        packed, content_type=RSS, headers={"Content-Encoding": "gzip"}
    )
    for path in ("/etag.rss", "/plain.rss"):
        cli("feeds", "add", site.url(path))
    for _ in range(2):
        assert cli("fetch", "--no-fulltext").returncode == 0
    found = [r for path in warc_files(tmp_path / "archive" / "warc") for r in records(path)]
    kinds = [(kind, uri.rsplit("/", 1)[-1]) for kind, uri, _, _ in found]
    # one full response each, then only revisits: 304s, or the same payload digest
    for name in ("etag.rss", "plain.rss"):
        assert kinds.count(("response", name)) == 1
        assert kinds.count(("revisit", name)) >= 2
        assert kinds.count(("request", name)) == kinds.count(("revisit", name)) + 1
    gzipped = next(r for r in found if r[0] == "response" and r[1].endswith("/plain.rss"))
    assert gzipped[2]["Content-Encoding"] == "gzip" and gzipped[3] == feed  # decoded by warcio
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        revisit = conn.execute(
            "SELECT o.record_type, o.uri, r.status FROM raw_response r JOIN raw_response o"
            " ON o.id = r.refers_to WHERE r.record_type = 'revisit'"
        ).fetchall()
    # every revisit refers to the one response holding the payload: for /etag.rss the 200 that
    # gave the ETag, which its 304s confirm
    assert {(kind, uri) for kind, uri, _ in revisit} == {
        ("response", site.url("/etag.rss")),
        ("response", site.url("/plain.rss")),
    }
    assert sorted(status for _, uri, status in revisit if uri.endswith("/etag.rss")) == [304, 304]
    # and the WARC records say so, as WARC/1.1 asks (WARC-Refers-To and its target and date)
    heads = [h for path in warc_files(tmp_path / "archive" / "warc") for h in warc_headers(path)]
    originals = {h["WARC-Target-URI"]: h for h in heads if h["WARC-Type"] == "response"}
    profiles = {
        "etag.rss": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
        "plain.rss": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    }
    for name, profile in profiles.items():
        original = originals[site.url(f"/{name}")]
        revisits = [
            h for h in heads if h["WARC-Type"] == "revisit" and h["WARC-Target-URI"].endswith(name)
        ]
        assert len(revisits) == 2
        for head in revisits:
            assert head["WARC-Profile"] == profile
            assert head["WARC-Refers-To"] == original["WARC-Record-ID"]
            assert head["WARC-Refers-To-Target-URI"] == original["WARC-Target-URI"]
            assert head["WARC-Refers-To-Date"] == original["WARC-Date"]
            assert ("WARC-Payload-Digest" in head) == (name == "plain.rss")


def warc_headers(path: Path) -> list[dict[str, str]]:
    """The WARC header fields of every record (digests checked on the way)."""
    return [dict(record.rec_headers.headers) for record in each_record(path)]


def test_error_responses_and_robots_txt_are_archived_with_their_requests(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """404 and 503 bodies and robots.txt are responses like any other: WARC records with their
    requests, referenced from the fetch log, printed by `log --raw` and `show --raw`."""
    gone = b"<html><body><h1>Not here</h1>" + b"<p>moved on</p>" * 50 + b"</body></html>"
    down = b"<html>" + b"maintenance, back soon " * 4000 + b"</html>"  # ~92 KB, over the cap
    robots = b"User-agent: *\nAllow: /\n"
    site.serve("/feed.rss", "feed.rss", RSS)
    site.serve("/2018/07/sensetime-singapore/", "sensetime.html", "text/html")
    site.server.expect_request("/2018/07/other-1/").respond_with_data(
        gzip.compress(gone),
        status=404,
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )
    site.server.expect_request("/2018/07/other-2/").respond_with_data(
        down, status=503, content_type="text/html"
    )
    site.server.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch", INGEST_MAX_PAGE_BYTES="65536").returncode == 0
    folder = tmp_path / "archive" / "warc"
    found: list[tuple[dict[str, str], dict[str, str], str, bytes]] = [
        (
            dict(record.rec_headers.headers),
            dict(record.http_headers.headers) if record.http_headers else {},
            record.http_headers.get_statuscode() if record.http_headers else "",
            record.content_stream().read(),
        )
        for record in each_record(*warc_files(folder))
    ]
    responses = {
        h["WARC-Target-URI"]: (h, s, b) for h, _, s, b in found if h["WARC-Type"] == "response"
    }
    requests = {
        h["WARC-Concurrent-To"]: h["WARC-Target-URI"]
        for h, *_ in found
        if h["WARC-Type"] == "request"
    }
    head, status, body = responses[site.url("/robots.txt")]
    assert (status, body) == ("200", robots)
    head, status, body = responses[site.url("/2018/07/other-1/")]
    assert (status, body) == ("404", gone) and "WARC-Truncated" not in head
    head, status, body = responses[site.url("/2018/07/other-2/")]
    # over max_page_bytes decoded: what was read is kept, and the record says it was cut
    assert status == "503" and head["WARC-Truncated"] == "length"
    assert len(body) == 65536 and down.startswith(body)
    for uri, (head, _, _) in responses.items():
        assert requests[head["WARC-Record-ID"]] == uri  # each with the request that got it
    # the fetch log points at them: robots.txt is an attempt of its own
    log = json.loads(cli("log", "--format", "json").stdout)
    by_url = {row["url"]: row for row in log}
    assert by_url[site.url("/robots.txt")]["kind"] == "robots"
    for path in ("/robots.txt", "/2018/07/other-1/", "/2018/07/other-2/"):
        assert by_url[site.url(path)]["raw_id"] is not None
    shown = cli("log", "--raw", str(by_url[site.url("/2018/07/other-1/")]["id"]))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("HTTP/1.1 404 NOT FOUND\n")  # (text mode: CRLF read as LF)
    assert shown.stdout.endswith(gone.decode())
    cut = cli("log", "--raw", str(by_url[site.url("/2018/07/other-2/")]["id"]))
    assert "503" in cut.stdout.splitlines()[0] and "WARC-Truncated: length" in cut.stderr
    # the article whose page answered 404 shows that response; it keeps the feed's text and
    # is not re-extracted from the error page
    article_id = conn_article(tmp_path, site.url("/2018/07/other-1/"))
    page = cli("show", str(article_id), "--raw")
    assert page.stdout.startswith("HTTP/1.1 404") and page.stdout.endswith(gone.decode())
    assert "1 unchanged" in cli("reextract").stderr  # the sensetime page only
    missing = cli("log", "--raw", "999999")
    assert missing.returncode == 2 and "no fetch attempt 999999" in missing.stderr
    checked = cli("check")  # cut records included: each matches its row and its digest
    assert checked.returncode == 0 and "orphan" not in checked.stdout, checked.stdout


def fetched(url: str, body: bytes, status: int = 200) -> FetchResult:
    exchange = Exchange(
        "GET",
        url,
        (("Host", "example.org"), ("User-Agent", "test")),
        "1.1",
        "OK",
        (("Content-Type", "text/html"), ("Content-Length", str(len(body)))),
    )
    return FetchResult(url, url, status, {"content-type": "text/html"}, body, exchange=exchange)


WRITER = """
import os
import sys
from pathlib import Path
from tests.test_warc import fetched
from ingest.warc.writer import WarcWriter
writer = WarcWriter(Path(sys.argv[1]), 1 << 40)
name = sys.argv[2]
for i in range(int(sys.argv[3])):
    writer.write(fetched(f"http://{name}.example/{i}", os.urandom(100_000 + i)))
    print(i, flush=True)
writer.close()
"""


def test_a_record_cut_by_kill_9_is_quarantined_at_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "warc"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), "k", "100000"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert child.stdout is not None
    while int(child.stdout.readline()) < 20:
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    [path] = warc_files(folder)
    # cut the last record for certain (the kill may have landed between two records)
    size = path.stat().st_size
    with path.open("r+b") as stream:
        stream.truncate(size - 1000)
    WarcWriter(folder, 1 << 30)  # a writer starting up repairs what a crash left
    kept = records(path)  # every remaining record is whole, digests verified
    responses = [r[1] for r in kept if r[0] == "response"]
    assert len(responses) >= 20
    assert responses == [f"http://k.example/{i}" for i in range(len(responses))]
    [partial] = (folder / "quarantine").iterdir()
    assert partial.stat().st_size == size - 1000 - path.stat().st_size
    assert not list((folder / OPEN_DIR).iterdir())
    assert recover(folder) == []  # repaired once


def test_a_live_writers_file_is_left_alone(tmp_path: Path) -> None:
    live = WarcWriter(tmp_path, 1 << 30)
    live.write(fetched("http://a.example/", b"<html>a</html>"))
    [path] = warc_files(tmp_path)
    assert recover(tmp_path) == []  # locked by its writer: not a crash
    assert complete_length(path) == path.stat().st_size
    live.close()


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    folder = tmp_path / "warc"
    folder.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), name, "30"],
            stdout=subprocess.DEVNULL,
            cwd=Path(__file__).parents[1],
        )
        for name in ("p", "q")
    ]
    writer = WarcWriter(folder, 1 << 30)  # and four threads of this process on one writer
    threads = [
        threading.Thread(
            target=lambda n=n: [
                writer.write(fetched(f"http://t.example/{n}/{i}", b"x" * (1000 * i + n)))
                for i in range(30)
            ]
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    files = warc_files(folder)
    assert len(files) == 3
    hosts = []
    for path in files:
        found = records(path)
        uris = {uri.split("/")[2] for kind, uri, _, _ in found if kind != "warcinfo"}
        assert len(uris) == 1  # one writer per file
        hosts.append((uris.pop(), sum(kind == "response" for kind, *_ in found)))
    assert sorted(hosts) == [("p.example", 30), ("q.example", 30), ("t.example", 120)]


def test_files_rotate_past_the_size_limit(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, 1 << 16)
    for i in range(10):
        writer.write(fetched(f"http://r.example/{i}", os.urandom(30_000)))
    writer.close()
    files = warc_files(tmp_path)
    assert len(files) == 4  # 3 fetches of 30 kB pass 64 KiB
    assert sum(len(records(p)) for p in files) == 4 + 2 * 10
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)


def test_bodies_refused_or_cut_short_are_archived_as_read_and_marked_truncated(
    web: RawSite, cli: Cli, tmp_path: Path
) -> None:
    """A PDF refused unread, a page refused by its Content-Length, a chunked page that passes
    the cap and one that stalls mid-body: each a response record with its request, its exact
    headers and what was read of its body (maybe nothing), marked WARC-Truncated; never taken
    for a whole page (not extracted, not re-extracted); `ingest check` passes them."""
    cap = 65536
    big = b"<html><body>" + b"<p>too long to keep</p>" * 10_000 + b"</body></html>"
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    sent_before_stall = b"<html><head><title>Slow</title></head><body><p>first part"

    def chunked(_request: FaultRequest) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
        for start in range(0, len(big), 16_384):
            piece = big[start : start + 16_384]
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
        yield b"0\r\n\r\n"

    def stall(_request: FaultRequest) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n"
        yield sent_before_stall
        time.sleep(4)  # past the 2 s deadline of the fetch: the client gives up mid-body

    pages = {
        "/paper.pdf": ("not_html", "unspecified", b""),
        "/huge.html": ("too_large", "length", b""),
        "/chunked.html": ("too_large", "length", None),  # a prefix past the cap
        "/stall.html": ("timeout", "time", sent_before_stall),
    }
    web.serve("/paper.pdf", 200, pdf, Content_Type="application/pdf")
    web.serve("/huge.html", 200, big, Content_Type="text/html")
    web.route("/chunked.html", chunked)
    web.route("/stall.html", stall)
    items = [
        {"title": f"Item {n}", "link": web.url(path), "guid": path, "description": f"Teaser {n}"}
        for n, path in enumerate(pages)
    ]
    web.serve("/feed.rss", 200, rss(web.base, items), Content_Type=FAULT_RSS)
    cli("feeds", "add", web.url("/feed.rss"))
    fetched = cli("fetch", INGEST_MAX_PAGE_BYTES=str(cap), INGEST_REQUEST_TIMEOUT="2")
    assert fetched.returncode == 0, fetched.stderr
    folder = tmp_path / "archive" / "warc"
    found = [
        (
            dict(record.rec_headers.headers),
            list(record.http_headers.headers) if record.http_headers else [],
            record.raw_stream.read(),  # the payload as read, no decoding
        )
        for record in each_record(*warc_files(folder))
    ]
    responses = {
        h["WARC-Target-URI"]: (h, hs, p) for h, hs, p in found if h["WARC-Type"] == "response"
    }
    requests = {h["WARC-Concurrent-To"]: h for h, _, _ in found if h["WARC-Type"] == "request"}
    for path, (_, cut, expected) in pages.items():
        head, _, payload = responses[web.url(path)]
        assert head["WARC-Truncated"] == cut, path
        assert requests[head["WARC-Record-ID"]]["WARC-Target-URI"] == web.url(path)
        assert head["WARC-Payload-Digest"] == payload_digest(payload)
        if expected is not None:
            assert payload == expected, path
    # the exact headers as received (chunked renamed: the payload is kept de-chunked)
    assert responses[web.url("/paper.pdf")][1] == [
        ("Connection", "close"),
        ("Content-Type", "application/pdf"),
        ("Content-Length", str(len(pdf))),
    ]
    assert responses[web.url("/chunked.html")][1] == [
        ("Content-Type", "text/html"),
        ("X-Archive-Orig-Transfer-Encoding", "chunked"),
    ]
    read_of_chunked = responses[web.url("/chunked.html")][2]
    assert cap < len(read_of_chunked) < len(big) and big.startswith(read_of_chunked)
    # each is referenced from its fetch-log row; the articles keep their feed's text
    log = {row["url"]: row for row in json.loads(cli("log", "--format", "json").stdout)}
    for path, (error_class, _, _) in pages.items():
        assert log[web.url(path)]["error_class"] == error_class
        assert log[web.url(path)]["raw_id"] is not None
    shown = json.loads(
        cli("show", str(conn_article(tmp_path, web.url("/huge.html"))), "-f", "json").stdout
    )
    assert shown["extraction"] == "feed" and "too long to keep" not in shown["text"]
    # show --raw, log --raw and the web say the record was cut short
    stalled = conn_article(tmp_path, web.url("/stall.html"))
    raw = cli("show", str(stalled), "--raw")
    assert raw.returncode == 0 and raw.stdout.startswith("HTTP/1.1 200 OK\n")
    assert raw.stdout.endswith(sent_before_stall.decode())
    assert "WARC-Truncated: time" in raw.stderr
    logged = cli("log", "--raw", str(log[web.url("/chunked.html")]["id"]))
    assert logged.returncode == 0 and "WARC-Truncated: length" in logged.stderr
    port = free_port()
    serving = cli.popen("serve", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, serving)
        with urllib.request.urlopen(f"{base}/articles/{stalled}/raw", timeout=30) as answer:
            assert answer.headers["WARC-Truncated"] == "time"
            assert answer.read().endswith(sent_before_stall)
        with urllib.request.urlopen(f"{base}/api/articles/{stalled}/raw", timeout=30) as answer:
            assert json.load(answer)["truncated"] == "time"
        with urllib.request.urlopen(f"{base}/articles/{stalled}", timeout=30) as answer:
            assert "the body was not kept whole (WARC-Truncated: time)" in answer.read().decode()
    finally:
        serving.terminate()
        serving.wait(10)
    # never re-extracted as a page; a standard record: `ingest check` is content
    again = cli("reextract")
    assert again.returncode == 0, again.stderr
    assert "re-extracted 0 articles" in again.stderr and "4 not re-extractable" in again.stderr
    checked = cli("check")
    assert checked.returncode == 0 and "orphan" not in checked.stdout, checked.stdout
    # exported as they are, still marked
    out = tmp_path / "export.warc.gz"
    assert cli("export", "--format", "warc", "-o", str(out)).returncode == 0
    exported = {h["WARC-Target-URI"]: h for h in warc_headers(out) if h["WARC-Type"] == "response"}
    assert {u: exported[web.url(u)].get("WARC-Truncated") for u in pages} == {
        u: cut for u, (_, cut, _) in pages.items()
    }


def test_no_revisit_refers_to_a_record_cut_short(cli: Cli, site: Site, tmp_path: Path) -> None:
    """A refused response is archived (cut short) but gave no validators: the 304 that follows
    confirms the whole response whose ETag was sent; and a whole empty body later is a
    response of its own, not a revisit of the refused one's (empty) payload."""
    feed = load_fixture("minimal.rss", site.base)
    answers = iter(["whole", "too large", "not modified", "empty"])

    def handler(request: Request) -> Response:
        answer = next(answers)
        if answer == "not modified":
            assert request.headers.get("If-None-Match") == '"v1"'
            return Response(status=304, headers={"ETag": '"v1"'})
        body = {"whole": feed, "too large": feed + b" " * 70_000, "empty": b""}[answer]
        return Response(body, content_type=RSS, headers={"ETag": '"v1"'})

    site.server.expect_request("/feed.rss").respond_with_handler(handler)
    cli("feeds", "add", site.url("/feed.rss"))  # the whole response
    assert cli("fetch", "--no-fulltext", INGEST_MAX_FEED_BYTES="65536").returncode == 1
    assert cli("fetch", "--no-fulltext").returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 1  # an empty body is no feed
    heads = [h for path in warc_files(tmp_path / "archive" / "warc") for h in warc_headers(path)]
    feeds = [h for h in heads if h["WARC-Type"] in ("response", "revisit")]
    whole, cut, revisit, empty = feeds
    assert "WARC-Truncated" not in whole and cut["WARC-Truncated"] == "length"
    assert revisit["WARC-Refers-To"] == whole["WARC-Record-ID"]
    assert cut["WARC-Payload-Digest"] == empty["WARC-Payload-Digest"]  # both empty
    assert empty["WARC-Type"] == "response" and "WARC-Truncated" not in empty
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        kept = conn.execute("SELECT record_id, truncated FROM raw_response ORDER BY id").fetchall()
    assert kept == [(h["WARC-Record-ID"], h.get("WARC-Truncated")) for h in feeds]


def test_a_304_names_its_record_from_the_database_or_from_the_file_for_older_rows(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """Each raw_response row keeps its record's WARC-Record-ID and WARC-Truncated (schema
    0011), so a 304 finds what its revisit names without reading the WARC file. Rows written
    before 0011 have neither: their record is read instead, and the revisit is the same."""
    feed = load_fixture("minimal.rss", site.base)

    def validated(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(feed, content_type=RSS, headers={"ETag": '"v1"'})

    site.server.expect_request("/feed.rss").respond_with_handler(validated)
    cli("feeds", "add", site.url("/feed.rss"))
    database = tmp_path / "archive" / "ingest.db"
    assert cli("fetch", "--no-fulltext").returncode == 0  # a 304 named from the row
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT record_type, record_id, truncated FROM raw_response").fetchall()
        conn.execute("UPDATE raw_response SET record_id = NULL, truncated = NULL")
    assert cli("fetch", "--no-fulltext").returncode == 0  # a 304 named from the file
    heads = [h for path in warc_files(tmp_path / "archive" / "warc") for h in warc_headers(path)]
    original, *revisits = [h for h in heads if h["WARC-Type"] in ("response", "revisit")]
    assert rows == [
        ("response", original["WARC-Record-ID"], None),
        ("revisit", revisits[0]["WARC-Record-ID"], None),
    ]
    assert [h["WARC-Type"] for h in revisits] == ["revisit", "revisit"]
    assert {h["WARC-Refers-To"] for h in revisits} == {original["WARC-Record-ID"]}
