"""SSRF policy: pure tables over address spellings, then end to end against 127.0.0.1 servers.

Nothing here sends traffic outside 127.0.0.0/8: the forbidden addresses are refused by the
socket factory before `connect()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ingest.config import Settings
from ingest.errors import ErrorClass
from ingest.fetch import Fetcher
from ingest.fetch.urlpolicy import is_allowed, parse_networks
from ingest.records import FetchResult

pytestmark = pytest.mark.timeout(30)  # safety net only

PAGE = b"<html><body>article</body></html>"
NOTHING: frozenset[tuple[str, int]] = frozenset()


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",  # cloud metadata
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_inner_addresses_are_refused(ip: str) -> None:
    assert not is_allowed(ip, 80, allow=(), origin_addrs=NOTHING)


@pytest.mark.parametrize("ip", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(ip: str) -> None:
    assert is_allowed(ip, 443, allow=(), origin_addrs=NOTHING)


def test_origin_address_and_port_are_allowed_only_together() -> None:
    origin = frozenset({("10.0.0.5", 8080)})
    assert is_allowed("10.0.0.5", 8080, allow=(), origin_addrs=origin)
    assert is_allowed("::ffff:10.0.0.5", 8080, allow=(), origin_addrs=origin)
    assert not is_allowed("10.0.0.5", 8081, allow=(), origin_addrs=origin)
    assert not is_allowed("10.0.0.6", 8080, allow=(), origin_addrs=origin)


@pytest.mark.parametrize(
    ("spec", "ip", "port", "allowed"),
    [
        ("127.0.0.0/8", "127.0.0.2", 9, True),
        ("127.0.0.1:8080", "127.0.0.1", 8080, True),
        ("127.0.0.1:8080", "127.0.0.1", 8081, False),
        ("10.0.0.0/8:443", "10.1.2.3", 443, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:8080", "::1", 80, False),
        ("fd00::/8", "fd00::7", 1, True),
        ("::1", "::ffff:127.0.0.1", 80, False),
        ("192.168.0.0/16", "10.0.0.1", 80, False),
    ],
)
def test_allow_networks(spec: str, ip: str, port: int, allowed: bool) -> None:
    rules = parse_networks([spec])
    assert is_allowed(ip, port, allow=rules, origin_addrs=NOTHING) is allowed


@pytest.mark.parametrize("spec", ["nonsense", "10.0.0.0/33", "127.0.0.1:0", "[::1]x", "1.2.3.4:x"])
def test_bad_allow_networks_entry_is_an_error(spec: str) -> None:
    with pytest.raises(ValueError, match="allow_networks"):
        parse_networks([spec])


# --- end to end -------------------------------------------------------------------------------


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def fetch_page(url: str, origin: str | None = None, **overrides: Any) -> FetchResult:
    async def main() -> FetchResult:
        base: dict[str, Any] = {"host_delay": 0, "connect_timeout": 1, "request_timeout": 3}
        async with Fetcher(Settings(**(base | overrides))) as fetcher:
            return await fetcher.fetch_page(url, origin)

    return asyncio.run(main())


def serve_page(server: HTTPServer, path: str = "/post") -> str:
    server.expect_request(path).respond_with_data(PAGE, content_type="text/html")
    return server.url_for(path)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1",
        "0.0.0.0",
        "2130706433",
        "127.1",
        "0x7f.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ],
)
def test_loopback_spellings_are_blocked(httpserver_ipv4: HTTPServer, host: str) -> None:
    serve_page(httpserver_ipv4)
    result = fetch_page(f"http://{host}:{httpserver_ipv4.port}/post")
    assert result.error_class == ErrorClass.BLOCKED, result.error
    assert result.status is None and result.body is None
    assert httpserver_ipv4.log == []  # robots.txt included: nothing reached the server


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"])
def test_inner_network_is_blocked_before_connecting(url: str) -> None:
    result = fetch_page(url, connect_timeout=30)  # a real connect attempt would not be instant
    assert result.error_class == ErrorClass.BLOCKED
    assert result.duration_ms < 5000


def test_page_on_the_feeds_own_address_and_port_is_allowed(httpserver_ipv4: HTTPServer) -> None:
    url = serve_page(httpserver_ipv4)
    result = fetch_page(url, origin=httpserver_ipv4.url_for("/feed.xml"), respect_robots=False)
    assert result.ok and result.body == PAGE


def test_page_on_another_port_of_the_feeds_host_is_blocked(
    httpserver_ipv4: HTTPServer, other_server: HTTPServer
) -> None:
    url = serve_page(other_server)
    result = fetch_page(url, origin=httpserver_ipv4.url_for("/feed.xml"))
    assert result.error_class == ErrorClass.BLOCKED
    assert other_server.log == []


def test_redirect_from_origin_to_another_loopback_port_is_blocked(
    httpserver_ipv4: HTTPServer, other_server: HTTPServer
) -> None:
    target = serve_page(other_server, "/admin")
    httpserver_ipv4.expect_request("/post").respond_with_data(
        b"", status=302, headers={"Location": target}
    )
    result = fetch_page(
        httpserver_ipv4.url_for("/post"),
        origin=httpserver_ipv4.url_for("/feed.xml"),
        respect_robots=False,
    )
    assert result.error_class == ErrorClass.BLOCKED
    assert result.redirects == ((302, target),) and result.final_url == target
    assert other_server.log == []


def test_connection_opened_for_an_origin_is_not_reused_without_it(
    httpserver_ipv4: HTTPServer,
) -> None:
    url = serve_page(httpserver_ipv4)
    origin = httpserver_ipv4.url_for("/feed.xml")

    async def main() -> tuple[FetchResult, FetchResult]:
        settings = Settings(host_delay=0, respect_robots=False)
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch_page(url, origin), await fetcher.fetch_page(url)

    with_origin, without = asyncio.run(main())
    assert with_origin.ok
    assert without.error_class == ErrorClass.BLOCKED
    assert len(httpserver_ipv4.log) == 1


@pytest.mark.parametrize("spec", ["127.0.0.0/8", "127.0.0.1:{port}"])
def test_allow_networks_lets_pages_through(httpserver_ipv4: HTTPServer, spec: str) -> None:
    url = serve_page(httpserver_ipv4)
    allow = [spec.format(port=httpserver_ipv4.port)]
    result = fetch_page(url, allow_networks=allow, respect_robots=False)
    assert result.ok and result.body == PAGE


def test_feeds_may_live_on_loopback(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/feed.xml").respond_with_data(b"<rss/>")

    async def main() -> FetchResult:
        async with Fetcher(Settings(host_delay=0)) as fetcher:
            return await fetcher.fetch_feed(httpserver_ipv4.url_for("/feed.xml"))

    assert asyncio.run(main()).ok
