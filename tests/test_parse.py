"""Feed parsing: RSS, Atom and JSON Feed to ParsedFeed records, including the hostile cases."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.parse import NotAFeedError, parse_feed
from ingest.parse.xmlfeed import strip_internal_subset
from ingest.records import ParsedFeed
from tests.fixturefiles import load_fixture

BASE = "http://127.0.0.1:8123"
HEADLINE = "SenseTime Enters Singapore Through NTU, NSCC and Singtel Partnerships"
OTHER_1 = "Meituan Tests Drone Deliveries for Food Orders in Beijing Suburbs"
OTHER_2 = "Bilibili Adds Tipping for Live-Streaming Video Creators"
ARTICLE = f"{BASE}/2018/07/sensetime-singapore/"
LINK_1, LINK_2 = f"{BASE}/2018/07/other-1/", f"{BASE}/2018/07/other-2/"
JUL_2 = datetime(2018, 7, 2, 8, tzinfo=UTC)
JUL_1 = datetime(2018, 7, 1, 10, 30, tzinfo=UTC)
JUN_30 = datetime(2018, 6, 30, 14, 15, tzinfo=UTC)
TAGS_0, TAGS_1, TAGS_2 = ("AI", "Singapore"), ("Logistics", "Drones"), ("Media", "Video")
TYPES = {
    "feed.rss": "application/rss+xml; charset=utf-8",
    "feed.atom": "application/atom+xml",
    "feed.json": "application/feed+json",
}
# (guid, link, title, published, categories) per format, in feed order.
EXPECTED = {
    "feed.rss": [
        (f"{BASE}/?p=2875", ARTICLE, HEADLINE, JUL_2, TAGS_0),
        (f"{BASE}/?p=2861", LINK_1, OTHER_1, JUL_1, TAGS_1),
        (f"{BASE}/?p=2850", LINK_2, OTHER_2, JUN_30, TAGS_2),
    ],
    "feed.atom": [
        ("tag:pandaily.com,2018:post-2875", ARTICLE, HEADLINE, JUL_2, TAGS_0),
        ("tag:pandaily.com,2018:post-2861", LINK_1, OTHER_1, JUL_1, TAGS_1),
        ("tag:pandaily.com,2018:post-2850", LINK_2, OTHER_2, None, TAGS_2),  # <updated> only
    ],
    "feed.json": [
        ("2875", ARTICLE, HEADLINE, JUL_2, TAGS_0),
        ("2861", LINK_1, OTHER_1, JUL_1, TAGS_1),
        ("2850", LINK_2, OTHER_2, JUN_30, TAGS_2),
    ],
}
FORMATS = {"feed.rss": "rss20", "feed.atom": "atom10", "feed.json": "json11"}


def parse_fixture(name: str, content_type: str = "application/rss+xml") -> ParsedFeed:
    """Parse a fixture as if fetched from {BASE}/<name>."""
    return parse_feed(load_fixture(name, BASE), {"content-type": content_type}, f"{BASE}/{name}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_format_gives_every_entry_with_its_fields(name: str) -> None:
    feed = parse_fixture(name, TYPES[name])
    assert feed.format == FORMATS[name]
    assert feed.title == "Pandaily"
    assert feed.link == f"{BASE}/"
    assert feed.problem is None
    got = [(e.guid, e.link, e.title, e.published, e.categories) for e in feed.entries]
    assert got == EXPECTED[name]
    first = feed.entries[0]
    assert first.author == "Jane Doe"
    summary = first.content if name == "feed.json" else first.summary
    assert summary is not None
    assert summary.startswith("<p>SenseTime has signed memoranda")
    assert "strategic move" not in summary  # a teaser, not the full text


def test_rss_ttl_is_in_seconds_and_updated_does_not_fall_back_to_published() -> None:
    feed = parse_fixture("feed.rss")
    assert feed.ttl_seconds == 60 * 60
    # feedparser's entry.get("updated_parsed") silently returns the published date.
    assert all(entry.updated is None for entry in feed.entries)


def test_atom_sy_update_period_and_updated_dates() -> None:
    feed = parse_fixture("feed.atom", "application/atom+xml")
    assert feed.ttl_seconds == 3600 // 2  # hourly, twice
    assert feed.entries[0].updated == datetime(2018, 7, 2, 9, 30, tzinfo=UTC)
    assert feed.entries[2].published is None  # <updated> only: not copied into published
    assert feed.entries[2].updated == datetime(2018, 6, 30, 14, 15, tzinfo=UTC)
    assert feed.entries[2].summary == (
        "<p>Bilibili viewers can now send paid tips to creators during live streams.</p>"
    )


def test_enclosures_are_absolute_urls() -> None:
    for name in ("feed.rss", "feed.json"):
        feed = parse_fixture(name, TYPES[name])
        assert feed.entries[1].enclosures == (f"{BASE}/media/meituan-drone.mp4",)


def test_json_feed_is_sniffed_without_a_json_content_type() -> None:
    body = load_fixture("feed.json", BASE).replace(b"/version/", b"\\/version\\/")
    feed = parse_feed(body, {"content-type": "text/plain"}, f"{BASE}/feed.json")
    assert feed.format == "json11"
    assert len(feed.entries) == 3


def test_json_feed_keeps_the_good_items_and_reports_the_bad() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1", "title": "T", "items": [1, '
        b'{"id": 7, "url": "/a", "title": "A", "date_published": "not a date"}]}'
    )
    feed = parse_feed(body, {"content-type": "application/json"}, f"{BASE}/feed.json")
    assert feed.format == "json10"
    assert feed.problem == "1 item(s) are not objects"
    (entry,) = feed.entries
    assert (entry.guid, entry.link, entry.title, entry.published) == ("7", f"{BASE}/a", "A", None)


@pytest.mark.parametrize(
    "body",
    [b'{"error": "rate limited"}', b"{not json", b'["https://jsonfeed.org/version/1.1"]'],
)
def test_json_that_is_not_a_json_feed_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(body, {"content-type": "application/json"}, f"{BASE}/feed.json")


def test_duplicate_in_partner_feed_keeps_its_own_guid_and_tracking_link() -> None:
    feed = parse_fixture("partner.rss", "application/rss+xml")
    (entry,) = feed.entries
    assert feed.title == "TechPartner"
    assert entry.guid == "techpartner-88231"
    assert entry.link == f"{ARTICLE}?utm_source=partner&utm_medium=rss#comments"
    assert entry.title == HEADLINE


def test_minimal_feed_keeps_every_item_whatever_is_missing() -> None:
    feed = parse_fixture("minimal.rss", "text/xml")  # no charset: feedparser complains, not us
    assert feed.problem is None
    assert feed.title == "Minimal & Odd"
    assert feed.link == f"{BASE}/"
    no_guid, no_date, no_link, future, entities, relative = feed.entries
    assert no_guid.guid is None
    assert no_guid.link == f"{BASE}/2018/07/no-guid/"
    assert no_date.published is None
    assert no_date.updated is None
    assert (no_link.link, no_link.title) == (None, None)
    assert no_link.summary is not None
    assert f'href="{BASE}/about/"' in no_link.summary
    assert f'src="{BASE}/img/chart.png"' in no_link.summary
    assert future.published == datetime(2100, 1, 1, tzinfo=UTC)  # kept as the feed says
    assert entities.title == "Tom & Jerry “quoted” — café <3"
    assert relative.link == f"{BASE}/2018/07/relative/"


def test_malformed_feed_recovers_items_and_records_the_problem() -> None:
    feed = parse_fixture("malformed.rss")
    assert feed.problem is not None
    assert "not well-formed" in feed.problem
    assert [e.guid for e in feed.entries] == ["broken-1", "broken-2"]
    assert feed.entries[0].title == "Fish & Chips Weekly"  # whitespace, nbsp included, collapsed
    assert feed.entries[0].summary == "An <b>unclosed bold tag and a bare ampersand &amp; here.</b>"


def test_billion_laughs_expands_nothing() -> None:
    started = time.perf_counter()
    feed = parse_fixture("laughs.xml")
    print(f"laughs.xml parsed in {(time.perf_counter() - started) * 1000:.1f} ms")
    assert [e.guid for e in feed.entries] == ["laughs-1"]
    assert "lollol" not in repr(feed)
    # Nothing was declared: expat met an undefined entity, not its amplification limit.
    assert feed.problem is not None
    assert "undefined entity" in feed.problem


def test_billion_laughs_parses_in_bounded_memory() -> None:
    """Unparsed, this fixture makes expat allocate ~60 MB (and burn ~2 s) before its
    amplification limit stops it; with the subset dropped, parsing allocates almost nothing."""
    body = load_fixture("laughs.xml", BASE)
    tracemalloc.start()
    try:
        parse_feed(body, {"content-type": "application/rss+xml"}, f"{BASE}/laughs.xml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"{peak / 2**20:.1f} MiB"


def test_internal_subset_is_cut_from_the_one_line_prolog() -> None:
    text = load_fixture("laughs.xml", BASE).decode()
    assert "<!ENTITY" in text
    stripped = strip_internal_subset(text)
    assert "<!ENTITY" not in stripped
    assert stripped.startswith('<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE rss ><rss ')


def test_billion_laughs_in_utf16_expands_nothing() -> None:
    body = (
        load_fixture("laughs.xml", BASE).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    feed = parse_feed(body.encode("utf-16"), {}, f"{BASE}/laughs.xml")
    assert "lollol" not in repr(feed)


def test_external_entity_is_never_read() -> None:
    passwd = Path("/etc/passwd")
    if passwd.exists():
        assert "root:" in passwd.read_text()  # the test would see a leak
    feed = parse_fixture("xxe.xml")
    assert [e.guid for e in feed.entries] == ["xxe-1"]
    assert "root:" not in repr(feed)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("sensetime.html", "text/html; charset=utf-8"), ("index.html", "application/rss+xml")],
)
def test_html_page_is_not_a_feed(name: str, content_type: str) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(load_fixture(name, BASE), {"content-type": content_type}, f"{BASE}/")


@pytest.mark.parametrize("body", [b"", b"\x00\xff garbage \x13", b"Service Unavailable"])
def test_garbage_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(body, {}, f"{BASE}/feed")


def test_feed_html_is_sanitized_and_titles_are_plain_text() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title><item><guid>g</guid>
    <title>&lt;b&gt;Bold&lt;/b&gt; news</title>
    <description>&lt;p onclick="x()"&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;
    &lt;a href="javascript:alert(1)"&gt;j&lt;/a&gt;
    &lt;a href="/p"&gt;p&lt;/a&gt;&lt;/p&gt;</description>
    <link>javascript:alert(1)</link></item></channel></rss>"""
    (entry,) = parse_feed(body, {}, f"{BASE}/feed").entries
    assert entry.title == "Bold news"
    assert entry.link is None
    assert entry.summary is not None
    for unsafe in ("onclick", "script", "alert", "javascript"):
        assert unsafe not in entry.summary
    assert f'<a href="{BASE}/p" rel="noopener noreferrer">p</a>' in entry.summary


