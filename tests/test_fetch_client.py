"""Fetcher behaviour against real servers on 127.0.0.1: each test pins one FetchResult outcome."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import brotli
import pytest
from pytest_httpserver import HTTPServer

from ingest.config import Settings
from ingest.errors import ErrorClass
from ingest.fetch import Fetcher, HostGate
from ingest.records import FetchResult, Validators

pytestmark = pytest.mark.timeout(30)  # safety net only

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "host_delay": 0,
        "connect_timeout": 1,
        "request_timeout": 3,
        "respect_robots": False,
    }
    return Settings(**(base | overrides))


def run_feed(url: str, validators: Validators | None = None, **overrides: Any) -> FetchResult:
    async def main() -> FetchResult:
        async with Fetcher(settings(**overrides)) as fetcher:
            return await fetcher.fetch_feed(url, validators)

    return asyncio.run(main())


# --- a raw HTTP server for faults a well-behaved server cannot produce ------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


Handler = Callable[[str, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    port: int = 0
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def response(status: int, body: bytes = b"", **headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[RawServer]:
    """One response per connection; `handler` writes it (whole, partial or slowly)."""
    server = RawServer()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split()[1]
            pairs = (line.split(":", 1) for line in head[1:] if ":" in line)
            headers = {name.strip().lower(): value.strip() for name, value in pairs}
            server.seen.append(Seen(path, headers, time.monotonic()))
            await handler(path, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server


def routes(table: dict[str, bytes]) -> Handler:
    async def handler(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(table.get(path, response(404)))

    return handler


def run_raw(handler: Handler, path: str = "/", **overrides: Any) -> tuple[FetchResult, RawServer]:
    async def main() -> tuple[FetchResult, RawServer]:
        async with raw_server(handler) as server, Fetcher(settings(**overrides)) as fetcher:
            return await fetcher.fetch_feed(server.url(path)), server

    return asyncio.run(main())


# --- success, validators, encodings -----------------------------------------------------------


def test_plain_feed_is_fetched_with_headers(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/feed").respond_with_data(
        FEED, content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    result = run_feed(httpserver_ipv4.url_for("/feed"))
    assert result.ok and result.status == 200 and result.body == FEED
    assert result.headers["etag"] == '"v1"'
    assert result.bytes_read == len(FEED) and result.duration_ms >= 0
    sent = httpserver_ipv4.log[0][0].headers
    assert sent["User-Agent"].startswith("ingest/")
    assert "application/rss+xml" in sent["Accept"]
    assert sent["Accept-Encoding"] == "gzip, deflate, br"


def test_conditional_get_sends_validators_and_304_is_not_modified(
    httpserver_ipv4: HTTPServer,
) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    httpserver_ipv4.expect_request(
        "/feed", headers={"If-None-Match": '"v1"', "If-Modified-Since": stamp}
    ).respond_with_data(b"", status=304, headers={"ETag": '"v1"'})
    result = run_feed(httpserver_ipv4.url_for("/feed"), Validators('"v1"', stamp))
    assert result.not_modified and result.ok
    assert result.body is None and result.error_class is None
    assert result.validators.etag == '"v1"'


def test_gzip_body_is_decoded() -> None:
    result, _ = run_raw(routes({"/": response(200, gzip.compress(FEED), Content_Encoding="gzip")}))
    assert result.ok and result.body == FEED


def test_brotli_body_is_decoded() -> None:
    result, _ = run_raw(routes({"/": response(200, brotli.compress(FEED), Content_Encoding="br")}))
    assert result.ok and result.body == FEED


# --- redirects --------------------------------------------------------------------------------


def test_permanent_redirect_chain_is_recorded() -> None:
    async def handler(path: str, writer: asyncio.StreamWriter) -> None:
        table = {
            "/a": response(301, Location="/b"),
            "/b": response(308, Location="/c"),
            "/c": response(200, FEED),
        }
        writer.write(table[path])

    result, server = run_raw(handler, "/a")
    assert result.ok and result.body == FEED
    assert result.redirects == ((301, server.url("/b")), (308, server.url("/c")))
    assert result.final_url == server.url("/c") and result.url == server.url("/a")


def test_temporary_redirect_is_recorded() -> None:
    result, server = run_raw(
        routes({"/a": response(302, Location="/b"), "/b": response(200, FEED)}), "/a"
    )
    assert result.ok
    assert result.redirects == ((302, server.url("/b")),)
    assert result.final_url == server.url("/b")


def test_redirect_loop_is_refused() -> None:
    handler = routes({"/x": response(302, Location="/y"), "/y": response(302, Location="/x")})
    result, server = run_raw(handler, "/x")
    assert result.error_class == ErrorClass.REDIRECTS and "loop" in (result.error or "")
    assert [seen.path for seen in server.seen] == ["/x", "/y"]


def test_redirect_chain_longer_than_max_is_refused() -> None:
    table = {f"/r{i}": response(301, Location=f"/r{i + 1}") for i in range(10)}
    result, server = run_raw(routes(table), "/r0", max_redirects=2)
    assert result.error_class == ErrorClass.REDIRECTS
    assert len(server.seen) == 3 and len(result.redirects) == 3


def test_redirect_to_other_scheme_is_blocked() -> None:
    result, _ = run_raw(routes({"/": response(302, Location="file:///etc/passwd")}))
    assert result.error_class == ErrorClass.BLOCKED
    assert result.redirects == ((302, "file:///etc/passwd"),)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://h/"])
def test_non_http_scheme_is_blocked(url: str) -> None:
    result = run_feed(url)
    assert result.error_class == ErrorClass.BLOCKED and "http" in (result.error or "")
    assert result.status is None


# --- limits -----------------------------------------------------------------------------------


def test_dripping_server_hits_total_deadline() -> None:
    async def drip(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.5)

    result, _ = run_raw(drip, request_timeout=1)
    assert result.error_class == ErrorClass.TIMEOUT
    assert result.status == 200 and result.body is None
    assert result.headers["content-length"] == "100"


def test_oversized_body_is_too_large() -> None:
    big = b"x" * (2 * 2**20)
    result, _ = run_raw(routes({"/": response(200, big)}), max_feed_bytes=2**20)
    assert result.error_class == ErrorClass.TOO_LARGE and result.body is None


def test_oversized_chunked_body_is_cut_at_cap() -> None:
    async def chunked(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(40):
            writer.write(b"10000\r\n" + b"y" * 0x10000 + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")

    result, _ = run_raw(chunked, max_feed_bytes=2**20)
    assert result.error_class == ErrorClass.TOO_LARGE and result.body is None


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """100 MB of zeros, gzipped to about 100 KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(2**20)
    return b"".join(packer.compress(block) for _ in range(100)) + packer.flush()


