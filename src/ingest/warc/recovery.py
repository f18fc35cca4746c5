"""Finding where a WARC file's complete records end, and repairing a file a crash cut short.

A writer killed mid-record leaves a partial gzip member at the end of its file (and its marker
under `.open/`). At the next start the partial tail is moved to `quarantine/` and the file is
cut back to its last complete record, so every earlier record stays readable.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OPEN_DIR = ".open"
QUARANTINE_DIR = "quarantine"
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)\r\n", re.IGNORECASE)
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Repaired:
    """A file cut back to its complete records; the tail kept aside in `quarantined`."""

    warc_file: str
    kept_bytes: int
    quarantined: Path | None


def complete_length(path: Path) -> int:
    """Bytes of `path` made of complete records (gzip members each holding one whole record)."""
    good = pos = 0
    decoder = zlib.decompressobj(31)
    member = bytearray()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            data = chunk
            while data:
                try:
                    member += decoder.decompress(data)
                except zlib.error:
                    return good
                if not decoder.eof:
                    pos += len(data)
                    break
                pos += len(data) - len(decoder.unused_data)
                if not _whole_record(member):
                    return good
                good = pos
                data = decoder.unused_data
                decoder = zlib.decompressobj(31)
                member = bytearray()
    return good


def _whole_record(member: bytes) -> bool:
    """A WARC record with its declared Content-Length of content and its closing CRLF CRLF."""
    end = member.find(b"\r\n\r\n")
    found = _LENGTH.search(member, 0, end + 2) if member.startswith(b"WARC/") else None
    if end < 0 or found is None:
        return False
    return len(member) == end + 4 + int(found.group(1)) + 4 and member.endswith(b"\r\n\r\n")


def recover(folder: Path) -> list[Repaired]:
    """Repair every file left open by a writer that is gone (its marker, and no lock held)."""
    markers = folder / OPEN_DIR
    repaired: list[Repaired] = []
    if not markers.is_dir():
        return repaired
    for marker in sorted(markers.iterdir()):
        path = folder / marker.name
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            marker.unlink(missing_ok=True)
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its writer is alive and still writing
            repaired.append(_repair(folder, path, fd))
            marker.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return repaired


def _repair(folder: Path, path: Path, fd: int) -> Repaired:
    size = os.fstat(fd).st_size
    good = complete_length(path)
    if good == size:
        return Repaired(path.name, good, None)
    quarantine = folder / QUARANTINE_DIR
    quarantine.mkdir(mode=0o700, exist_ok=True)
    target = quarantine / f"{path.name}.{good}.partial"
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.lseek(fd, good, os.SEEK_SET)
        while chunk := os.read(fd, CHUNK):
            os.write(out, chunk)
        os.fsync(out)
    finally:
        os.close(out)
    os.ftruncate(fd, good)
    os.fsync(fd)
    log.warning(
        "WARC file %s was cut by a crash: %d partial bytes moved to %s",
        path.name,
        size - good,
        target,
    )
    return Repaired(path.name, good, target)
