"""Bounded incremental decoding of Content-Encoding."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import brotli
import pytest

from ingest.fetch.decode import BodyTooLarge, BoundedDecoder, DecodeError, IncompleteBody

DATA = b"hello feed " * 1000


def decode(encoding: str, wire: bytes, limit: int = 2**20, chunk: int = 7) -> bytes:
    decoder = BoundedDecoder(encoding, limit)
    for start in range(0, len(wire), chunk):
        decoder.feed(wire[start : start + chunk])
    return decoder.finish()


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [
        ("", DATA),
        ("identity", DATA),
        ("gzip", gzip.compress(DATA)),
        ("x-gzip", gzip.compress(DATA)),
        ("deflate", zlib.compress(DATA)),
        ("deflate", raw_deflate(DATA)),  # what some servers send as "deflate"
        ("br", brotli.compress(DATA)),
        ("GZIP ", gzip.compress(DATA)),
    ],
)
def test_encodings_decode_in_small_chunks(encoding: str, wire: bytes) -> None:
    assert decode(encoding, wire) == DATA


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("", bytes),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
    ],
)
def test_output_over_limit_is_refused(encoding: str, pack: Callable[[bytes], bytes]) -> None:
    with pytest.raises(BodyTooLarge):
        decode(encoding, pack(bytes(100_000)), limit=50_000, chunk=4096)


def test_exactly_the_limit_is_accepted() -> None:
    assert decode("gzip", gzip.compress(bytes(5000)), limit=5000) == bytes(5000)


@pytest.mark.parametrize(
    ("encoding", "wire"),
    [("gzip", gzip.compress(DATA)[:-30]), ("br", brotli.compress(DATA)[:-3])],
)
def test_cut_stream_is_incomplete(encoding: str, wire: bytes) -> None:
    with pytest.raises(IncompleteBody):
        decode(encoding, wire)


def test_garbage_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode("gzip", b"not gzip at all")


def test_unknown_encoding_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="zstd"):
        BoundedDecoder("zstd", 100)
