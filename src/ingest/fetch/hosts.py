"""Per-host politeness: concurrency, spacing between requests, and Retry-After blocks.

`HostGateProtocol` is what the Fetcher needs; `HostGate` keeps the state in memory for one
process. A database-backed gate can share the waits between processes behind the same async
methods.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from yarl import URL

from ingest.httpdate import parse_http_date


class HostGateProtocol(Protocol):
    """Admission control for requests to one host (`hostname:port`)."""

    async def acquire(self, host: str) -> datetime | None:
        """Wait for a slot; or, holding nothing, return when a rate-limit block on host ends."""

    async def release(self, host: str) -> None:
        """Give back the slot taken by a successful `acquire`."""

    async def block_until(self, host: str, when: datetime) -> None:
        """Refuse requests to host until `when` (aware UTC); a later block wins."""


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0  # time.monotonic() before which no request may start
    blocked_until: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HostGate:
    """In-memory HostGateProtocol: `concurrency` requests at once, `delay` s between starts."""

    def __init__(self, concurrency: int = 2, delay: float = 1.0) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self._concurrency))
        return state

    def _blocked(self, state: _Host) -> datetime | None:
        until = state.blocked_until
        return until if until is not None and until > datetime.now(UTC) else None

    async def acquire(self, host: str) -> datetime | None:
        state = self._host(host)
        if until := self._blocked(state):
            return until
        await state.slots.acquire()
        async with state.lock:  # reserve a start time, so waiters are spaced in turn
            now = time.monotonic()
            start = max(now, state.next_start)
            state.next_start = start + self._delay
        try:
            await asyncio.sleep(start - now)
        except BaseException:  # cancelled while waiting: do not leak the slot
            state.slots.release()
            raise
        if until := self._blocked(state):  # blocked while we waited
            state.slots.release()
            return until
        return None

    def blocked(self, host: str) -> datetime | None:
        """When the Retry-After block on `host` ends, if one is in force."""
        return self._blocked(self._host(host))

    async def release(self, host: str) -> None:
        self._host(host).slots.release()

    async def block_until(self, host: str, when: datetime) -> None:
        state = self._host(host)
        if state.blocked_until is None or when > state.blocked_until:
            state.blocked_until = when


def host_key(url: URL) -> str:
    """`hostname:port`, the unit of politeness (IPv6 literals bracketed)."""
    host = (url.host or "").lower()
    return f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"


def retry_after(
    headers: Mapping[str, str], now: datetime, *, max_wait: float | None = None
) -> datetime | None:
    """When a Retry-After header (seconds or HTTP-date) lets us come back, capped at `max_wait` s.

    None when the header is missing, unparsable or already past.
    """
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        when = now + timedelta(seconds=int(value))
    else:
        parsed = parse_http_date(value)
        if parsed is None:
            return None
        when = parsed
    if when <= now:
        return None
    if max_wait is not None:
        when = min(when, now + timedelta(seconds=max_wait))
    return when