def test_strip_internal_subset_respects_quotes_and_comments() -> None:
    text = '<?xml version="1.0"?>\n<!DOCTYPE rss [<!-- ]> --><!ENTITY a "]>">]>\n<rss/>'
    assert strip_internal_subset(text) == '<?xml version="1.0"?>\n<!DOCTYPE rss >\n<rss/>'


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "x.dtd"><rss/>',
        "<rss><item><description><![CDATA[<!DOCTYPE x [ ]>]]></description></item></rss>",
    ],
)
def test_strip_internal_subset_leaves_other_documents_alone(text: str) -> None:
    assert strip_internal_subset(text) == text


# What may precede a DOCTYPE and hid it from the old byte-level cut (issue 13, HIGH 2).
_EXPANDED = "EXPANDED" * 50
_ENTITY_PROLOGS = [
    '<?xml version="1.0"?><!-- <a> --><!DOCTYPE rss [<!ENTITY a "{x}">]>',
    '<?xml version="1.0"?><?pi <x ?><!DOCTYPE rss [<!ENTITY a "{x}">]>',
    '<?xml version="1.0"?>\n<!-- one --> <?pi two?>\n'
    '<!DOCTYPE rss SYSTEM "[x>" [<!ENTITY a "{x}">]>',
]
_ENTITY_BODY = (
    '<rss version="2.0"><channel><title>T</title>'
    "<item><guid>e-1</guid><title>a &a; &a; b</title></item></channel></rss>"
)


