"""`ingest export` in every format, filtered like search, read back by the formats' own readers:
feedparser (Atom), the JSON Feed reader of the pipeline, csv, warcio."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from warcio.archiveiterator import ArchiveIterator

from ingest.exports import CSV_FIELDS
from ingest.parse import parse_feed
from tests.conftest import Cli, Site
from tests.fixturefiles import load_fixture

pytestmark = pytest.mark.timeout(300)  # a fetch, then one process per export
SENSETIME = "SenseTime Enters Singapore Through NTU, NSCC and Singtel Partnerships"


@pytest.fixture(scope="module")
def archived(server: HTTPServer, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One fetched archive for every test here: exports only read it."""
    server.clear()
    site = Site(server)
    site.serve_all()
    folder = tmp_path_factory.mktemp("export")
    cli = Cli(folder, f"sqlite:///{folder / 'archive' / 'ingest.db'}")
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    return cli


def exported(cli: Cli, *args: str) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "export", *args],
        cwd=cli.cwd,
        env=cli.env(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def jsonl(cli: Cli, *args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in exported(cli, *args).splitlines()]


def test_filters_are_the_ones_search_has(archived: Cli, site: Site) -> None:
    everything = jsonl(archived)
    assert len(everything) == 3
    [hit] = jsonl(archived, "--query", "singtel")
    assert hit["title"] == SENSETIME
    assert jsonl(archived, "--since", "2000-01-01") == everything
    assert jsonl(archived, "--until", "2000-01-01") == []
    assert jsonl(archived, "--feed", site.url("/feed.rss"), "--site", "127.0.0.1") == everything
    assert jsonl(archived, "--site", "example.org") == []
    bad = archived("export", "--since", "yesterday")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --since: not a date")
    both = archived("export", "--format", "csv", "--with-revisions")
    assert both.returncode == 2 and len(both.stderr.splitlines()) == 1


def test_csv_opens_in_a_spreadsheet(archived: Cli) -> None:
    data = exported(archived, "--format", "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8, marked for spreadsheets
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == CSV_FIELDS
    by_title = {row[1]: dict(zip(CSV_FIELDS, row, strict=True)) for row in rows[1:]}
    assert len(by_title) == 3
    record = by_title[SENSETIME]
    [original] = jsonl(archived, "--query", "singtel")
    assert record["text"] == original["text"] and "\n" in record["text"]  # newlines kept
    assert record["feeds"].endswith("/feed.rss")
    for line in data.decode("utf-8-sig").split("\r\n")[1:2]:
        assert line.startswith('1,"')  # numbers bare, text quoted


def test_atom_is_a_full_text_feed(archived: Cli) -> None:
    data = exported(archived, "--format", "atom")
    parsed = feedparser.parse(io.BytesIO(data))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and len(parsed.entries) == 3
    entry = next(e for e in parsed.entries if e.title == SENSETIME)
    assert "Singtel" in entry.content[0].value and len(entry.content[0].value) > 1000
    assert entry.link.endswith("/2018/07/sensetime-singapore/")
    assert entry.published_parsed is not None


def test_json_feed_is_a_full_text_feed(archived: Cli, site: Site) -> None:
    data = exported(archived, "--format", "json-feed")
    document = json.loads(data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    parsed = parse_feed(data, {"content-type": "application/feed+json"}, site.url("/export"))
    assert len(parsed.entries) == 3
    entry = next(e for e in parsed.entries if e.title == SENSETIME)
    assert "Singtel" in (entry.content or "")
    [original] = jsonl(archived, "--query", "singtel")
    [item] = [i for i in document["items"] if i["title"] == SENSETIME]
    assert item["content_text"] == original["text"]


def test_warc_holds_the_selected_original_responses(archived: Cli, site: Site) -> None:
    data = exported(archived, "--format", "warc", "--query", "singtel")
    found = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
        found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI")))
        if record.rec_type == "response":
            assert record.content_stream().read() == load_fixture("sensetime.html", site.base)
    page = site.url("/2018/07/sensetime-singapore/")
    assert found == [("warcinfo", None), ("response", page), ("request", page)]
    everything = exported(archived, "--format", "warc", "-o", "all.warc.gz")
    assert everything == b""
    path = Path(archived.cwd / "all.warc.gz")
    with path.open("rb") as stream:
        kinds = [r.rec_type for r in ArchiveIterator(stream, check_digests="raise")]
    assert kinds.count("response") == 3
