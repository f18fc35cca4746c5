"""The exception hierarchy at the public edge, and the error classes stored on feeds.

Inside the pipeline errors are values (`FetchResult.error_class`, `feed.error_class`); exceptions
are for the edges: bad user input (`UsageError`, exit 2) and a broken archive (`StorageError`).
"""

from __future__ import annotations

import errno
from enum import StrEnum


class IngestError(Exception):
    """Base of every error `ingest` raises on purpose."""


class UsageError(IngestError, ValueError):
    """Bad input from the user: bad URL, unknown ID, unreadable config. CLI exit code 2."""


class ConfigError(UsageError):
    """The configuration file or environment is invalid."""


class StorageError(IngestError):
    """The archive cannot be opened or written."""

    exit_code = 2  # a wrong URL or path: retrying will not help


class ArchiveUnavailable(StorageError):
    """The database server did not answer: it may be down for a while (EX_TEMPFAIL, so a
    supervisor such as systemd restarts the daemon instead of giving up)."""

    exit_code = 75


class DiskFull(StorageError):
    """The archive's disk (or the database server's) is full: the run stops, nothing half-written
    stays (each write is one transaction); free space and run again."""

    exit_code = 1


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full", PostgreSQL's disk_full (SQLSTATE 53100), ENOSPC."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, OSError) and orig.errno == errno.ENOSPC:
        return True
    return getattr(orig, "sqlstate", None) == "53100" or "database or disk is full" in str(orig)


class ErrorClass(StrEnum):
    """Why a fetch failed; the scheduler backs off differently per class."""

    TIMEOUT = "timeout"
    NETWORK = "network"  # DNS, connection refused/reset, TLS
    HTTP_CLIENT = "http_4xx"  # 404 and other permanent-ish client errors
    HTTP_SERVER = "http_5xx"
    RATE_LIMITED = "rate_limited"  # 429, 503 with Retry-After
    GONE = "gone"  # 410
    TOO_LARGE = "too_large"  # body or decompressed size over the cap
    TRUNCATED = "truncated"  # fewer bytes than Content-Length
    REDIRECTS = "redirects"  # loop or too long a chain
    BLOCKED = "blocked"  # URL policy: private network, bad scheme
    ROBOTS = "robots"  # disallowed by robots.txt
    NOT_HTML = "not_html"  # an article link that is not a web page
    PARSE = "parse"  # not a feed / malformed beyond recovery
    EXTRACT = "extract"  # extractor found no text or crashed
    INTERNAL = "internal"  # a bug: recorded on the feed, the run goes on


class QueryTooCostly(UsageError):
    """A search ran past its time limit: the query (not the archive) must change. CLI exit 1;
    the API answers 400 like any bad query."""

    exit_code = 1
