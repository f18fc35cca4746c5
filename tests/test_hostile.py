"""Issue 13: what a hostile server found, each attack replayed on loopback.

The hostile site listens on 127.0.0.2 and a canary on 127.0.0.1 (another address and port)
counts every request it gets: the private network the guard must protect. Feeds, discovery and
`feeds add` run through the real code (Pipeline, subscribe, the batch) on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import resource
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.config import Settings
from ingest.errors import ErrorClass, IngestError, UsageError
from ingest.extract import extract_article
from ingest.fetch import Fetcher
from ingest.owner import make_owner
from ingest.pipeline import Pipeline, _redirect_update
from ingest.recheck import recheck_now
from ingest.records import FeedState, FetchResult
from ingest.redact import redact_url
from ingest.store import feeds
from ingest.store.writerlock import ArchiveBusyError, WriterLock
from ingest.subscribe import Subscription, subscribe_all
from tests.conftest import Cli
from tests.faultsite import RSS, Archive, RawSite, open_test_archive, response, rss

pytestmark = pytest.mark.timeout(120)  # safety net only

HTML = "text/html; charset=utf-8"


@pytest.fixture
def hostile() -> Iterator[RawSite]:
    with RawSite("127.0.0.2") as site:
        yield site


@pytest.fixture
def canary() -> Iterator[RawSite]:
    """The private network: any request reaching it is a breach."""
    with RawSite("127.0.0.1") as site:
        site.serve("/feed.xml", 200, rss(site.base, [_item(site.base, "secret")]), Content_Type=RSS)
        site.serve(
            "/secret-page", 200, b"<html><body><p>secret</p></body></html>", Content_Type=HTML
        )
        yield site


@pytest.fixture
def archive(db_url: str) -> Archive:
    return open_test_archive(db_url, fulltext=True, respect_robots=False)


def _item(base: str, name: str) -> dict[str, str]:
    return {"guid": name, "title": f"Item {name}", "link": f"{base}/{name}-page"}


def _redirect(code: int, to: str) -> bytes:
    return response(code, b"", Location=to)


def _page_linking(feed_url: str) -> bytes:
    return (
        '<html><head><link rel="alternate" type="application/rss+xml" '
        f'href="{feed_url}"></head><body>home</body></html>'
    ).encode()


def add_urls(archive: Archive, *urls: str, **overrides: Any) -> list[Subscription | IngestError]:
    """`ingest feeds add URL…` in this process."""
    settings = archive.settings.model_copy(update=overrides)

    async def main() -> list[Subscription | IngestError]:
        async with Pipeline(archive.engine, settings, make_owner("add")) as pipeline:
            return await subscribe_all(pipeline, list(urls))

    return asyncio.run(main())


# --- HIGH 1: redirects and discovery into private networks -----------------------------------


@pytest.mark.parametrize("code", [301, 302])
def test_discovered_feed_redirecting_into_a_private_network_is_refused(
    hostile: RawSite, canary: RawSite, archive: Archive, code: int
) -> None:
    hostile.route("/redir", lambda _r: [_redirect(code, canary.url("/feed.xml"))])
    hostile.serve("/", 200, _page_linking(hostile.url("/redir")), Content_Type=HTML)
    [outcome] = add_urls(archive, hostile.url("/"))
    assert isinstance(outcome, UsageError), outcome
    assert "allow_networks" in str(outcome)
    assert feeds.list_feeds(archive.engine) == []
    assert canary.hits.total() == 0


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_feed_redirect_into_a_private_network_never_reaches_it(
    hostile: RawSite, canary: RawSite, archive: Archive, code: int
) -> None:
    hostile.route("/feed.xml", lambda _r: [_redirect(code, canary.url("/feed.xml"))])
    feed_id = archive.add(hostile.url("/feed.xml"))
    for _ in range(3):  # enough confirmations for a permanent redirect to move the feed
        [report] = archive.fetch().reports
        assert report.status == "failed" and report.error.startswith(ErrorClass.BLOCKED)
    assert archive.feed(feed_id)["url"] == hostile.url("/feed.xml")
    assert archive.export() == []
    assert canary.hits.total() == 0


def test_typed_url_redirecting_to_a_private_page_subscribes_nothing(
    hostile: RawSite, canary: RawSite, archive: Archive
) -> None:
    canary.serve("/home", 200, _page_linking(canary.url("/feed.xml")), Content_Type=HTML)
    hostile.route("/go", lambda _r: [_redirect(302, canary.url("/home"))])
    [outcome] = add_urls(archive, hostile.url("/go"))
    assert isinstance(outcome, UsageError), outcome
    assert feeds.list_feeds(archive.engine) == []
    assert canary.hits.total() == 0


def test_discovered_feed_whose_host_does_not_resolve_is_refused(
    hostile: RawSite, archive: Archive
) -> None:
    # A label over 63 characters: the resolver refuses it locally, no query leaves the machine.
    unresolvable = f"http://{'x' * 64}.example/feed.xml"
    hostile.serve("/", 200, _page_linking(unresolvable), Content_Type=HTML)
    [outcome] = add_urls(archive, hostile.url("/"))
    assert isinstance(outcome, UsageError) and "does not resolve" in str(outcome)
    assert feeds.list_feeds(archive.engine) == []


def test_redirect_to_an_allowlisted_address_is_followed(
    hostile: RawSite, canary: RawSite, archive: Archive
) -> None:
    hostile.route("/feed.xml", lambda _r: [_redirect(302, canary.url("/feed.xml"))])
    archive.add(hostile.url("/feed.xml"))
    allow = [f"127.0.0.1:{canary.port}"]
    [report] = archive.fetch(allow_networks=allow, fulltext=False).reports
    assert report.status == "ok" and report.new == 1
    assert canary.hits["/feed.xml"] == 1


def test_own_origin_redirects_and_pages_still_work(hostile: RawSite, archive: Archive) -> None:
    hostile.serve("/real.xml", 200, rss(hostile.base, [_item(hostile.base, "a")]), Content_Type=RSS)
    hostile.route("/feed.xml", lambda _r: [_redirect(301, hostile.url("/real.xml"))])
    page = b"<html><body><article><p>" + b"Own origin text. " * 40 + b"</p></article></body></html>"
    hostile.serve("/a-page", 200, page, Content_Type=HTML)
    feed_id = archive.add(hostile.url("/feed.xml"))
    [report] = archive.fetch().reports
    assert report.status == "ok" and report.full == 1
    archive.fetch()  # second confirmation of the 301: the feed moves on its own origin
    assert archive.feed(feed_id)["url"] == hostile.url("/real.xml")


def _state(url: str, redirect_url: str | None = None, count: int = 0) -> FeedState:
    return FeedState(id=1, url=url, redirect_url=redirect_url, redirect_count=count)


@pytest.mark.parametrize(
    ("target", "peer", "moves"),
    [
        ("http://127.0.0.1:9/feed.xml", "127.0.0.1", False),  # another port of loopback
        ("http://10.0.0.7/feed.xml", "10.0.0.7", False),
        ("http://feeds.example/rss", "127.0.0.1", False),  # a public name that answered inside
        ("http://feeds.example/rss", None, False),
        ("http://127.0.0.2:8000/new.xml", "127.0.0.2", True),  # the feed's own host and port
        ("http://feeds.example/rss", "93.184.216.34", True),
    ],
)
def test_a_301_is_confirmed_only_onto_a_public_address_or_the_feeds_own_origin(
    target: str, peer: str | None, moves: bool
) -> None:
    state = _state("http://127.0.0.2:8000/feed.xml", redirect_url=target, count=1)
    result = FetchResult(
        url=state.url, final_url=target, status=200, redirects=((301, target),), peer=peer
    )
    update = _redirect_update(state, result, confirmations=2)
    assert (update.get("url") == target) is moves


# --- HIGH 2: entity expansion and parsing limits at `feeds add` -------------------------------


def test_parsing_at_feeds_add_runs_in_the_worker_pool_under_its_timeout(
    hostile: RawSite, archive: Archive
) -> None:
    items = [_item(hostile.base, f"i{n}") for n in range(2000)]
    hostile.serve("/feed.xml", 200, rss(hostile.base, items), Content_Type=RSS)
    [outcome] = add_urls(archive, hostile.url("/feed.xml"), extract_timeout=0.05)
    assert isinstance(outcome, Subscription)
    assert outcome.note == "could not parse it now: parsing timed out"


def test_worker_processes_have_their_memory_capped(archive: Archive) -> None:
    settings = archive.settings.model_copy(update={"worker_memory_mb": 256})

    async def main() -> tuple[Any, BaseException | None]:
        async with Pipeline(archive.engine, settings, make_owner("test")) as pipeline:
            limit = await pipeline.cpu(30, resource.getrlimit, resource.RLIMIT_DATA)
            try:
                await pipeline.cpu(30, bytearray, 512 * 2**20)
            except BaseException as exc:
                return limit, exc
            return limit, None

    (soft, _hard), error = asyncio.run(main())
    assert soft == 256 * 2**20
    assert isinstance(error, MemoryError)


def test_entity_declared_after_a_comment_is_never_expanded_at_feeds_add(
    hostile: RawSite, archive: Archive
) -> None:
    body = (
        '<?xml version="1.0"?><!-- <a> --><!DOCTYPE rss [<!ENTITY a "' + "BOOM" * 1000 + '">]>'
        '<rss version="2.0"><channel><title>T &a;</title><item><guid>g</guid>'
        "<title>x &a; &a;</title></item></channel></rss>"
    ).encode()
    hostile.serve("/feed.xml", 200, body, Content_Type=RSS)
    [outcome] = add_urls(archive, hostile.url("/feed.xml"), fulltext=False)
    assert isinstance(outcome, Subscription) and outcome.created
    assert "BOOM" not in str(archive.export()) + str(feeds.list_feeds(archive.engine))


# --- HIGH 3: one control character in one item ------------------------------------------------


@pytest.mark.parametrize("char", ["\x0c", "\x01", "\x02", "\x1b", "\x00"])
def test_control_character_in_one_item_costs_nothing_but_the_character(
    hostile: RawSite, archive: Archive, char: str
) -> None:
    items = [
        {"guid": "a", "title": "First", "description": "fine"},
        {"guid": "b", "title": f"Bad{char}title", "description": f"<p>form{char}feed</p>"},
        {"guid": "c", "title": "Third", "description": "fine too"},
    ]
    hostile.serve("/feed.xml", 200, rss(hostile.base, items), Content_Type=RSS)
    archive.add(hostile.url("/feed.xml"))
    [report] = archive.fetch(fulltext=False).reports
    assert report.status == "ok" and report.new == 3, report.error
    titles = sorted(record["title"] for record in archive.export())
    assert titles[0] in ("Bad title", "Badtitle") and titles[1:] == ["First", "Third"]
    assert all(char not in record["text"] for record in archive.export())


def test_nul_in_a_json_feed_is_stripped(hostile: RawSite, archive: Archive) -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J\\u0000",'
        b' "items": [{"id": "1", "title": "nul\\u0000here", "content_text": "a\\u0000b"},'
        b' {"id": "2", "title": "fine", "content_text": "ok"}]}'
    )
    hostile.serve("/feed.json", 200, body, Content_Type="application/feed+json")
    archive.add(hostile.url("/feed.json"))
    [report] = archive.fetch(fulltext=False).reports
    assert report.new == 2
    assert sorted(r["title"] for r in archive.export()) == ["fine", "nulhere"]


# --- MEDIUM: robots.txt time counts against the page's deadline -------------------------------


def test_robots_txt_that_never_answers_cannot_stretch_a_page_fetch() -> None:
    release = threading.Event()

    def silent(_request: Any) -> Iterator[bytes]:
        release.wait(30)  # never answers while the test runs
        return iter(())

    sites = [RawSite(f"127.0.0.{n}") for n in range(3, 8)]
    with contextlib.ExitStack() as stack:
        for site in sites:
            stack.enter_context(site)
        stack.callback(release.set)
        for here, there in itertools.pairwise(sites):
            here.route("/r", lambda _r, to=there.url("/r"): [_redirect(302, to)])
            here.route("/robots.txt", silent)
        sites[-1].route("/robots.txt", silent)
        sites[-1].serve("/r", 200, b"<html><body>page</body></html>", Content_Type=HTML)
        settings = Settings(
            host_delay=0, request_timeout=2, allow_networks=["127.0.0.0/8"], respect_robots=True
        )

        async def main() -> FetchResult:
            async with Fetcher(settings) as fetcher:
                return await fetcher.fetch_page(sites[0].url("/r"))

        result = asyncio.run(main())
    assert result.error_class == ErrorClass.TIMEOUT
    # The first robots.txt used up the 2 s: no later hop was even tried.
    assert sum(site.hits["/robots.txt"] for site in sites) == 1
    assert sum(site.hits["/r"] for site in sites) == 0


# --- LOW: what is shown ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:s3cret@example.org/feed", "http://user:***@example.org/feed"),
        ("http://user:p@ss@example.org/feed", "http://user:***@example.org/feed"),
        ("https://tok3n@example.org/feed", "https://***@example.org/feed"),
        ("postgresql://u:s3cret@db:5432/x?password=s3cret&sslmode=require",
         "postgresql://u:***@db:5432/x?password=***&sslmode=require"),
        ("http://example.org/feed?token=s3cret&page=2", "http://example.org/feed?token=***&page=2"),
        ("http://example.org/feed.xml", "http://example.org/feed.xml"),
    ],
)  # fmt: skip
def test_credentials_are_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_feed_password_is_shown_nowhere(cli: Cli, hostile: RawSite) -> None:
    hostile.serve("/feed.xml", 200, rss(hostile.base, [_item(hostile.base, "a")]), Content_Type=RSS)
    url = f"http://reader:s3cret@{hostile.host}:{hostile.port}/feed.xml"
    outputs = [cli("feeds", "add", url), cli("fetch", "--no-fulltext")]
    for args in (
        ["feeds", "list"],
        ["feeds", "list", "-f", "json"],
        ["log"],
        ["log", "-f", "json"],
    ):
        outputs.append(cli(*args))
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert "s3cret" not in done.stdout + done.stderr
    assert "reader:***@" in outputs[0].stderr


def test_database_password_is_not_printed(cli: Cli) -> None:
    done = cli("--db", "postgresql://u:p@ss@127.0.0.1:1/x?password=s3cret", "feeds", "list")
    assert done.returncode == 75
    assert "s3cret" not in done.stderr and "ss@" not in done.stderr
    assert done.stderr.startswith("error: cannot open archive postgresql://u:***@127.0.0.1:1/")


def test_hostile_titles_print_literally_without_escapes(cli: Cli, hostile: RawSite) -> None:
    title = "Feed [bold]D[/bold] [/x] \x1b]0;owned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07 end"
    item = {"guid": "a", "title": "[Video] Cats [b]bold[/b] [1] \x9b31m", "description": "x"}
    body = rss(hostile.base, [item], title=title).replace(b"\x1b", b"&#x1b;")
    hostile.serve("/feed.xml", 200, body, Content_Type=RSS)
    assert cli("feeds", "add", hostile.url("/feed.xml")).returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 0
    outputs = [cli("feeds", "list"), cli("search", "Cats"), cli("show", "1"), cli("log")]
    outputs.append(cli("show", "1", "--revisions"))
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
        assert "\x9b" not in done.stdout
    assert "[bold]D[/bold] [/x]" in outputs[0].stdout.replace("\n", "")
    assert "[Video] Cats [b]bold[/b] [1]" in outputs[2].stdout


@pytest.mark.parametrize(
    "args",
    [
        ["feeds", "add", "http://[::1"],
        ["--db", "postgresql://u:x@127.0.0.1:notaport/db", "feeds", "list"],
    ],
)
def test_bad_input_is_one_line_not_a_traceback(cli: Cli, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


def test_json_feed_nested_deep_is_not_a_traceback(cli: Cli, hostile: RawSite) -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000
    hostile.serve("/feed.json", 200, body, Content_Type="application/feed+json")
    done = cli("feeds", "add", hostile.url("/feed.json"))
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.returncode == 2


def test_archive_files_are_private(cli: Cli, db_url: str, hostile: RawSite) -> None:
    hostile.serve("/feed.xml", 200, rss(hostile.base, [_item(hostile.base, "a")]), Content_Type=RSS)
    assert cli("feeds", "add", hostile.url("/feed.xml")).returncode == 0
    database = Path(db_url.removeprefix("sqlite:///"))
    created = [database, *database.parent.glob(database.name + "-*")]
    assert created and all(path.stat().st_mode & 0o077 == 0 for path in created), created
    assert database.parent.stat().st_mode & 0o077 == 0


def test_writer_lock_is_taken_on_the_real_path(tmp_path: Path) -> None:
    real = tmp_path / "real" / "ingest.db"
    real.parent.mkdir()
    real.touch()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    first, second = WriterLock(f"sqlite:///{real}"), WriterLock(f"sqlite:///{link}")
    first.acquire()
    try:
        with pytest.raises(ArchiveBusyError):
            second.acquire()
    finally:
        first.release()


@pytest.mark.parametrize(
    ("image", "kept"),
    [
        ("javascript:alert(1)", None),
        ("data:image/svg+xml,<svg onload=alert(1)>", None),
        ("/img/a.jpg", "http://site.example/img/a.jpg"),
        ("https://cdn.example/a.jpg", "https://cdn.example/a.jpg"),
    ],
)
def test_og_image_keeps_only_http_urls(image: str, kept: str | None) -> None:
    page = (
        f'<html><head><meta property="og:image" content="{image}"><title>T</title></head>'
        "<body><article><p>" + "Words of the article body. " * 40 + "</p></article></body></html>"
    )
    extracted = extract_article(page, "http://site.example/post")
    assert extracted is not None and extracted.image == kept


def test_recheck_fetches_the_url_that_was_fetched_not_the_canonical(
    hostile: RawSite, canary: RawSite, archive: Archive
) -> None:
    elsewhere = canary.url("/elsewhere")
    page = (
        f'<html><head><link rel="canonical" href="{elsewhere}"><title>T</title></head>'
        "<body><article><p>" + "Words of the article body. " * 40 + "</p></article></body></html>"
    ).encode()
    hostile.serve("/feed.xml", 200, rss(hostile.base, [_item(hostile.base, "a")]), Content_Type=RSS)
    hostile.serve("/a-page", 200, page, Content_Type=HTML)
    archive.add(hostile.url("/feed.xml"))
    assert archive.fetch().reports[0].full == 1
    assert archive.export()[0]["canonical_url"] == elsewhere
    counts = asyncio.run(recheck_now(archive.engine, archive.settings))
    assert counts == {"unchanged": 1}
    assert hostile.hits["/a-page"] == 2 and canary.hits.total() == 0


# --- MEDIUM: NUL on PostgreSQL ----------------------------------------------------------------


def test_nul_is_stripped_before_postgresql_and_feeds_add_goes_on(
    hostile: RawSite, pg_url: str
) -> None:
    archive = open_test_archive(pg_url, fulltext=False)
    nul_rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>N&#0;UL</title>'
        b"<item><guid>n1</guid><title>a&#0;b</title><description>c&#0;d</description></item>"
        b"</channel></rss>"
    )
    nul_json = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J\\u0000",'
        b' "items": [{"id": "j1", "title": "x\\u0000y", "content_text": "z\\u0000w"}]}'
    )
    hostile.serve("/nul.xml", 200, nul_rss, Content_Type=RSS)
    hostile.serve("/nul.json", 200, nul_json, Content_Type="application/feed+json")
    outcomes = add_urls(archive, hostile.url("/nul.xml"), hostile.url("/nul.json"))
    assert all(isinstance(o, Subscription) and o.created and o.new == 1 for o in outcomes), outcomes
    [report] = [r for r in archive.fetch().reports if r.url.endswith("nul.xml")]
    assert report.status in ("ok", "not_modified"), report.error
    assert sorted(r["title"] for r in archive.export()) == ["ab", "xy"]
    archive.engine.dispose()


# --- LOW: disk full ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_stops_cleanly_with_a_summary(
    tmp_path: Path, small_disk: Path, hostile: RawSite
) -> None:
    items = [
        {"guid": f"g{n}", "title": f"t{n}", "description": f"word{n} " * 400} for n in range(300)
    ]
    hostile.serve("/feed.xml", 200, rss(hostile.base, items), Content_Type=RSS)
    cli = Cli(tmp_path, f"sqlite:///{small_disk / 'ingest.db'}")
    added = cli("feeds", "add", hostile.url("/feed.xml"))
    assert "Traceback" not in added.stderr and "disk is full" in added.stderr, added.stderr
    done = cli("fetch", "--no-fulltext")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert "fetch summary" in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("error: the archive's disk is full")
