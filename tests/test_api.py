"""The HTTP API through the real `ingest serve` process on a loopback port."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Cli, Site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture
def api(cli: Cli, site: Site) -> Iterator[str]:
    site.serve_all()
    site.server.expect_request("/xss.rss").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>X</title><item><title>t</title>'
        '<guid>x1</guid><description>&lt;p onclick="alert(1)"&gt;hi&lt;script&gt;alert(2)'
        '&lt;/script&gt;&lt;a href="javascript:alert(3)"&gt;l&lt;/a&gt;&lt;/p&gt;</description>'
        "</item></channel></rss>",
        content_type="application/rss+xml",
    )
    cli("feeds", "add", site.url("/feed.rss"), site.url("/xss.rss"))
    assert cli("fetch").returncode == 0
    port = free_port()
    proc = cli.popen("serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(base + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(10)


def test_articles_are_listed_with_a_cursor(api: str) -> None:
    status, first = get(api + "/api/articles?limit=2")
    assert status == 200
    assert [a["id"] for a in first["articles"]] == [1, 2] and first["next"] == 2
    status, rest = get(api + f"/api/articles?after={first['next']}&limit=2")
    assert [a["id"] for a in rest["articles"]] == [3, 4] and rest["next"] == 4
    assert get(api + "/api/articles?after=4")[1] == {"articles": [], "next": None}


def test_one_article_with_sources(api: str) -> None:
    listed = get(api + "/api/articles?limit=10")[1]["articles"]
    [wanted] = [a for a in listed if a["title"].startswith("SenseTime Enters Singapore")]
    status, article = get(api + f"/api/articles/{wanted['id']}")
    assert status == 200
    assert article["text"] == wanted["text"] and article["extraction"] == "full"
    assert article["sources"][0]["feed_url"].endswith("/feed.rss")


def test_html_served_is_sanitized(api: str) -> None:
    [xss] = [a for a in get(api + "/api/articles?limit=10")[1]["articles"] if a["title"] == "t"]
    html = get(api + f"/api/articles/{xss['id']}")[1]["html"]
    assert "hi" in html
    for bad in ("<script", "onclick", "javascript:", "alert(2)"):
        assert bad not in html


def test_errors_are_json(api: str) -> None:
    assert get(api + "/api/articles/999") == (404, {"error": "no such article: 999"})
    assert get(api + "/api/articles/abc")[0] == 404
    status, body = get(api + "/api/articles?limit=0")
    assert status == 400 and "limit" in body["error"]


def test_search(api: str) -> None:
    status, body = get(api + "/api/search?q=Temasek")
    assert status == 200
    [hit] = body["hits"]
    assert hit["title"].startswith("SenseTime Enters Singapore") and "[Temasek]" in hit["snippet"]
    assert get(api + "/api/search?q=")[0] == 400


def test_feeds_with_health(api: str) -> None:
    status, body = get(api + "/api/feeds")
    assert status == 200
    assert [f["health"] for f in body["feeds"]] == ["ok", "ok"]