@pytest.mark.parametrize("prolog", _ENTITY_PROLOGS)
@pytest.mark.parametrize(
    ("codec", "content_type"),
    [
        ("utf-8", "application/rss+xml"),
        ("utf-16-le", "application/rss+xml; charset=utf-16le"),  # UTF-16 without a BOM
        ("utf-16-be", "text/xml; charset=utf-16be"),
        ("utf-16", "application/xml"),  # with a BOM
    ],
)
def test_no_declared_entity_is_ever_expanded(prolog: str, codec: str, content_type: str) -> None:
    text = prolog.format(x=_EXPANDED) + _ENTITY_BODY
    if codec != "utf-8":
        text = text.replace('version="1.0"?>', f'version="1.0" encoding="{codec}"?>', 1)
    try:
        feed = parse_feed(text.encode(codec), {"content-type": content_type}, f"{BASE}/f")
    except NotAFeedError:
        return  # refusing the document is fine too
    assert "EXPANDED" not in repr(feed)


def test_content_location_header_is_the_base_of_relative_links() -> None:
    body = load_fixture("minimal.rss", BASE)
    headers = {"content-type": "text/xml", "content-location": "/mirror/feeds/minimal.rss"}
    feed = parse_feed(body, headers, f"{BASE}/minimal.rss")
    [no_link] = [e for e in feed.entries if e.link is None]
    assert no_link.summary is not None
    assert f'src="{BASE}/mirror/feeds/img/chart.png"' in no_link.summary  # relative to it
    assert f'href="{BASE}/about/"' in no_link.summary  # absolute path: the same either way
