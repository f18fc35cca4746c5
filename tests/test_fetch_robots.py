"""robots.txt: disallowed pages are refused, allowed ones fetched, rules cached per site."""

from __future__ import annotations

import asyncio

import pytest
from pytest_httpserver import HTTPServer

from ingest.config import Settings
from ingest.errors import ErrorClass
from ingest.fetch import Fetcher
from ingest.fetch.robots import agent_token
from ingest.records import FetchResult

pytestmark = pytest.mark.timeout(30)  # safety net only

ROBOTS = b"User-agent: *\nDisallow: /admin\n\nUser-agent: ingest\nDisallow: /private\n"


def fetch_pages(server: HTTPServer, *paths: str) -> list[FetchResult]:
    async def main() -> list[FetchResult]:
        settings = Settings(host_delay=0, allow_networks=["127.0.0.0/8"])
        async with Fetcher(settings) as fetcher:
            return [await fetcher.fetch_page(server.url_for(path)) for path in paths]

    return asyncio.run(main())


def requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def test_disallowed_page_is_refused_and_allowed_page_fetched(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data(ROBOTS)
    httpserver_ipv4.expect_request("/public").respond_with_data(
        b"<p>hi</p>", content_type="text/html"
    )
    httpserver_ipv4.expect_request("/admin").respond_with_data(b"<p/>", content_type="text/html")
    private, public, admin = fetch_pages(httpserver_ipv4, "/private/1", "/public", "/admin")
    assert private.error_class == ErrorClass.ROBOTS and private.status is None
    assert public.ok and public.body == b"<p>hi</p>"
    assert admin.ok  # "*" group does not apply: the "ingest" group matches us
    assert requested(httpserver_ipv4) == ["/robots.txt", "/public", "/admin"]


@pytest.mark.parametrize("status", [404, 500])
def test_missing_or_broken_robots_allows(httpserver_ipv4: HTTPServer, status: int) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data(b"", status=status)
    httpserver_ipv4.expect_request("/page").respond_with_data(b"<p/>", content_type="text/html")
    (result,) = fetch_pages(httpserver_ipv4, "/page")
    assert result.ok


def test_robots_is_ignored_when_disabled(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/private").respond_with_data(b"<p/>", content_type="text/html")

    async def main() -> FetchResult:
        settings = Settings(host_delay=0, allow_networks=["127.0.0.0/8"], respect_robots=False)
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch_page(httpserver_ipv4.url_for("/private"))

    assert asyncio.run(main()).ok
    assert requested(httpserver_ipv4) == ["/private"]


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [("ingest/0.1 (+https://x)", "ingest"), ("MyBot", "MyBot"), ("", "*")],
)
def test_agent_token(user_agent: str, token: str) -> None:
    assert agent_token(user_agent) == token