def test_gzip_bomb_is_cut_at_cap_with_bounded_memory(gzip_bomb: bytes) -> None:
    tracemalloc.start()
    try:
        result, _ = run_raw(
            routes({"/": response(200, gzip_bomb, Content_Encoding="gzip")}),
            max_feed_bytes=2**20,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_class == ErrorClass.TOO_LARGE and result.body is None
    assert peak < 16 * 2**20  # a few times the 1 MB cap, nowhere near 100 MB
    assert result.exchange is not None and result.exchange.truncated == "length"
    wire = result.exchange.wire_body  # what was read, as received, for the archive only
    assert wire and gzip_bomb.startswith(wire)  # (it came in one piece, or a few)


def test_body_shorter_than_content_length_is_truncated() -> None:
    async def short(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"z" * 10)

    result, _ = run_raw(short)
    assert result.error_class == ErrorClass.TRUNCATED and result.body is None
    assert result.exchange is not None
    assert (result.exchange.wire_body, result.exchange.truncated) == (b"z" * 10, "disconnect")


def test_cut_gzip_stream_is_truncated() -> None:
    async def cut(path: str, writer: asyncio.StreamWriter) -> None:
        body = gzip.compress(FEED * 50)[:-20]
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
        writer.write(body)

    result, _ = run_raw(cut)
    assert result.error_class == ErrorClass.TRUNCATED and result.body is None
    assert result.exchange is not None
    sent = gzip.compress(FEED * 50)[:-20]
    assert len(result.exchange.wire_body or b"") == len(sent)  # all of it, its coding unended
    assert result.exchange.truncated == "unspecified"


def test_corrupt_gzip_is_not_read_further_and_archived_as_cut() -> None:
    async def corrupt(path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n")
        writer.write(b"\x1f\x8b\x08\x00" + b"not deflate at all, no" + b"!" * 14)

    result, _ = run_raw(corrupt)
    assert result.error_class == ErrorClass.NETWORK and result.body is None
    assert result.exchange is not None and result.exchange.truncated == "unspecified"


# --- status mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (410, ErrorClass.GONE),
        (404, ErrorClass.HTTP_CLIENT),
        (500, ErrorClass.HTTP_SERVER),
        (503, ErrorClass.HTTP_SERVER),  # without Retry-After
    ],
)
def test_http_status_maps_to_error_class(
    httpserver_ipv4: HTTPServer, status: int, error_class: ErrorClass
) -> None:
    httpserver_ipv4.expect_request("/feed").respond_with_data(
        b"nope", status=status, headers={"Cache-Control": "max-age=60"}
    )
    result = run_feed(httpserver_ipv4.url_for("/feed"))
    assert result.status == status and result.error_class == error_class
    assert result.body is None and not result.ok
    assert result.headers["cache-control"] == "max-age=60"


