"""A feed cannot plant its text on another feed's article (issue 13): a page that was never
fetched successfully is fetched when another feed lists it, retried on the retry schedule,
and a feed's text is shown as that feed's, never as the page's. Real CLI, loopback server."""

from __future__ import annotations

import json

from tests.conftest import HTML, RSS, Cli, Site

STORY = "/2018/07/sensetime-singapore/"


def _feed(site: Site, path: str, title: str, text: str) -> None:
    item = f"<item><title>{title}</title><link>{site.url(STORY)}</link><guid>{path}-1</guid>"
    item += f"<description>{text}</description></item>"
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{path}</title>{item}'
    site.server.expect_request(path).respond_with_data(rss + "</channel></rss>", content_type=RSS)


def _article(cli: Cli) -> dict[str, object]:
    done = cli("export", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    return record


def test_a_page_never_fetched_is_fetched_when_another_feed_lists_it(cli: Cli, site: Site) -> None:
    _feed(site, "/hostile.xml", "Hostile title", "Planted words.")
    site.server.expect_request(STORY).respond_with_data("not yet", status=404)
    assert cli("feeds", "add", site.url("/hostile.xml")).returncode == 0
    assert cli("fetch").returncode == 0
    planted = _article(cli)
    assert (planted["extraction"], planted["text"]) == ("feed", "Planted words.")
    assert planted["text_from"] == site.url("/hostile.xml")

    site.server.clear()
    _feed(site, "/hostile.xml", "Hostile title", "Planted words.")
    _feed(site, "/legit.xml", "SenseTime enters Singapore", "The real teaser.")
    site.serve(STORY, "sensetime.html", HTML)
    assert cli("feeds", "add", site.url("/legit.xml")).returncode == 0
    assert cli("fetch", site.url("/legit.xml")).returncode == 0
    assert len(site.requests(STORY)) == 1
    real = _article(cli)
    assert real["extraction"] == "full"
    assert real["text_from"] == "page"
    assert "Planted words." not in str(real["text"]) and "SenseTime" in str(real["text"])


def test_a_feed_text_is_shown_as_the_feed_s_not_the_page_s(cli: Cli, site: Site) -> None:
    _feed(site, "/hostile.xml", "Hostile title", "Planted words.")
    _feed(site, "/legit.xml", "Real title", "The real teaser.")
    site.server.expect_request(STORY).respond_with_data("gone", status=404)
    assert cli("feeds", "add", site.url("/hostile.xml")).returncode == 0
    assert cli("fetch").returncode == 0
    assert cli("feeds", "add", site.url("/legit.xml")).returncode == 0
    assert cli("fetch", site.url("/legit.xml")).returncode == 0
    assert len(site.requests(STORY)) == 2  # asked again when the second feed listed it
    record = _article(cli)
    assert record["text_from"] == site.url("/hostile.xml")
    shown = cli("show", str(record["id"]))
    assert f"text: as the feed {site.url('/hostile.xml')} gave it" in shown.stdout
