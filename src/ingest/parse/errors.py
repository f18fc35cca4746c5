"""The one error parsing raises: the bytes are not a feed at all."""

from __future__ import annotations

from ingest.errors import IngestError


class NotAFeedError(IngestError):
    """The document is not a feed (an HTML page, an error body, garbage).

    A feed with problems is not this error: it parses to a `ParsedFeed` with `problem` set.
    """
