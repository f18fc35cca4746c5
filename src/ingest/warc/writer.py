"""Writing WARC/1.1 files with warcio: one open file per writer, records never interleaved.

Each fetch becomes a `response` (or `revisit`) record followed by its `request` record (or,
for a response archived before WARC storage, a `metadata` record saying so), each its own gzip
member, flushed before the archive database points at it. A file is named for
its host, process and a random tag, so writers on one host or on nodes sharing storage never
write into one file; it is created 0600 and rotated past `max_bytes`. While a file is open its
writer holds an exclusive lock on it and a marker under `.open/`: a marker whose file nobody
locks was left by a crash, and `recover` (run when a writer starts) repairs that file.
"""

from __future__ import annotations

import fcntl
import io
import os
import secrets
import socket
import threading
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import GzippingWrapper, WARCWriter

from ingest import __version__
from ingest.records import Exchange, FetchResult
from ingest.warc.recovery import OPEN_DIR, recover

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PAYLOAD = RecordBuilder.REVISIT_PROFILE_1_1
# aiohttp removes the chunked transfer coding before we see the body: the header is renamed so
# no reader de-chunks the payload a second time (the convention of other archiving crawlers)
DECHUNKED = "X-Archive-Orig-Transfer-Encoding"


class _GzipMember(GzippingWrapper):
    """warcio's gzip member of one record, at zlib's default level (6) instead of warcio's 9:
    on the writer thread, half the CPU (1.1 -> 0.5 ms for an 80 KB page) for 0.2% more bytes."""

    def __init__(self, out: BinaryIO) -> None:  # not warcio's: it would set up level 9 first
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out


def _write_record(out: BinaryIO, record: ArcWarcRecord) -> None:
    """`record` as its own gzip member (warcio flushes the member at the record's end)."""
    WARCWriter(_GzipMember(out), gzip=False, warc_version="1.1").write_record(record)


def archived_payload(result: FetchResult) -> bytes | None:
    """The payload a response record keeps: the bytes as received (content coding included;
    an error response's body too), None when there is none (no response, a 304)."""
    exchange = result.exchange
    if exchange is not None and exchange.wire_body is not None:
        return exchange.wire_body
    return result.body


def payload_digest(payload: bytes) -> str:
    """The WARC-Payload-Digest of `payload` (sha1, base32), the key of digest dedupe."""
    digester = Digester("sha1")
    digester.update(payload)
    return str(digester)


@dataclass(frozen=True, slots=True)
class Original:
    """An archived response a revisit refers to: one whose payload a new response repeats,
    or the one a 304 says is still current."""

    uri: str
    at: datetime
    record_id: str | None = None  # its WARC-Record-ID, when its record could be read

    def refers_to(self) -> dict[str, str]:
        """The WARC/1.1 fields naming it in a revisit record."""
        fields = {
            "WARC-Refers-To-Target-URI": self.uri,
            "WARC-Refers-To-Date": datetime_to_iso_date(self.at),
        }
        return fields | ({"WARC-Refers-To": self.record_id} if self.record_id else {})


@dataclass(frozen=True, slots=True)
class Written:
    """Where a response record went: what the database keeps instead of the bytes."""

    warc_file: str  # relative to the WARC folder
    offset: int
    length: int
    payload_digest: str | None
    record_type: str  # response | revisit
    uri: str
    status: int
    at: datetime
    record_id: str  # WARC-Record-ID, for the revisits that will name it
    truncated: str | None  # WARC-Truncated: a revisit never refers to it


