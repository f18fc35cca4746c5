"""HTTP fetching for feeds and article pages: limits, politeness, SSRF policy, robots.txt.

`Fetcher` (and with it aiohttp) is imported on first use, so modules that only need a piece of
this package (e.g. `fetch.hosts`) and commands that never fetch start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.fetch.hosts import HostGate, HostGateProtocol

if TYPE_CHECKING:
    from ingest.fetch.client import Fetcher

__all__ = ["Fetcher", "HostGate", "HostGateProtocol"]


def __getattr__(name: str) -> Any:
    if name == "Fetcher":
        from ingest.fetch.client import Fetcher

        return Fetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
