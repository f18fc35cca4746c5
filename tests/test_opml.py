"""OPML in and out: `ingest feeds import` on files as other readers write them, and
`ingest feeds export` read back by the importer (round trip) and by listparser."""

from __future__ import annotations

import json
import time

import listparser
import pytest

from ingest.opml import Outline, Subscribed, read_opml, write_opml
from tests.conftest import Cli, Site

# As a reader with nested folders writes it (Inoreader/Thunderbird style: folders in folders,
# `title` and `text`, htmlUrl, a feed filed twice).
NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Subscriptions</title></head><body>
  <outline text="News" title="News">
    <outline text="Asia" title="Asia">
      <outline type="rss" text="Pandaily" title="Pandaily" xmlUrl="{base}/feed.atom"
               htmlUrl="https://pandaily.com/"/>
    </outline>
    <outline type="rss" text="Tech in Asia" xmlUrl="{base}/feed.rss"/>
  </outline>
  <outline title="Favourites">
    <outline type="rss" text="Pandaily again" xmlUrl="{base}/feed.atom"/>
  </outline>
</body></opml>"""

# Missing titles, a flat list, a `category` attribute, lower-case attribute names (some
# exporters), and URLs that are not feeds at all.
ODD = """<?xml version="1.0"?>
<opml version="2.0"><body>
  <outline type="rss" xmlUrl="{base}/feed.json" category="/Blogs/Tech,Daily"/>
  <outline type="rss" text="" xmlurl="{base}/partner.rss"/>
  <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
  <outline type="rss" text="Local file" xmlUrl="/etc/passwd"/>
