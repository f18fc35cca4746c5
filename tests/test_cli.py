"""The CLI contract: one clear line on stderr for bad input, exit codes 0 / 1 / 2, no traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Cli, Site


def assert_one_line_error(done: object, code: int, words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://example.org/feed", "file:///etc/passwd", "http://"]
)
def test_bad_url_is_a_usage_error(cli: Cli, url: str) -> None:
    assert_one_line_error(cli("feeds", "add", url), 2, "not an http(s) URL")


def test_unknown_article_id(cli: Cli) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    assert_one_line_error(cli("show", "999"), 2, "no such article: 999")


def test_unknown_feed(cli: Cli) -> None:
    assert_one_line_error(cli("feeds", "remove", "42"), 2, "no such feed: 42")
    assert_one_line_error(cli("fetch", "http://127.0.0.1:9/nope.xml"), 2, "no such feed")


def test_missing_config_file(cli: Cli, tmp_path: Path) -> None:
    done = cli("--config", str(tmp_path / "missing.toml"), "feeds", "list")
    assert_one_line_error(done, 2, "cannot read config")


def test_invalid_config_file(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("concurrency = [", encoding="utf-8")
    assert_one_line_error(cli("--config", str(bad), "feeds", "list"), 2, "invalid config")
    bad.write_text("concurrency = -3\n", encoding="utf-8")
    assert_one_line_error(cli("--config", str(bad), "feeds", "list"), 2, "concurrency")
    bad.write_text("no_such_key = 1\n", encoding="utf-8")
    assert_one_line_error(cli("--config", str(bad), "feeds", "list"), 2, "no_such_key")


def test_invalid_environment_setting(cli: Cli) -> None:
    assert_one_line_error(cli("feeds", "list", INGEST_CONCURRENCY="many"), 2, "concurrency")
    done = cli("fetch", INGEST_ALLOW_NETWORKS="10.0.0.0/8,bogus")
    assert_one_line_error(done, 2, "allow_networks")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["show", "abc"], "Invalid value for 'ARTICLE_ID'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["fetch", "--bogus"], "No such option: --bogus"),
        (["feeds", "list", "--format", "xml"], "'xml' is not one of"),
    ],
)
def test_usage_errors_are_one_line(cli: Cli, args: list[str], words: str) -> None:
    assert_one_line_error(cli(*args), 2, words)


def test_out_of_range_ids_are_unknown_not_crashes(cli: Cli) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    huge = str(2**70)
    assert_one_line_error(cli("show", huge), 2, f"no such article: {huge}")
    assert_one_line_error(cli("feeds", "remove", huge), 2, f"no such feed: {huge}")


def test_unreachable_database_path(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = cli("--db", f"sqlite:///{blocker}/sub/ingest.db", "fetch")
    assert_one_line_error(done, 2, "cannot create")
    assert_one_line_error(cli("--db", "nonsense://", "feeds", "list"), 2, "archive")
    # a database server that does not answer may come back: 75 (EX_TEMPFAIL), retried by systemd
    down = cli("--db", "postgresql+psycopg://ingest@127.0.0.1:9/ingest", "feeds", "list")
    assert_one_line_error(down, 75, "Connection refused")


def test_shipped_config_documents_every_setting_with_its_default() -> None:
    from ingest.config import Settings, load_settings

    path = Path(__file__).parents[1] / "config" / "ingest.toml"
    assert load_settings(path, env={}) == Settings()
    text = path.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"\n{name} = " in text, name


def test_feeds_add_list_remove(cli: Cli, site: Site) -> None:
    site.serve_all()
    done = cli("feeds", "add", site.url("/feed.rss"), site.url("/feed.rss"))
    assert done.returncode == 0, done.stderr
    assert "added: [1]" in done.stderr and "already subscribed: [1]" in done.stderr
    listed = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert [(f["id"], f["url"], f["title"]) for f in listed] == [
        (1, site.url("/feed.rss"), "Pandaily")
    ]
    assert cli("feeds", "remove", site.url("/feed.rss")).returncode == 0
    assert json.loads(cli("feeds", "list", "--format", "json").stdout) == []


def test_feeds_add_discovers_feed_of_html_page(cli: Cli, site: Site) -> None:
    site.serve_all()
    done = cli("feeds", "add", site.url("/"))
    assert done.returncode == 0, done.stderr
    assert "discovered from" in done.stderr
    [feed] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert feed["url"] == site.url("/feed.rss")


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/feed.xml"]
)
def test_a_discovered_feed_link_may_not_point_into_a_private_network(
    cli: Cli, site: Site, target: str
) -> None:
    """A page is not the user's word: its feed link gets the policy of links found in feeds
    (the page here is on 127.0.0.1 too, but another port is another origin)."""
    site.server.expect_request("/").respond_with_data(
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{target}">'
        "</head><body>home</body></html>",
        content_type="text/html",
    )
    done = cli("feeds", "add", site.url("/"))
    assert done.returncode == 2
    assert "links to a feed on a private network" in done.stderr
    assert json.loads(cli("feeds", "list", "--format", "json").stdout) == []


def test_feeds_add_page_without_feed_is_an_error(cli: Cli, site: Site) -> None:
    site.serve_all()
    done = cli("feeds", "add", site.url("/2018/07/other-1/"))
    assert done.returncode == 2
    assert "no feed found" in done.stderr


def test_fetch_exit_code_1_names_the_failing_feed(cli: Cli, site: Site) -> None:
    site.serve_all()
    site.server.expect_request("/broken.rss").respond_with_data("oops", status=500)
    cli("feeds", "add", site.url("/feed.rss"))
    cli("feeds", "add", site.url("/broken.rss"))  # added although it fails now
    done = cli("fetch")
    assert done.returncode == 1
    assert "1 of 2 feeds failed" in done.stderr
    assert f"failed: [2] {site.url('/broken.rss')}: http_5xx" in done.stderr
    assert len(json.loads(cli("export").stdout.splitlines()[0])["sources"]) == 1


def test_fetch_with_no_feeds_says_how_to_add_one(cli: Cli) -> None:
    done = cli("fetch")
    assert done.returncode == 0
    assert "ingest feeds add URL" in done.stderr


def test_feeds_file_is_synced_on_fetch(cli: Cli, site: Site) -> None:
    site.serve_all()
    (cli.cwd / "config").mkdir()
    (cli.cwd / "config" / "feeds.toml").write_text(
        f'[[feeds]]\nurl = "{site.url("/feed.rss")}"\ntitle = "Pandaily"\n', encoding="utf-8"
    )
    assert cli("fetch").returncode == 0
    [feed] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert feed["source"] == "config/feeds.toml"
    assert len(cli("export").stdout.splitlines()) == 3


def test_opml_feeds_file(cli: Cli, site: Site) -> None:
    site.serve_all()
    (cli.cwd / "config").mkdir()
    (cli.cwd / "config" / "feeds.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
        f'<outline text="Pandaily" xmlUrl="{site.url("/feed.atom")}"/></outline></body></opml>',
        encoding="utf-8",
    )
    assert cli("fetch").returncode == 0
    [feed] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert feed["url"] == site.url("/feed.atom")


def test_a_bad_url_in_the_feeds_file_is_a_config_error(cli: Cli) -> None:
    (cli.cwd / "config").mkdir()
    (cli.cwd / "config" / "feeds.toml").write_text(
        '[[feeds]]\nurl = "/etc/passwd"\n', encoding="utf-8"
    )
    assert_one_line_error(
        cli("fetch"), 2, "invalid feeds file config/feeds.toml: not an http(s) URL"
    )


def test_reading_commands_answer_while_a_writer_holds_the_archive(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """A fetch or a daemon may hold SQLite's write lock for a while (a big feed is one
    transaction); a command that only reads answers meanwhile (its transactions are DEFERRED:
    WAL lets it read the last commit), where one asking for the lock would wait up to the busy
    timeout (30 s) and then fail with "database is locked"."""
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    writer = sqlite3.connect(tmp_path / "archive" / "ingest.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE feed SET title = 'being written'")
    try:
        for args in (
            ["feeds", "list"],
            ["status"],
            ["show", "1"],
            ["search", "Singapore"],
            ["export", "--feed", "1"],
            ["log", "--feed", "1"],
        ):
            done = cli(*args, timeout=15)
            assert done.returncode == 0, (args, done.stderr)
            assert "being written" not in done.stdout  # the last commit, not the write under way
    finally:
        writer.execute("ROLLBACK")
        writer.close()
