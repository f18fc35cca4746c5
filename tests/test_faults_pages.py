"""Issue 3, limits and SSRF: oversized, bombed and truncated bodies, non-HTML pages, and links
that point inside the network. Served by loopback servers, run through the real batch."""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.faultsite import (
    RSS,
    RawSite,
    Request,
    open_test_archive,
    raw_site,
    response,
    rss,
)
from tests.fixturefiles import load_fixture

pytestmark = pytest.mark.timeout(120)  # safety net only

SENSETIME = "/2018/07/sensetime-singapore/"
OTHER_1 = "/2018/07/other-1/"
OTHER_2 = "/2018/07/other-2/"
CAP = 64 * 1024  # max_feed_bytes / max_page_bytes in these tests


@pytest.fixture
def other() -> Iterator[RawSite]:
    """Server B: an internal service a hostile feed would like us to reach."""
    yield from raw_site()


def gzip_bomb() -> bytes:
    """~64 MB of zeros in ~64 KB of gzip."""
    return gzip.compress(b"\0" * (64 * 2**20), compresslevel=9, mtime=0)


def oversized() -> bytes:
    return b"<html><body>" + b"x" * (CAP * 4) + b"</body></html>"


def fault(kind: str) -> bytes:
    """A response that must never be taken for a whole feed or page (archived cut short)."""
    if kind == "too_large":
        return response(200, oversized(), Content_Type="text/html")
    if kind == "bomb":
        return response(200, gzip_bomb(), Content_Type="text/html", Content_Encoding="gzip")
    body = b"<html><body><p>" + b"partial " * 500
    return response(200, body, Content_Type="text/html", Content_Length=str(len(body) * 2))