def retry_after_seconds() -> str:
    return "120"


def retry_after_date() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)


@pytest.mark.parametrize("value", [retry_after_seconds, retry_after_date])
def test_429_blocks_the_host_and_later_requests_skip_the_server(
    httpserver_ipv4: HTTPServer, value: Callable[[], str]
) -> None:
    httpserver_ipv4.expect_request("/feed").respond_with_data(
        b"slow down", status=429, headers={"Retry-After": value()}
    )
    url = httpserver_ipv4.url_for("/feed")
    gate = HostGate(concurrency=2, delay=0)

    async def main() -> tuple[FetchResult, FetchResult, datetime | None]:
        async with Fetcher(settings(), gate) as fetcher:
            first = await fetcher.fetch_feed(url)
            second = await fetcher.fetch_feed(url)
        return first, second, await gate.acquire(f"127.0.0.1:{httpserver_ipv4.port}")

    first, second, blocked = asyncio.run(main())
    assert first.error_class == ErrorClass.RATE_LIMITED and first.status == 429
    assert first.headers["retry-after"]
    assert second.error_class == ErrorClass.RATE_LIMITED and second.status is None
    assert (second.error or "").startswith("rate-limited until ")
    assert blocked is not None and blocked > datetime.now(UTC) + timedelta(seconds=60)
    assert len(httpserver_ipv4.log) == 1


def test_503_with_retry_after_is_rate_limited(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/feed").respond_with_data(
        b"", status=503, headers={"Retry-After": "30"}
    )
    result = run_feed(httpserver_ipv4.url_for("/feed"))
    assert result.error_class == ErrorClass.RATE_LIMITED


def test_retry_after_is_capped_by_max_cache_age(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/feed").respond_with_data(
        b"", status=429, headers={"Retry-After": "999999"}
    )
    gate = HostGate(concurrency=1, delay=0)

    async def main() -> datetime | None:
        async with Fetcher(settings(max_cache_age=60), gate) as fetcher:
            await fetcher.fetch_feed(httpserver_ipv4.url_for("/feed"))
        return await gate.acquire(f"127.0.0.1:{httpserver_ipv4.port}")

    blocked = asyncio.run(main())
    assert blocked is not None and blocked <= datetime.now(UTC) + timedelta(seconds=61)


def test_connection_refused_is_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_feed(f"http://127.0.0.1:{port}/feed")
    assert result.error_class == ErrorClass.NETWORK and result.status is None


# --- pages and politeness ---------------------------------------------------------------------


def test_pdf_page_is_not_html_and_body_is_not_read(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/paper.pdf").respond_with_data(
        b"%PDF-1.7" + b"0" * 100_000, content_type="application/pdf"
    )

    async def main() -> FetchResult:
        async with Fetcher(settings(allow_networks=["127.0.0.0/8"])) as fetcher:
            return await fetcher.fetch_page(httpserver_ipv4.url_for("/paper.pdf"))

    result = asyncio.run(main())
    assert result.error_class == ErrorClass.NOT_HTML and result.status == 200
    assert result.body is None and result.bytes_read == 0
    assert result.content_type == "application/pdf"


def test_html_page_is_fetched(httpserver_ipv4: HTTPServer) -> None:
    page = b"<html><body><p>hello</p></body></html>"
    httpserver_ipv4.expect_request("/post").respond_with_data(
        page, content_type="text/html; charset=utf-8"
    )

    async def main() -> FetchResult:
        async with Fetcher(settings(allow_networks=["127.0.0.0/8"])) as fetcher:
            return await fetcher.fetch_page(httpserver_ipv4.url_for("/post"))

    result = asyncio.run(main())
    assert result.ok and result.body == page
    assert "text/html" in httpserver_ipv4.log[0][0].headers["Accept"]


def test_requests_to_one_host_are_spaced_by_host_delay() -> None:
    delay = 0.3

    async def main() -> RawServer:
        handler = routes({"/": response(200, FEED)})
        async with raw_server(handler) as server, Fetcher(settings(host_delay=delay)) as fetcher:
            await asyncio.gather(*(fetcher.fetch_feed(server.url("/")) for _ in range(3)))
            return server

    server = asyncio.run(main())
    starts = sorted(seen.at for seen in server.seen)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) == 3
    # Measured where the server reads the request: allow a few ms of connect jitter.
    assert all(gap >= delay - 0.02 for gap in gaps), gaps