class WarcWriter:
    """Appends fetches to this process's current WARC file; thread-safe, one file at a time."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._name = ""
        self._serial = 0
        self._tag = f"{_safe(socket.gethostname())}-{os.getpid()}-{secrets.token_hex(3)}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        (folder / OPEN_DIR).mkdir(mode=0o700, exist_ok=True)
        self.recovered = recover(folder)

    def write(
        self,
        result: FetchResult,
        original: Original | None = None,
        *,
        at: datetime | None = None,
        about: list[tuple[str, str]] | None = None,
    ) -> Written | None:
        """Archive a fetch that got a response: a 304 as a `revisit` of the response it confirms
        (`original`, when known), a repeated payload as a `revisit` of `original`, anything else
        as a `response` (error responses too); None when there is nothing to keep (no response,
        or a body that was not read). `at` and `about` are for responses archived earlier whose
        request was not recorded: `about` (WARC fields) goes in a `metadata` record instead."""
        exchange = result.exchange
        if exchange is None or result.status is None:
            return None
        payload = archived_payload(result)
        if payload is None and not result.not_modified:
            return None
        at = (at or datetime.now(UTC)).replace(microsecond=0)
        digest = payload_digest(payload) if payload is not None else None
        build = RecordBuilder(warc_version="1.1")
        date = {"WARC-Date": datetime_to_iso_date(at)}
        http = _response_head(exchange, result.status)
        if result.not_modified or original is not None:
            profile = SERVER_NOT_MODIFIED if result.not_modified else IDENTICAL_PAYLOAD
            refers = original.refers_to() if original else {}
            record = build.create_warc_record(
                exchange.url,
                "revisit",
                http_headers=http,
                warc_headers_dict=date | {"WARC-Profile": profile} | refers,
            )
            record.rec_headers.remove_header("WARC-Payload-Digest")  # of no payload: none here
            if digest is not None:  # the payload it repeats
                record.rec_headers.add_header("WARC-Payload-Digest", digest)
        else:
            cut = {"WARC-Truncated": exchange.truncated} if exchange.truncated else {}
            record = build.create_warc_record(
                exchange.url,
                "response",
                payload=io.BytesIO(payload or b""),
                length=len(payload or b""),
                http_headers=http,
                warc_headers_dict=date | cut,
            )
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        after = (
            _request(build, exchange, date | {"WARC-Concurrent-To": record_id})
            if about is None
            else _metadata(build, exchange.url, about, date | {"WARC-Refers-To": record_id})
        )
        with self._lock:
            out = self._current()
            offset = out.tell()
            _write_record(out, record)
            length = out.tell() - offset
            _write_record(out, after)
            written = Written(
                self._name,
                offset,
                length,
                digest,
                record.rec_type,
                exchange.url,
                result.status,
                at,
                record_id,
                record.rec_headers.get_header("WARC-Truncated"),
            )
            if out.tell() >= self.max_bytes:
                self._close()
        return written

    def close(self) -> None:
        with self._lock:
            self._close()

    def _current(self) -> BinaryIO:
        if self._file is None:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            self._name = f"ingest-{stamp}-{self._serial:05d}-{self._tag}.warc.gz"
            path = self.folder / self._name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            marker = self.folder / OPEN_DIR / self._name
            marker.touch(mode=0o600)
            self._file = os.fdopen(fd, "ab")
            self._write_warcinfo(self._file)
        return self._file

    def _write_warcinfo(self, out: BinaryIO) -> None:
        info = {
            "software": f"ingest/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "hostname": socket.gethostname(),
        }
        _write_record(
            out, RecordBuilder(warc_version="1.1").create_warcinfo_record(self._name, info)
        )

    def _close(self) -> None:
        if self._file is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        (self.folder / OPEN_DIR / self._name).unlink(missing_ok=True)
        self._file.close()  # releases the lock
        self._file = None


def _request(build: RecordBuilder, exchange: Exchange, fields: dict[str, str]) -> ArcWarcRecord:
    return build.create_warc_record(
        exchange.url, "request", http_headers=_request_head(exchange), warc_headers_dict=fields
    )


def _metadata(
    build: RecordBuilder, uri: str, about: list[tuple[str, str]], fields: dict[str, str]
) -> ArcWarcRecord:
    text = "".join(f"{name}: {value}\r\n" for name, value in about).encode()
    return build.create_warc_record(
        uri,
        "metadata",
        payload=io.BytesIO(text),
        length=len(text),
        warc_content_type="application/warc-fields",
        warc_headers_dict=fields,
    )


def _response_head(exchange: Exchange, status: int) -> StatusAndHeaders:
    headers = [
        (DECHUNKED if name.lower() == "transfer-encoding" else name, value)
        for name, value in exchange.response_headers
    ]
    status_line = f"{status} {exchange.reason}".rstrip()
    return StatusAndHeaders(status_line, headers, protocol=f"HTTP/{exchange.http_version}")


def _request_head(exchange: Exchange) -> StatusAndHeaders:
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return StatusAndHeaders(
        f"{exchange.method} {target}",
        list(exchange.request_headers),
        protocol=f"HTTP/{exchange.http_version}",
        is_http_request=True,
    )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name) or "host"
