"""Immutable records passed between pipeline stages.

No ORM object travels through the pipeline: each stage takes and returns these plain values,
so the pure stages (parse, extract, identity, dedupe, schedule) are tested with tables of cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered from the previous response."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """The last request and response of a fetch as they went over the wire: what the WARC
    archive keeps (header names, order and case as sent and received)."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    http_version: str  # "1.1"
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    # the payload as received when it is not `body`: content-coded bytes, the body of an
    # error response, or what was read of a body refused or cut short (perhaps nothing): kept
    # for the archive only; None: same as `body`
    wire_body: bytes | None = None
    truncated: str | None = None  # why that payload is cut short (WARC-Truncated: length, time…)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP request, success or failure: errors are values, never raised."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None  # None when no response arrived (DNS, connect, timeout, policy)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes | None = None  # decoded (decompressed) bytes; None on 304 or failure
    error_class: str | None = None  # see ingest.errors.ErrorClass
    error: str | None = None  # one-line human message
    duration_ms: int = 0  # the request itself (connect, redirects, body)
    queue_ms: int = 0  # waiting for the host's turn (politeness), not part of duration_ms
    bytes_read: int = 0  # bytes on the wire
    redirects: tuple[tuple[int, str], ...] = ()  # (status, target URL) per hop
    hops: tuple[FetchResult, ...] = ()  # the redirect responses followed, each archived too
    peer: str | None = None  # the IP address that sent the final response
    exchange: Exchange | None = None  # the last hop as exchanged, when a response arrived
    robots: tuple[FetchResult, ...] = ()  # robots.txt fetched on this request's behalf

    @property
    def ok(self) -> bool:
        return self.error_class is None and self.status is not None and self.status < 400

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def deferred(self) -> bool:
        """Never sent: the host is under a Retry-After block (its end is in `retry-after`)."""
        return self.status is None and self.error_class == "rate_limited"

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed item as the feed describes it (HTML fields already sanitized)."""

    guid: str | None
    link: str | None
    title: str | None
    author: str | None = None
    summary: str | None = None  # sanitized HTML
    content: str | None = None  # sanitized HTML (full content when the feed carries it)
    published: datetime | None = None  # aware UTC
    updated: datetime | None = None  # aware UTC
    categories: tuple[str, ...] = ()
    enclosures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document as parsed; `problem` records what was wrong without losing the data."""

    format: str  # e.g. "rss20", "atom10", "json11"
    title: str | None
    link: str | None  # the site's home page
    entries: tuple[ParsedEntry, ...]
    ttl_seconds: int | None = None  # <ttl> or sy:updatePeriod/updateFrequency
    problem: str | None = None  # bozo exception text, etc.


@dataclass(frozen=True, slots=True)
class Extracted:
    """What trafilatura (plus our boilerplate rules) found in an article page."""

    text: str
    html: str | None = None  # sanitized article HTML for display
    title: str | None = None
    author: str | None = None
    published: datetime | None = None  # aware UTC
    sitename: str | None = None
    language: str | None = None
    description: str | None = None
    image: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    canonical_url: str | None = None
    extractor: str | None = None  # what produced this: `ingest reextract --outdated` finds it


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the archive knows about a feed when it is claimed for an update."""

    id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    interval_override: int | None = None
    error_count: int = 0
    failing_since: datetime | None = None
    redirect_url: str | None = None
    redirect_count: int = 0
    ttl_seconds: int | None = None  # as last declared, still binding after a 304

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)
