"""Who is who: entry keys within a feed, canonical article URLs, and content hashes.

Pure functions. URL normalization is delegated to courlan (drops tracking parameters such as
utm_*, fbclid, gclid and default ports) chained with w3lib (drops fragments, resolves dot
segments, sorts the query): neither alone does both.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

from ingest.errors import UsageError
from ingest.records import ParsedEntry
from ingest.redact import redact_url
from ingest.unspaced import count_words

_SPACE = re.compile(r"[^\S\n]+")


def check_url(url: str) -> str:
    """A feed URL a user gave (CLI or feeds file): absolute http(s), else UsageError; anything
    else would be fetched as something else (feedparser would even open a local file)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:  # e.g. `http://[::1` (unclosed IPv6 bracket)
        raise UsageError(f"not a valid URL: {redact_url(url)!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {redact_url(url)!r}")
    return url.strip()


def feed_url(url: str) -> str:
    """The form a feed URL is stored in: canonical like an article's, so `…/rss.xml#top`,
    `HTTP://Host/rss.xml` and `…/rss.xml?utm_source=x` are one subscription, not three."""
    return canonical_url(check_url(url))


def canonical_url(url: str) -> str:
    """The URL every copy of one page shares: no tracking parameters, fragment or default port."""
    import courlan  # slow imports: only where URLs are compared (not for reading the archive)
    from w3lib.url import canonicalize_url

    url = url.strip()
    try:
        return canonicalize_url(courlan.normalize_url(url))
    except ValueError:
        return url


def normalize_text(text: str) -> str:
    """Unicode NFC, whitespace collapsed within lines, blank lines dropped: the hashed form."""
    lines = (
        _SPACE.sub(" ", line).strip() for line in unicodedata.normalize("NFC", text).split("\n")
    )
    return "\n".join(line for line in lines if line)


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def content_hash(text: str) -> str:
    """Exact-duplicate key of an article text: equal after `normalize_text`."""
    return sha256(normalize_text(text))


def entry_fingerprint(entry: ParsedEntry) -> str:
    """What the feed says about an item; a change of it is a new version of the entry."""
    return sha256("\x1f".join([entry.title or "", entry.summary or "", entry.content or ""]))


def entry_key(entry: ParsedEntry) -> str:
    """Stable identity of an item within its feed: guid, else canonical link, else content."""
    if entry.guid and entry.guid.strip():
        return "guid:" + entry.guid.strip()
    if entry.link:
        return "link:" + canonical_url(entry.link)
    return "hash:" + entry_fingerprint(entry)


def word_count(text: str) -> int:
    """Words in `text`; in Chinese or Japanese text each character counts as one (issue 10:
    a 1,500-character Chinese article counted 6 "words")."""
    return count_words(text)
