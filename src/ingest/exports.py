"""`ingest export` formats: JSON lines, CSV, Atom, JSON Feed, and WARC of the original pages.

Every writer streams: it takes the article records one at a time (the store reads them in
batches) and writes each at once, so memory stays flat however large the archive.
"""

from __future__ import annotations

import csv
import html
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from xml.sax.saxutils import XMLGenerator

from warcio.warcwriter import WARCWriter

from ingest import __version__
from ingest.store.raw import Location

Record = dict[str, Any]
EXPORT_ID = "urn:ingest:export"
CSV_FIELDS = [
    "id",
    "title",
    "url",
    "canonical_url",
    "published",
    "author",
    "language",
    "sitename",
    "description",
    "word_count",
    "extraction",
    "fetched_at",
    "duplicate_of",
    "similarity",
    "revisions",
    "removed_at",
    "feeds",
    "text",
]


def write_jsonl(records: Iterable[Record], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[Record], out: TextIO) -> int:
    """RFC 4180 with a header; every text field quoted (texts hold commas, quotes, newlines);
    a byte order mark first, so spreadsheets read it as UTF-8."""
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    count = 0
    for record in records:
        feeds = " ".join(dict.fromkeys(s["feed_url"] for s in record["sources"]))
        row = record | {"feeds": feeds}
        writer.writerow(["" if row[f] is None else row[f] for f in CSV_FIELDS])
        count += 1
    return count


def _link(record: Record) -> str | None:
    return record["canonical_url"] or record["url"]


def _content_html(record: Record) -> str:
    """The sanitized article HTML, else the text as paragraphs."""
    if record.get("html"):
        return record["html"]
    return "".join(f"<p>{html.escape(p)}</p>" for p in record["text"].split("\n") if p.strip())


def _updated(record: Record) -> str:
    return record["fetched_at"] or record["published"] or _now()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_atom(records: Iterable[Record], out: TextIO) -> int:
    """An Atom 1.0 feed of the archive: one entry per article, its full text as content."""
    xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("feed", {"xmlns": "http://www.w3.org/2005/Atom"})
    _element(xml, "id", EXPORT_ID)
    _element(xml, "title", "ingest archive export")
    _element(xml, "updated", _now())
    _element(xml, "generator", "ingest", {"version": __version__})
    count = 0
    for record in records:
        xml.startElement("entry", {})
        _element(xml, "id", _link(record) or f"urn:ingest:article:{record['id']}")
        _element(xml, "title", record["title"] or "")
        if _link(record):
            xml.startElement("link", {"rel": "alternate", "href": _link(record)})
            xml.endElement("link")
        _element(xml, "updated", _updated(record))
        if record["published"]:
            _element(xml, "published", record["published"])
        if record["author"]:
            xml.startElement("author", {})
            _element(xml, "name", record["author"])
            xml.endElement("author")
        if record["description"]:
            _element(xml, "summary", record["description"])
        _element(xml, "content", _content_html(record), {"type": "html"})
        xml.endElement("entry")
        out.write("\n")
        count += 1
    xml.endElement("feed")
    xml.endDocument()
    out.write("\n")
    return count


def _element(xml: XMLGenerator, name: str, text: str, attrs: dict[str, str] | None = None) -> None:
    xml.startElement(name, attrs or {})
    xml.characters(_xml_safe(text))
    xml.endElement(name)


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped: they are dropped."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def write_json_feed(records: Iterable[Record], out: TextIO) -> int:
    """A JSON Feed 1.1 document, streamed item by item; `_ingest` keeps what the format lacks."""
    head = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "ingest archive export",
    }
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "items": [\n')
    count = 0
    for record in records:
        item: dict[str, Any] = {
            "id": str(record["id"]),
            "url": _link(record),
            "title": record["title"],
            "content_html": _content_html(record),
            "content_text": record["text"],
            "summary": record["description"],
            "image": record["image"],
            "date_published": record["published"],
            "date_modified": record["fetched_at"],
            "authors": [{"name": record["author"]}] if record["author"] else None,
            "language": record["language"],
            "_ingest": {
                "duplicate_of": record["duplicate_of"],
                "revisions": record["revisions"],
                "sources": [s["feed_url"] for s in record["sources"]],
            },
        }
        item = {k: v for k, v in item.items() if v is not None}
        out.write((",\n" if count else "") + json.dumps(item, ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def write_warc(
    pages: Iterable[tuple[int, Location, Location | None]], folder: Path, out: BinaryIO
) -> int:
    """The selected articles' original responses (and their requests), copied record for
    record: a revisit is replaced by the response it repeats, so the file stands alone."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = {"software": f"ingest/{__version__} (warcio)", "description": "ingest export"}
    writer.write_record(writer.create_warcinfo_record("ingest-export.warc.gz", info))
    count = 0
    for _article_id, record, payload in pages:
        source = payload if payload is not None else record
        for member in _members(folder, source):
            out.write(member)
        count += 1
    return count


def _members(folder: Path, location: Location) -> Iterator[bytes]:
    """The gzip member of the record, and the next one when it is that record's request."""
    with (folder / location.warc_file).open("rb") as stream:
        stream.seek(location.offset)
        yield stream.read(location.length)
        tail = stream.read(1 << 16)
    decoder = zlib.decompressobj(31)
    try:
        head = decoder.decompress(tail, 4096)
    except zlib.error:
        return
    if b"\r\nWARC-Type: request\r\n" in head.split(b"\r\n\r\n", 1)[0] + b"\r\n":
        decoder = zlib.decompressobj(31)
        decoder.decompress(tail)
        if decoder.eof:
            yield tail[: len(tail) - len(decoder.unused_data)]
