"""Decode a Content-Encoding incrementally with a hard cap on the decoded size.

aiohttp's own decompression has no output limit; a 100 KB gzip body can inflate to 100 MB. Here
every step asks the decompressor for at most "room left + 1" bytes, so a bomb stops at the cap
and memory stays near the cap.
"""

from __future__ import annotations

import zlib

import brotli


class BodyTooLarge(Exception):
    """The decoded body exceeds the cap."""


class DecodeError(Exception):
    """The body is not valid data in its declared Content-Encoding."""


class IncompleteBody(DecodeError):
    """The compressed stream ended before its end marker (the server stopped early)."""


class BoundedDecoder:
    """Feed wire chunks in, get the decoded body out, never holding more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._coding = encoding.strip().lower()
        if self._coding not in ("", "identity", "gzip", "x-gzip", "deflate", "br"):
            raise DecodeError(f"unsupported content-encoding {encoding!r}")
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._pending = b""  # deflate: bytes held until the zlib-or-raw header is known
        self._zlib: zlib._Decompress | None = None
        self._brotli = brotli.Decompressor() if self._coding == "br" else None
        if self._coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes) -> None:
        """Decode one chunk; raises BodyTooLarge or DecodeError."""
        try:
            if self._brotli is not None:
                self._unbrotli(self._brotli, data)
            elif self._coding == "deflate":
                self._deflate(data)
            elif self._zlib is not None:
                self._inflate(self._zlib, data)
            else:
                self._keep(data)
        except (zlib.error, brotli.error) as exc:
            raise DecodeError(f"corrupt {self._coding} body: {exc}") from None

    def finish(self) -> bytes:
        """The whole decoded body; raises IncompleteBody if the compressed stream was cut."""
        if self._coding == "deflate" and self._zlib is None and self._pending:
            raise IncompleteBody("deflate body ended early")
        if (self._zlib is not None and not self._zlib.eof) or (
            self._brotli is not None and not self._brotli.is_finished()
        ):
            raise IncompleteBody(f"{self._coding} body ended early")
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise BodyTooLarge(f"decoded body over {self._limit} bytes")
        if data:
            self._parts.append(data)

    def _room(self) -> int:
        # One byte more than allowed, so reaching it proves the body is over the cap.
        return self._limit - self._size + 1

    def _deflate(self, data: bytes) -> None:
        # HTTP "deflate" should be zlib-wrapped, but some servers send raw deflate: the first
        # two bytes tell them apart (RFC 1950 header check).
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return
            first, second = self._pending[0], self._pending[1]
            wrapped = first & 0x0F == 8 and (first << 8 | second) % 31 == 0
            self._zlib = zlib.decompressobj(wbits=15 if wrapped else -15)
            data, self._pending = self._pending, b""
        self._inflate(self._zlib, data)

    def _inflate(self, stream: zlib._Decompress, data: bytes) -> None:
        while not stream.eof:  # bytes after the end of the stream are ignored
            out = stream.decompress(data, self._room())
            self._keep(out)
            data = stream.unconsumed_tail
            if not data and not out:
                return

    def _unbrotli(self, stream: brotli.Decompressor, data: bytes) -> None:
        self._keep(stream.process(data, output_buffer_limit=self._room()))
        while not stream.can_accept_more_data():
            self._keep(stream.process(b"", output_buffer_limit=self._room()))
