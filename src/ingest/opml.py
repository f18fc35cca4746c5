"""OPML subscription lists in and out: what feed readers export, and what they import.

Read with lxml and no entity expansion, no DTD and no network (an OPML file is as untrusted as
a feed); folders (nested outlines, or a `category="/a/b"` attribute) are kept as paths of
names. Written as OPML 2.0: one outline per feed inside its folders' outlines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

Folder = tuple[str, ...]


@dataclass
class Outline:
    """A feed an OPML file lists (merged when it is listed in several folders)."""

    url: str
    title: str | None = None
    site_url: str | None = None
    folders: list[Folder] = field(default_factory=list)


class OpmlError(ValueError):
    """Not an OPML document at all."""


def read_opml(data: bytes) -> list[Outline]:
    """The feeds of an OPML document, in document order, each URL once."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not XML: {exc}") from None
    if root is None or not isinstance(root.tag, str) or _local(root.tag) != "opml":
        raise OpmlError("not an OPML document (no <opml> root element)")
    body = next((child for child in root if _named(child, "body")), None)
    if body is None:
        raise OpmlError("not an OPML document (no <body>)")
    found: dict[str, Outline] = {}
    _walk(body, (), found)
    return list(found.values())


def _walk(parent: etree._Element, path: Folder, found: dict[str, Outline]) -> None:
    for node in parent:
        if not _named(node, "outline"):
            continue
        attrs = {str(key).lower(): (value or "").strip() for key, value in node.attrib.items()}
        name = attrs.get("text") or attrs.get("title") or None
        url = attrs.get("xmlurl")
        if url:
            outline = found.setdefault(url, Outline(url))
            outline.title = outline.title or name
            outline.site_url = outline.site_url or attrs.get("htmlurl") or None
            for folder in [path, *_categories(attrs.get("category", ""))]:
                if folder and folder not in outline.folders:
                    outline.folders.append(folder)
            _walk(node, path, found)
        else:  # a folder (an outline with no feed): its name nests what it holds
            _walk(node, (*path, name) if name else path, found)


def _categories(value: str) -> list[Folder]:
    """`category="/News/World,/Tech"`: slash-separated paths (OPML 2.0), comma-separated."""
    paths = (tuple(p for p in item.split("/") if p.strip()) for item in value.split(","))
    return [tuple(p.strip() for p in path) for path in paths if path]


def _named(node: etree._Element, name: str) -> bool:
    return isinstance(node.tag, str) and _local(node.tag).lower() == name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A feed to write out."""

    url: str
    title: str | None
    site_url: str | None
    folders: list[list[str]]


def write_opml(feeds: Iterable[Subscribed], *, title: str = "ingest subscriptions") -> bytes:
    """An OPML 2.0 document: folders as nested outlines, a feed in each folder it is filed in
    (readers merge a URL listed twice), unfiled feeds at the top level."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[Folder, etree._Element] = {(): body}
    for feed in feeds:
        for folder in [tuple(f) for f in feed.folders] or [()]:
            attrs = {"type": "rss", "text": feed.title or feed.url}
            if feed.title:
                attrs["title"] = feed.title
            attrs["xmlUrl"] = feed.url
            if feed.site_url:
                attrs["htmlUrl"] = feed.site_url
            etree.SubElement(_folder(folders, folder), "outline", attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _folder(folders: dict[Folder, etree._Element], path: Folder) -> etree._Element:
    if path not in folders:
        parent = _folder(folders, path[:-1])
        folders[path] = etree.SubElement(parent, "outline", text=path[-1], title=path[-1])
    return folders[path]