def stored(db_url: str) -> tuple[list[int | None], dict[str, tuple[str | None, bytes]]]:
    """Every article's raw page reference, and every archived response: its URI → its
    WARC-Truncated and its payload as received (content coding kept)."""
    path = Path(db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        pages = [row[0] for row in conn.execute("SELECT page_raw_id FROM article ORDER BY id")]
    responses = {}
    for warc in sorted((path.parent / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests="raise"):
                if record.rec_type == "response":
                    head = record.rec_headers
                    responses[head.get_header("WARC-Target-URI")] = (
                        head.get_header("WARC-Truncated"),
                        record.raw_stream.read(),
                    )
    return pages, responses


# what the archive keeps of each fault: refused by its Content-Length unread, the bomb until
# its decoded size passed the cap, the short body until the server closed
CUT = {"too_large": "length", "bomb": "length", "truncated": "disconnect"}


@pytest.mark.parametrize(
    ("kind", "error_class"),
    [("too_large", "too_large"), ("bomb", "too_large"), ("truncated", "truncated")],
)
def test_bad_feed_body_is_recorded_and_archived_only_as_cut_short(
    web: RawSite, db_url: str, kind: str, error_class: str
) -> None:
    web.route("/feed.rss", lambda _r: [fault(kind)])
    archive = open_test_archive(db_url, max_feed_bytes=CAP)
    feed_id = archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "failed"
    assert archive.feed(feed_id)["error_class"] == error_class
    assert archive.export() == []
    _, responses = stored(db_url)
    truncated, payload = responses[web.url("/feed.rss")]
    assert truncated == CUT[kind]
    assert fault(kind).endswith(payload) if kind != "bomb" else gzip_bomb().startswith(payload)
    assert (payload == b"") == (kind == "too_large")
    [entry] = archive.log(feed_id=feed_id)
    assert entry.error_class == error_class and entry.bytes <= 2 * CAP  # never read whole
    assert entry.raw_id is not None


def test_bad_pages_keep_the_feed_text_and_are_archived_only_as_cut_short(
    web: RawSite, db_url: str
) -> None:
    web.route(SENSETIME, lambda _r: [fault("too_large")])
    web.route(OTHER_1, lambda _r: [fault("bomb")])
    web.route(OTHER_2, lambda _r: [fault("truncated")])
    web.serve_site()
    archive = open_test_archive(db_url, max_page_bytes=CAP)
    archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "ok" and report.fallback == 3
    for path, reason in [(SENSETIME, "too_large"), (OTHER_1, "too_large"), (OTHER_2, "truncated")]:
        article = archive.article(web.url(path))
        assert article["extraction"] == "feed"
        assert article["extraction_error"].startswith(reason), article["extraction_error"]
        assert "partial" not in article["text"] and "xxxx" not in article["text"]
    pages, responses = stored(db_url)
    assert None not in pages  # each article points at what was archived of its page
    for path, kind in [(SENSETIME, "too_large"), (OTHER_1, "bomb"), (OTHER_2, "truncated")]:
        assert responses[web.url(path)][0] == CUT[kind]


def test_stalled_page_times_out_and_the_run_goes_on(web: RawSite, db_url: str) -> None:
    def drip(_request: Request) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
        for _ in range(10):
            time.sleep(0.2)
            yield b"x"

    web.route(SENSETIME, drip)
    web.serve_site()
    archive = open_test_archive(db_url, request_timeout=0.5)
    archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert (report.full, report.fallback) == (2, 1)
    assert archive.article(web.url(SENSETIME))["extraction_error"].startswith("timeout")


def test_pdf_link_is_not_extracted_and_the_reason_is_recorded(web: RawSite, db_url: str) -> None:
    web.serve(SENSETIME, 200, b"%PDF-1.4 binary", Content_Type="application/pdf")
    web.serve_site()
    archive = open_test_archive(db_url)
    archive.add(web.url("/feed.rss"))
    archive.fetch()
    article = archive.article(web.url(SENSETIME))
    assert article["extraction"] == "feed"
    assert article["extraction_error"].startswith("not_html")
    assert "memoranda of understanding" in article["text"]
    assert "PDF" not in article["text"]


def ssrf_links(b: RawSite) -> list[str]:
    port = b.port
    return [
        f"http://127.0.0.1:{port}/admin",
        f"http://localhost:{port}/admin",
        f"http://[::ffff:127.0.0.1]:{port}/admin",
        f"http://0.0.0.0:{port}/admin",
        f"http://2130706433:{port}/admin",
        f"http://127.1:{port}/admin",
        "http://169.254.169.254/latest/meta-data/",
    ]


def serve_ssrf_feed(web: RawSite, links: list[str]) -> None:
    items = [
        {"title": f"Link {i}", "link": link, "guid": f"g{i}", "description": f"Teaser {i}."}
        for i, link in enumerate(links)
    ]
    web.serve("/feed.rss", 200, rss(web.base, items), Content_Type=RSS)


def test_links_into_the_network_are_blocked_and_never_reached(
    web: RawSite, other: RawSite, db_url: str
) -> None:
    other.serve("/admin", 200, b"<html><body><p>secret admin</p></body></html>")
    links = ssrf_links(other)
    serve_ssrf_feed(web, links)
    archive = open_test_archive(db_url)
    feed_id = archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "ok"  # the feed itself: the user subscribed to it
    assert sum(other.hits.values()) == 0
    records = archive.export()
    assert len(records) == len(links)
    for record in records:
        shown = archive.article(record["url"])
        assert shown["extraction"] == "feed"
        assert shown["extraction_error"].startswith("blocked"), (record["url"], shown)
    pages = [e for e in archive.log(feed_id=feed_id) if e.kind == "page"]
    assert {e.error_class for e in pages} == {"blocked"}


def test_allow_networks_lets_a_listed_address_through(
    web: RawSite, other: RawSite, db_url: str
) -> None:
    body = (Path(__file__).parent / "fixtures" / "other-1.html").read_bytes()
    other.serve("/admin", 200, body, Content_Type="text/html; charset=utf-8")
    serve_ssrf_feed(web, [other.url("/admin"), "http://169.254.169.254/latest/meta-data/"])
    archive = open_test_archive(db_url, allow_networks=[f"127.0.0.1:{other.port}"])
    archive.add(web.url("/feed.rss"))
    archive.fetch()
    assert other.hits["/admin"] == 1
    assert archive.article(other.url("/admin"))["extraction"] == "full"
    metadata = archive.article("http://169.254.169.254/latest/meta-data/")
    assert metadata["extraction_error"].startswith("blocked")


def test_redirect_hop_from_the_origin_into_the_network_is_blocked(
    web: RawSite, other: RawSite, db_url: str
) -> None:
    other.serve("/admin", 200, b"<html><body><p>secret admin</p></body></html>")
    web.serve("/go", 302, Location=other.url("/admin"))
    serve_ssrf_feed(web, [web.url("/go")])
    archive = open_test_archive(db_url)
    archive.add(web.url("/feed.rss"))
    archive.fetch()
    assert web.hits["/go"] == 1  # the feed's own origin may be reached...
    assert sum(other.hits.values()) == 0  # ...but not where it redirects to
    assert archive.article(web.url("/go"))["extraction_error"].startswith("blocked")


def test_a_run_fetches_few_pages_ahead_of_what_it_has_saved(web: RawSite, db_url: str) -> None:
    """Fetching outruns extraction and writing; a run holds at most `concurrency + 4 × workers`
    fetched pages not yet saved, so a busy archive (or slow workers) does not pile every body
    up in memory. Here another writer locks the archive from the first page request until no
    page has been asked for 2 s (or a sixth one is): 5 pages (concurrency 1 + 4 × 1 worker) are
    requested meanwhile, not all 20, and every page is archived once the lock is gone."""
    pages = [f"/a/{n}/" for n in range(20)]
    items = [{"title": f"Story {n}", "link": web.url(p)} for n, p in enumerate(pages)]
    web.serve("/feed.rss", 200, rss(web.base, items), Content_Type=RSS)
    body = load_fixture("sensetime.html", web.base)
    database = db_url.removeprefix("sqlite:///")
    during, last = [], [time.monotonic()]  # page requests while locked; when the last came
    locked = threading.Event()

    def hold() -> None:
        """Lock the archive until the run stops asking (or asks a sixth page); well within the
        product's busy timeout (30 s), so its writes wait instead of failing."""
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started = last[0] = time.monotonic()
        locked.set()
        while (
            len(during) <= 5 and time.monotonic() - last[0] < 2 and time.monotonic() < started + 20
        ):
            time.sleep(0.05)
        locked.clear()
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)

    def page(request: Request) -> list[bytes]:
        if not holder.is_alive() and not during:
            holder.start()
            locked.wait(5)
        if locked.is_set():
            during.append(request.path)
            last[0] = time.monotonic()
        return [response(200, body, Content_Type="text/html")]

    for path in pages:
        web.route(path, page)
    archive = open_test_archive(db_url, concurrency=1, respect_robots=False)
    archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    holder.join()
    assert len(during) == 5, during
    assert report.full + report.fallback == 20 and web.page_hits() == 0
    assert sum(web.hits[p] for p in pages) == 20


@pytest.fixture
def second_host() -> Iterator[RawSite]:
    """Another host (127.0.0.2), with a politeness gate of its own."""
    yield from raw_site("127.0.0.2")


def test_pages_waiting_for_a_polite_host_hold_no_page_slot(
    web: RawSite, second_host: RawSite, db_url: str
) -> None:
    """A page takes its slot once its host admits the request: the 12 pages of a host that
    spaces requests 0.3 s apart hold none while they wait, so another host's pages are fetched
    in the meantime, not after them (the run has 5 slots: concurrency 1 + 4 × 1 worker)."""
    body = load_fixture("sensetime.html", web.base)
    arrivals: list[str] = []

    def page(request: Request) -> list[bytes]:
        arrivals.append(request.path)
        return [response(200, body, Content_Type="text/html")]

    def slow_feed(feed: bytes) -> Callable[[Request], Iterator[bytes]]:
        def handler(_request: Request) -> Iterator[bytes]:
            time.sleep(0.5)  # so the first host's pages are queued first
            yield response(200, feed, Content_Type=RSS)

        return handler

    for site, prefix, count in ((web, "/a", 12), (second_host, "/b", 3)):
        paths = [f"{prefix}/{n}/" for n in range(count)]
        items = [{"title": f"{prefix} {n}", "link": site.url(p)} for n, p in enumerate(paths)]
        for path in paths:
            site.route(path, page)
        feed = rss(site.base, items)
        if site is web:
            site.serve("/feed.rss", 200, feed, Content_Type=RSS)
        else:
            site.route("/feed.rss", slow_feed(feed))
    archive = open_test_archive(db_url, concurrency=1, host_delay=0.3, respect_robots=False)
    archive.add(web.url("/feed.rss"))
    archive.add(second_host.url("/feed.rss"))
    reports = archive.fetch().reports
    assert sum(r.full + r.fallback for r in reports) == 15
    first = [n for n, path in enumerate(arrivals) if path.startswith("/a/")]
    second = [n for n, path in enumerate(arrivals) if path.startswith("/b/")]
    assert max(second) < first[8], arrivals  # while the first host still had pages waiting
