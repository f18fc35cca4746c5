"""The JSON API through the real `ingest serve` process on a loopback port."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from ingest.store import listing
from ingest.store.engine import open_archive
from ingest.store.models import Article
from ingest.web import reads
from ingest.web.errors import Problem
from tests.conftest import Cli, Site
from tests.daemons import free_port, wait_for
from tests.webarchive import SEED_TITLE, Served, wait_until_serving


def test_articles_are_summaries_listed_with_a_cursor(served: Served) -> None:
    status, first = served.get("/api/articles?limit=2")
    assert status == 200
    assert [a["id"] for a in first["articles"]] == [1, 2] and first["next"] == 2
    assert "text" not in first["articles"][0]  # lists never carry texts
    rest = served.get(f"/api/articles?after={first['next']}&limit=2")[1]
    assert [a["id"] for a in rest["articles"]] == [3, 4] and rest["next"] == 4
    assert served.get("/api/articles?after=4")[1] == {"articles": [], "next": None}


def test_list_filters_are_the_clis(served: Served) -> None:
    everything = served.get("/api/articles?limit=50")[1]["articles"]
    of_feed_2 = served.get("/api/articles?feed=2")[1]["articles"]
    assert [a["title"] for a in of_feed_2] == ["t <script>alert(9)</script>"]
    by_url = served.get("/api/articles?feed=" + quote(served.site.url("/xss.rss")))[1]
    assert by_url["articles"] == of_feed_2
    july = served.get("/api/articles?since=2018-07-01&until=2018-07-01")[1]["articles"]
    assert [a["title"] for a in july] == ["Meituan Tests Drone Deliveries for Food Orders in "
                                          "Beijing Suburbs"]  # fmt: skip
    assert len(everything) == 4
    for bad in ("feed=99", "since=yesterday", "lang=%3Cx%3E", "feed=%C2%B2", "with_duplicates=2"):
        status, body = served.get("/api/articles?" + bad)
        assert status == 400 and body["error"], bad


def test_one_article_with_sources_and_revisions(served: Served) -> None:
    seed = served.seed_id()
    status, article = served.get(f"/api/articles/{seed}")
    assert status == 200 and article["extraction"] == "full"
    assert article["sources"][0]["feed_url"].endswith("/feed.rss")
    status, body = served.get(f"/api/articles/{seed}/revisions")
    assert status == 200
    assert [v["revision"] for v in body["revisions"]] == [1, 2]
    assert body["revisions"][0]["text"] is None
    texts = served.get(f"/api/articles/{seed}/revisions?text=1")[1]["revisions"]
    assert texts[1]["text"] == article["text"]


def test_the_original_response_is_described(served: Served) -> None:
    seed = served.seed_id()
    status, raw = served.get(f"/api/articles/{seed}/raw")
    assert status == 200 and raw["status_line"].startswith("HTTP/1.1 200")
    assert raw["uri"].endswith("/2018/07/sensetime-singapore/") and raw["record_type"] == "response"
    assert ["Content-Type", "text/html; charset=utf-8"] in raw["headers"]
    assert raw["payload_digest"].startswith("sha1:") and raw["body"] == f"/articles/{seed}/raw"
    message = served.fetch(raw["body"])[1].encode()
    assert len(message.partition(b"\r\n\r\n")[2]) == raw["body_bytes"]
    # a feed item whose link answered an error: that response is its page's, archived too
    hostile = served.get("/api/articles?feed=2")[1]["articles"][0]["id"]
    status, raw = served.get(f"/api/articles/{hostile}/raw")
    assert status == 200 and re.match(r"HTTP/1\.1 [45]\d\d ", raw["status_line"])


def test_an_article_without_an_archived_page_has_no_raw_response(tmp_path: Path) -> None:
    engine = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.begin() as conn:  # a feed item never fetched as a page
        article_id = conn.execute(sa.insert(Article).values(title="t")).inserted_primary_key[0]
    for read in (reads.raw_message, reads.raw_record):
        with pytest.raises(Problem) as refused:
            read(engine, tmp_path / "warc", article_id)
        assert refused.value.status == 404
        assert str(refused.value) == f"article {article_id} has no archived page"
        with pytest.raises(Problem, match=f"no such article: {article_id + 1}"):
            read(engine, tmp_path / "warc", article_id + 1)
    assert not listing.raw_page_kept(engine, article_id)


def test_html_served_is_sanitized(served: Served) -> None:
    listed = served.get("/api/articles?feed=2")[1]["articles"]
    html = served.get(f"/api/articles/{listed[0]['id']}")[1]["html"]
    assert "hi" in html
    for bad in ("<script", "onclick", "javascript:", "alert(2)"):
        assert bad not in html


def test_search_with_filters_and_cursor(served: Served) -> None:
    status, body = served.get("/api/search?q=Temasek")
    assert status == 200
    [hit] = body["hits"]
    assert hit["title"] == SEED_TITLE
    assert [hit["snippet"][a:b] for a, b in hit["matches"]] == ["Temasek"]
    assert hit["summary"]["feeds"] == [{"id": 1, "title": "Pandaily"}]
    assert served.get("/api/search?q=Temasek&feed=2")[1]["hits"] == []
    assert served.get("/api/search?q=Temasek&since=2019-01-01")[1]["hits"] == []
    everything = served.get("/api/search?q=the&limit=50")[1]
    assert len(everything["hits"]) == 3 and everything["next"] is None
    pages, after = [], ""
    while after is not None:  # one hit per page, following the keyset cursor
        page = served.get(f"/api/search?q=the&limit=1&after={quote(after)}")[1]
        pages += [hit["id"] for hit in page["hits"]]
        after = page["next"]
    assert pages == [hit["id"] for hit in everything["hits"]][: len(pages)]
    assert len(pages) in (3, 4)  # the last full page may be followed by an empty one
    assert served.get("/api/search?q=the&after=nonsense")[0] == 400


def test_feeds(served: Served) -> None:
    status, body = served.get("/api/feeds")
    assert status == 200 and body["next"] is None
    assert [f["health"] for f in body["feeds"]] == ["ok", "ok"]
    status, feed = served.get("/api/feeds/2")
    assert status == 200 and feed["url"].endswith("/xss.rss") and feed["health"] == "ok"
    assert served.get("/api/feeds/3") == (404, {"error": "no such feed: 3"})


def test_a_feeds_articles_newest_first_by_keyset(served: Served) -> None:
    status, whole = served.get("/api/feeds/1/articles")
    assert status == 200 and whole["next"] is None and len(whole["articles"]) == 3
    first = served.get("/api/feeds/1/articles?limit=2")[1]
    assert first["next"] == first["articles"][-1]["entry_id"]
    rest = served.get(f"/api/feeds/1/articles?limit=2&after={first['next']}")[1]
    assert rest["next"] is None
    assert first["articles"] + rest["articles"] == whole["articles"]
    assert all(a["feeds"][0]["title"] == "Pandaily" for a in whole["articles"])
    assert [a["title"] for a in whole["articles"]] == [
        a["title"] for a in served.get("/api/articles?feed=1&limit=50")[1]["articles"]
    ][::-1]  # listed in one poll: the later entry first
    assert served.get("/api/feeds/3/articles") == (404, {"error": "no such feed: 3"})


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/articles/999", 404),
        ("/api/articles/999/raw", 404),
        ("/articles/999/raw", 404),
        ("/api/articles/abc", 400),
        ("/api/articles/%C2%B2", 400),  # ² is a digit to str.isdigit(), not to us
        ("/api/articles?limit=%C2%B2", 400),
        ("/api/articles?after=%D9%A1", 400),  # Arabic-Indic one
        ("/api/articles?limit=0", 400),
        ("/api/articles?limit=501", 400),
        ("/api/nothing-here", 404),
        ("/nothing-here", 404),
        ("/api/search", 400),
        ("/api/search?q=", 400),
        ("/api/search?q=%00", 400),
        ("/api/articles/" + "9" * 5000, 414),
        ("/api/search?q=" + "a" * 100_000, 400),
    ],
)
def test_every_error_is_json_with_a_4xx_status(served: Served, path: str, status: int) -> None:
    got, body = served.get(path)
    assert got == status, body
    assert isinstance(body["error"], str) and body["error"]


def test_other_methods_get_a_json_405(served: Served) -> None:
    port = int(served.base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/api/articles", body=b"{}")
    response = connection.getresponse()
    assert response.status == 405 and "GET" in response.getheader("Allow", "")
    assert json.loads(response.read())["error"].startswith("method POST not allowed")


@pytest.mark.parametrize(
    "query",
    [
        "a\x00b",
        '"unbalanced',
        'NEAR(a b) OR c AND NOT d "x" ^e col:f',
        "zeta* eta* theta*",
        "*",
        "-",
        "'; DROP TABLE article; --",
        "x" * 999,
        "数据 中心",
    ],
)
def test_hostile_queries_never_fail(served: Served, query: str) -> None:
    status, body = served.get("/api/search?q=" + quote(query))
    assert status in (200, 400), body
    assert ("hits" in body) if status == 200 else body["error"]


def test_openapi_describes_every_route(served: Served) -> None:
    status, spec = served.get("/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    served_paths = set()
    for path in paths:  # every described route answers (not 404/405) …
        concrete = path.replace("{id}", "1")
        code = served.fetch(concrete + ("?q=Temasek" if "search" in path else ""))[0]
        assert code == 200, path
        served_paths.add(path)
    # … and every route the server knows is described
    from ingest.web.routes import ROUTES

    assert {route.path for route in ROUTES} == paths
    assert all(re.fullmatch(r"[a-z_]+", op["get"]["operationId"]) for op in spec["paths"].values())


def test_host_header_must_name_this_server(served: Served) -> None:
    port = served.base.rsplit(":", 1)[1]
    status, body = served.get("/api/feeds", Host=f"evil.example:{port}")
    assert status == 400 and "Host" in body["error"]
    for name in ("localhost", "127.0.0.1", "[::1]"):
        assert served.get("/api/feeds", Host=f"{name}:{port}")[0] == 200


def test_a_stalled_client_holds_one_slot_others_get_503_and_sigterm_still_stops(
    cli: Cli, served: Served, tmp_path: Path
) -> None:
    """One request slot; a client that never reads a big answer keeps it. The next request is
    refused with a JSON 503 at once, and SIGTERM still stops the server promptly."""
    copy = tmp_path / "big.db"
    source = sqlite3.connect(served.cli.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("UPDATE article SET text = ? WHERE id = 1", ("word " * 6_000_000,))
    source.close()
    port = free_port()
    db = f"sqlite:///{copy}"
    proc = cli.popen("--db", db, "serve", "--port", str(port), "--max-requests", "1")
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, proc)
    stalled = socket.create_connection(("127.0.0.1", port))
    try:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"GET /api/articles/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        other = Served(base, cli, served.site)
        answers: list[tuple[int, object]] = []
        wait_for(lambda: answers.append(other.get("/api/feeds")) or answers[-1][0] == 503,
                 timeout=60, what="a 503 while the slot is held")  # fmt: skip
        status, body = answers[-1]
        assert status == 503 and "too many requests" in body["error"]  # type: ignore[index]
        assert other.get("/healthz")[0] == 200  # liveness is not counted
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert time.monotonic() - started < 20
    finally:
        stalled.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_port_in_use_and_bad_addresses_in_one_line(
    cli: Cli, served: Served
) -> None:
    port = served.base.rsplit(":", 1)[1]
    taken = cli("--db", served.cli.db_url, "serve", "--port", port)
    assert taken.returncode == 2, taken.stderr
    assert taken.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert taken.stderr.count("\n") == 1
    for host in ("192.0.2.1", "no-such-host.invalid"):
        done = cli("--db", served.cli.db_url, "serve", "--host", host, "--port", "0")
        assert done.returncode == 2 and done.stderr.startswith("error: cannot listen"), done.stderr
        assert done.stderr.count("\n") == 1


@pytest.mark.postgres
def test_api_pages_and_atom_on_postgresql(pg_url: str, site: Site, tmp_path: Path) -> None:
    cli = Cli(tmp_path, pg_url)
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    port = free_port()
    proc = cli.popen("serve", "--port", str(port))
    served = Served(f"http://127.0.0.1:{port}", cli, site)
    try:
        wait_until_serving(served.base, proc)
        listed = served.get("/api/articles?limit=2&since=2018-07-01")[1]
        assert listed["articles"][0]["title"] == SEED_TITLE
        [hit] = served.get("/api/search?q=Temasek&lang=en")[1]["hits"]
        assert hit["title"] == SEED_TITLE
        for query in ("a\x00b", '"unbalanced', "zeta* eta* theta*", "x" * 999, "!:&|()"):
            assert served.get("/api/search?q=" + quote(query))[0] in (200, 400)
        assert served.fetch(f"/articles/{hit['id']}")[0] == 200
        assert served.fetch("/feeds/1.atom")[0] == 200
        assert served.get(f"/api/articles/{hit['id']}/raw")[1]["status_line"].endswith("200 OK")
        whole = served.get("/api/feeds/1/articles")[1]["articles"]
        first = served.get("/api/feeds/1/articles?limit=2")[1]
        rest = served.get(f"/api/feeds/1/articles?after={first['next']}")[1]["articles"]
        assert len(whole) == 3 and first["articles"] + rest == whole  # keyset on PostgreSQL
    finally:
        proc.terminate()
        proc.wait(10)
