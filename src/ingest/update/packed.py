"""Blob bytes packed for storage (hashed and compressed) wherever the CPU is free: a worker."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PackedBlob:
    """Bytes ready for the blob table: sha256 of the raw bytes, raw size, zlib data."""

    hash: str
    size: int
    data: bytes


def pack(data: bytes) -> PackedBlob:
    return PackedBlob(hashlib.sha256(data).hexdigest(), len(data), zlib.compress(data, 6))