</body></opml>"""


def sample(template: str, site: Site, encoding: str = "utf-8") -> bytes:
    return template.replace("{base}", site.base).encode(encoding)


def test_nested_folders_titles_and_site_links_are_kept(cli: Cli, site: Site) -> None:
    site.serve_all()
    (cli.cwd / "subs.opml").write_bytes(sample(NESTED, site))
    done = cli("feeds", "import", "subs.opml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2 added, 0 skipped (already subscribed), 0 invalid"
    listed = {f["url"]: f for f in json.loads(cli("feeds", "list", "-f", "json").stdout)}
    pandaily = listed[site.url("/feed.atom")]
    assert pandaily["title"] == "Pandaily"
    assert pandaily["site_url"] == "https://pandaily.com/"
    assert pandaily["folders"] == [["News", "Asia"], ["Favourites"]]
    assert listed[site.url("/feed.rss")]["folders"] == [["News"]]
    # checked as `feeds add` checks: each new feed was fetched once
    assert len(site.requests("/feed.atom")) == 1
    # importing again: everything is a duplicate, nothing is fetched
    again = cli("feeds", "import", "subs.opml")
    assert again.stdout.strip() == "0 added, 2 skipped (already subscribed), 0 invalid"
    assert len(site.requests("/feed.atom")) == 1


def test_missing_titles_categories_and_invalid_urls(cli: Cli, site: Site) -> None:
    site.serve_all()
    (cli.cwd / "odd.opml").write_bytes(sample(ODD, site))
    done = cli("feeds", "import", "odd.opml")
    assert done.returncode == 1  # some were invalid
    assert done.stdout.strip() == "2 added, 0 skipped (already subscribed), 2 invalid"
    assert "invalid: javascript:alert(1)" in done.stderr
    assert "invalid: /etc/passwd" in done.stderr
    assert "Traceback" not in done.stderr
    listed = {f["url"]: f for f in json.loads(cli("feeds", "list", "-f", "json").stdout)}
    assert listed[site.url("/feed.json")]["folders"] == [["Blogs", "Tech"], ["Daily"]]
    # no title in the file: the feed's own title, as `feeds add` finds it
    assert listed[site.url("/partner.rss")]["title"]


def test_a_dead_feed_is_added_and_a_page_without_feed_is_invalid(cli: Cli, site: Site) -> None:
    site.serve("/", "index.html", "text/html")  # links to /feed.rss
    site.server.expect_request("/plain").respond_with_data("<html>no feed</html>", 200)
    opml = (
        '<opml version="2.0"><body>'
        f'<outline xmlUrl="{site.url("/")}"/>'
        f'<outline xmlUrl="{site.url("/plain")}"/>'
        '<outline xmlUrl="http://127.0.0.1:9/down.xml"/>'
        "</body></opml>"
    )
    (cli.cwd / "mixed.opml").write_text(opml)
    done = cli("feeds", "import", "mixed.opml")
    assert done.stdout.strip() == "2 added, 0 skipped (already subscribed), 1 invalid"
    assert f"discovered from {site.url('/')}" in done.stderr
    assert "could not fetch it now" in done.stderr
    assert f"invalid: {site.url('/plain')} (no feed found" in done.stderr


@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1252", "utf-16", "utf-8-sig"])
def test_odd_encodings(encoding: str) -> None:
    """Decoded by the XML declaration or the byte order mark."""
    declared = encoding.removesuffix("-sig")
    document = (
        f'<?xml version="1.0" encoding="{declared}"?>'
        '<opml version="2.0"><body><outline text="Économie">'
        '<outline text="Le Monde «Café Crème»" xmlUrl="https://example.org/éco.xml"/>'
        "</outline></body></opml>"
    )
    assert read_opml(document.encode(encoding)) == [
        Outline("https://example.org/éco.xml", "Le Monde «Café Crème»", None, [("Économie",)])
    ]


def test_entities_are_not_expanded() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(ord(p) + 1)} "{("&" + p + ";") * 10}">' for p in "abcdefgh")
        + ']><opml version="2.0"><body><outline text="&i;" xmlUrl="https://example.org/f"/>'
        "</body></opml>"
    )
    started = time.process_time()
    found = read_opml(laughs.encode())  # libxml2 stops at its amplification limit
    assert time.process_time() - started < 5  # a safety bound, not a speed goal
    assert all("aaaaaaaaaa" not in (outline.title or "") for outline in found)
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://example.org/f"/>'
        "</body></opml>"
    )
    [outline] = read_opml(xxe.encode())
    assert "root:" not in (outline.title or "")


def test_not_opml_is_one_clear_error(cli: Cli) -> None:
    (cli.cwd / "feed.xml").write_text("<rss><channel/></rss>")
    (cli.cwd / "junk.opml").write_bytes(b"\x00\x01 not xml")
    for name in ("feed.xml", "junk.opml", "missing.opml"):
        done = cli("feeds", "import", name)
        assert done.returncode == 2
        [line] = done.stderr.splitlines()
        assert line.startswith("error: ")


def test_export_round_trips_and_other_readers_import_it(cli: Cli, site: Site) -> None:
    site.serve_all()
    (cli.cwd / "subs.opml").write_bytes(sample(NESTED, site))
    cli("feeds", "import", "subs.opml")
    cli("feeds", "add", site.url("/minimal.rss"))  # unfiled
    done = cli("feeds", "export", "-o", "out.opml")
    assert done.returncode == 0, done.stderr
    exported = (cli.cwd / "out.opml").read_bytes()
    assert exported.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">")
    assert cli("feeds", "export").stdout.encode().count(b"xmlUrl=") == exported.count(b"xmlUrl=")
    # another reader's parser sees every feed with its folders
    parsed = listparser.parse(exported)
    assert not parsed.bozo
    by_url = {feed.url: feed for feed in parsed.feeds}
    assert set(by_url) == {site.url(p) for p in ("/feed.atom", "/feed.rss", "/minimal.rss")}
    assert ["News", "Asia"] in by_url[site.url("/feed.atom")].categories
    # and a fresh archive importing it ends with the same subscriptions
    other = Cli(cli.cwd, cli.db_url.replace("ingest.db", "other.db"))
    assert other("feeds", "import", "out.opml", "--no-check").returncode == 0
    mine = json.loads(cli("feeds", "list", "-f", "json").stdout)
    theirs = json.loads(other("feeds", "list", "-f", "json").stdout)
    keys = ("url", "title", "site_url", "folders")

    def rows(listed: list[dict[str, object]]) -> list[list[object]]:
        return sorted([f[k] for k in keys] for f in listed)

    assert rows(theirs) == rows(mine)


def test_write_opml_nests_folders_once() -> None:
    document = write_opml(
        [
            Subscribed("https://a.example/feed", "A & B <news>", None, [["X", "Y"]]),
            Subscribed("https://b.example/feed", None, "https://b.example/", [["X"]]),
        ]
    )
    outlines = read_opml(document)
    assert outlines == [
        Outline("https://a.example/feed", "A & B <news>", None, [("X", "Y")]),
        Outline("https://b.example/feed", "https://b.example/feed", "https://b.example/", [("X",)]),
    ]
    assert document.count(b'text="X"') == 1
