"""Content-addressed raw bytes: every fetched feed and page is kept once, zlib-compressed."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import sqlalchemy as sa

from ingest.identity import sha256
from ingest.store.models import Blob, utcnow
from ingest.store.upsert import insert_ignore
from ingest.update.packed import PackedBlob


def put_blob(conn: sa.Connection, data: bytes) -> str:
    """Store `data` unless already there; returns its sha256, the key other rows point to.

    A page is kept twice over (its fetch-log row, then its article) and an unchanged feed on
    every poll without validators: a primary-key lookup spares compressing it again.
    """
    digest = sha256(data)
    if conn.execute(sa.select(Blob.hash).where(Blob.hash == digest)).first() is not None:
        return digest
    conn.execute(
        insert_ignore(conn, Blob, ["hash"]).values(
            hash=digest, size=len(data), data=zlib.compress(data, 6), created_at=utcnow()
        )
    )
    return digest


def put_packed(conn: sa.Connection, blobs: Sequence[PackedBlob]) -> None:
    """Store blobs compressed elsewhere (the worker processes), in one executemany."""
    unique = {blob.hash: blob for blob in blobs}
    if not unique:
        return
    now = utcnow()
    conn.execute(
        insert_ignore(conn, Blob, ["hash"]),
        [
            {"hash": b.hash, "size": b.size, "data": b.data, "created_at": now}
            for b in unique.values()
        ],
    )


def get_blob(conn: sa.Connection, digest: str) -> bytes | None:
    data = conn.execute(sa.select(Blob.data).where(Blob.hash == digest)).scalar()
    return None if data is None else zlib.decompress(data)
