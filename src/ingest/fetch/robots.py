"""robots.txt per site, fetched through the Fetcher and cached in memory.

Status rules follow RFC 9309 where it is generous: a 4xx (no robots.txt) allows everything. Where
it is strict we are not: a 5xx or unreachable robots.txt also allows, and is retried sooner. The
pages we fetch are links the publisher put in its own feed for readers to follow, and the page
request itself fails anyway if the site is down, so refusing would only lose articles.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.robotparser import RobotFileParser

from yarl import URL

from ingest.records import FetchResult

ROBOTS_TTL = 24 * 3600.0  # RFC 9309: cached rules should not be used for more than 24 h
FAILURE_TTL = 600.0  # a broken robots.txt is asked again sooner

RobotsFetch = Callable[[str], Awaitable[FetchResult]]


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups match against: `ingest/0.1 (+…)` → `ingest`."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


class RobotsCache:
    """Answers "may we fetch this URL?" per site (scheme, host, port)."""

    def __init__(self, agent: str) -> None:
        self._agent = agent
        self._rules: dict[str, tuple[float, RobotFileParser | None]] = {}  # None = allow all
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: URL, fetch: RobotsFetch) -> bool:
        """Fetch robots.txt for url's site if not cached (one fetch per site at a time)."""
        site = str(url.origin())
        async with self._locks.setdefault(site, asyncio.Lock()):
            cached = self._rules.get(site)
            if cached is None or cached[0] < time.monotonic():
                cached = self._rules[site] = await self._load(site, fetch)
        rules = cached[1]
        return rules is None or rules.can_fetch(self._agent, str(url))

    async def _load(self, site: str, fetch: RobotsFetch) -> tuple[float, RobotFileParser | None]:
        result = await fetch(f"{site}/robots.txt")
        now = time.monotonic()
        if result.deferred:  # not asked (Retry-After): the page waits too; ask when it goes
            return now, None
        if result.ok and result.body is not None:
            rules = RobotFileParser()
            rules.parse(result.body.decode("utf-8", errors="replace").splitlines())
            rules.modified()  # can_fetch refuses everything until the parser is marked read
            return now + ROBOTS_TTL, rules
        if result.status is not None and 400 <= result.status < 500 and result.status != 429:
            return now + ROBOTS_TTL, None
        return now + FAILURE_TTL, None
