"""Map an HTTP status to an error class: the scheduler backs off differently for each."""

from __future__ import annotations

from collections.abc import Mapping

from ingest.errors import ErrorClass

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def classify_status(status: int, headers: Mapping[str, str]) -> ErrorClass | None:
    """None for success, 304 and followable redirects; otherwise why the response failed."""
    if 200 <= status < 300 or status == 304 or status in REDIRECT_STATUSES:
        return None
    if status == 410:
        return ErrorClass.GONE
    if status == 429 or (status == 503 and "retry-after" in headers):
        return ErrorClass.RATE_LIMITED
    if 400 <= status < 500:
        return ErrorClass.HTTP_CLIENT
    if status >= 500:
        return ErrorClass.HTTP_SERVER
    return ErrorClass.REDIRECTS  # 300, 305, 1xx …: nothing we can follow
