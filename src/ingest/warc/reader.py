"""Reading one archived response back from its WARC file, by the offset the database keeps."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


class WarcReadError(OSError):
    """The record is missing or unreadable (file gone, offset wrong, bytes damaged)."""


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    record_type: str  # response | revisit
    uri: str
    date: str
    status_line: str  # "HTTP/1.1 200 OK"
    headers: list[tuple[str, str]]  # as received
    payload_digest: str | None
    body: bytes  # content coding removed (what parsers and extractors read)
    profile: str | None = None  # a revisit's WARC-Profile
    truncated: str | None = None  # WARC-Truncated: the payload is not whole

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def read_response(folder: Path, warc_file: str, offset: int, length: int) -> ArchivedResponse:
    """The record at `offset`; WarcReadError when it cannot be read back."""
    try:
        with (folder / warc_file).open("rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
        if len(data) != length:
            raise WarcReadError(f"{warc_file}: {len(data)} of {length} bytes at {offset}")
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        http = record.http_headers
        body = record.content_stream().read() if record.rec_type == "response" else b""
    except WarcReadError:
        raise
    except (OSError, StopIteration, ValueError, EOFError) as exc:
        raise WarcReadError(f"{warc_file} at {offset}: {exc or type(exc).__name__}") from None
    return ArchivedResponse(
        record_type=record.rec_type,
        uri=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=record.rec_headers.get_header("WARC-Date") or "",
        status_line=f"{http.protocol} {http.statusline}" if http else "",
        headers=list(http.headers) if http else [],
        payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
        body=body,
        profile=record.rec_headers.get_header("WARC-Profile"),
        truncated=record.rec_headers.get_header("WARC-Truncated"),
    )


@dataclass(frozen=True, slots=True)
class RecordHead:
    """What a revisit needs to know of the record it would refer to."""

    record_id: str | None
    truncated: str | None  # WARC-Truncated: its payload is not the whole resource


def read_head(folder: Path, warc_file: str, offset: int) -> RecordHead | None:
    """The WARC header fields of the record at `offset` (its header only); None when
    unreadable."""
    try:
        with (folder / warc_file).open("rb") as stream:
            stream.seek(offset)
            head = next(iter(ArchiveIterator(stream))).rec_headers
            return RecordHead(head.get_header("WARC-Record-ID"), head.get_header("WARC-Truncated"))
    except (OSError, StopIteration, ValueError, EOFError, zlib.error):
        return None
