"""Data as published (issue 10): literal text about HTML, impossible dates, one timestamp form
in every machine output, quiet re-checks of unchanged pages."""

from __future__ import annotations

import json
import re

import pytest

from ingest.parse import parse_feed
from ingest.store import nodes
from ingest.store.engine import open_archive
from tests.conftest import Cli, Site
from tests.test_revisions import serve_page
from tests.webarchive import Served

RSS_ITEM = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
    "<item><title>{title}</title><link>http://a.example/1</link>{extra}</item></channel></rss>"
)
ATOM_ENTRY = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry><id>1</id>'
    '<link href="http://a.example/1"/>{inner}</entry></feed>'
)


def _rss(title: str, extra: str = "") -> object:
    body = RSS_ITEM.format(title=title, extra=extra).encode()
    return parse_feed(body, {"content-type": "application/rss+xml"}, "http://a.example/")


def _atom(inner: str) -> object:
    body = ATOM_ENTRY.format(inner=inner).encode()
    return parse_feed(body, {"content-type": "application/atom+xml"}, "http://a.example/")


@pytest.mark.parametrize(
    "parsed",
    [
        lambda: _rss("History of the &lt;blink&gt; tag"),
        lambda: _rss("<![CDATA[History of the &lt;blink&gt; tag]]>"),
        lambda: _rss("History of the &amp;lt;blink&amp;gt; tag"),
        lambda: _atom('<title type="html">History of the &amp;lt;blink&amp;gt; tag</title>'),
        lambda: _atom('<title type="text">History of the &lt;blink&gt; tag</title>'),
    ],
)
def test_a_title_about_html_keeps_its_literal_text(parsed: object) -> None:
    assert parsed().entries[0].title == "History of the <blink> tag"


@pytest.mark.parametrize("raw", ["2025-02-30T25:61:00Z", "2025-13-01T00:00:00Z"])
def test_impossible_dates_are_missing_not_rolled_over(raw: str) -> None:
    atom = _atom(f"<title>t</title><published>{raw}</published><updated>{raw}</updated>")
    assert (atom.entries[0].published, atom.entries[0].updated) == (None, None)
    assert _rss("t", f"<pubDate>{raw}</pubDate>").entries[0].published is None
    good = _atom("<title>t</title><published>2025-02-28T23:59:60Z</published>")  # leap second
    assert good.entries[0].published is not None


STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}[^\"]*")
ONE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def _stamps(text: str) -> list[str]:
    found = STAMP.findall(text)
    assert found, text
    return found


def test_every_machine_output_writes_times_one_way(served: Served) -> None:
    cli = served.cli
    outputs = [
        cli("search", "singapore", "--format", "json").stdout,
        cli("export").stdout,
        cli("feeds", "list", "--format", "json").stdout,
        cli("log", "--format", "json").stdout,
        cli("show", "1", "--format", "json").stdout,
        cli("show", "1", "--revisions", "--format", "json").stdout,
        json.dumps(served.get("/api/search?q=singapore")[1]),
        json.dumps(served.get("/api/articles")[1]),
        json.dumps(served.get("/api/feeds")[1]),
    ]
    engine = open_archive(cli.db_url)  # a daemon's start and tick, for `status` to show
    nodes.register(engine, "daemon:test", "daemon")
    nodes.beat(engine, "daemon:test", in_flight=0, ticked=True)
    outputs.append(cli("status", "--format", "json").stdout)
    for text in outputs:
        for stamp in _stamps(text):
            assert ONE_FORM.fullmatch(stamp), stamp


def test_recheck_of_an_unchanged_page_prints_no_warning(cli: Cli, site: Site) -> None:
    serve_page(site, "sensetime.html", '"v1"')
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    done = cli("fetch", "--recheck")
    assert done.returncode == 0 and "unchanged" in done.stdout
    assert "WARNING" not in done.stderr and "None: None" not in done.stderr, done.stderr
