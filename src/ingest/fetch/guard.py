"""Enforce the address policy on the socket of every page connection, after DNS resolution.

aiohttp calls `socket_factory` with each resolved address just before `connect()`, for IP
literals and hostnames alike and for every redirect hop, so nothing reaches a forbidden address:
not an odd spelling, not DNS rebinding, not a redirect. The per-request part (the feed's origin
addresses) travels in a context variable, and the factory records what it refused so the client
can report BLOCKED rather than a generic network error.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiohappyeyeballs import AddrInfoType
from yarl import URL

from ingest.fetch.urlpolicy import AllowRule, canonical, is_allowed

OriginAddrs = frozenset[tuple[str, int]]
SocketFactory = Callable[[AddrInfoType], socket.socket]


@dataclass
class RequestScope:
    """What one page fetch may reach beyond the global policy, and what it was refused."""

    origin_addrs: OriginAddrs = frozenset()
    blocked: list[str] = field(default_factory=list)


_scope: ContextVar[RequestScope | None] = ContextVar("ingest_fetch_scope", default=None)


class BlockedAddressError(OSError):
    """Raised inside aiohttp's connect path; never escapes the Fetcher."""


@contextmanager
def request_scope(scope: RequestScope) -> Iterator[RequestScope]:
    """Make `scope` visible to socket factories for connections opened inside the block."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def guarded_socket_factory(allow: tuple[AllowRule, ...], *, honour_origin: bool) -> SocketFactory:
    """A socket factory that refuses addresses the policy forbids.

    `honour_origin=False` is for pooled connectors: a kept-alive connection may be reused by any
    later request, so its address must be allowed regardless of which feed asked for it.
    """

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        ip, port = str(sockaddr[0]), int(sockaddr[1])
        scope = _scope.get()
        origin = scope.origin_addrs if honour_origin and scope is not None else frozenset()
        if not is_allowed(ip, port, allow=allow, origin_addrs=origin):
            if scope is not None:
                scope.blocked.append(f"{ip} port {port}")
            # The same text for every address lets aiohappyeyeballs re-raise it unchanged.
            raise BlockedAddressError("address blocked by policy")
        return socket.socket(family, type_, proto)

    return factory


async def resolve_origin(url: str, timeout: float) -> OriginAddrs:
    """The (address, port) pairs the feed URL resolves to; empty when it does not resolve."""
    try:
        parsed = URL(url)
        if parsed.host is None or parsed.port is None:
            return frozenset()
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(
                parsed.host, parsed.port, type=socket.SOCK_STREAM
            )
    except (OSError, ValueError):  # TimeoutError is an OSError
        return frozenset()
    return frozenset((str(canonical(str(info[4][0]))), parsed.port) for info in infos)
