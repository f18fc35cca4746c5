"""The HTTP layer: every network or HTTP fault comes back as a FetchResult, never an exception.

Every request, feed or page, runs under the address policy (see `guard`): public addresses, the
`allow_networks` entries, and the address and port of the URL the user vouched for (a feed's own
URL; the URL typed at `feeds add`). Two connection pools: one kept alive, for addresses allowed
for everyone, and one never kept alive, for requests whose vouched origin is private (a pooled
connection must not outlive the request whose origin allowed it). Redirects are followed by hand
so every hop passes the URL checks, robots, the host gate and, through the socket factory, the
address policy: a redirect cannot lead a feed or a page anywhere its origin could not go.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ingest.config import Settings
from ingest.errors import ErrorClass
from ingest.fetch.decode import BodyTooLarge, BoundedDecoder, DecodeError, IncompleteBody
from ingest.fetch.guard import (
    RequestScope,
    SocketFactory,
    guarded_socket_factory,
    request_scope,
    resolve_origin,
)
from ingest.fetch.hosts import HostGate, HostGateProtocol, host_key, retry_after
from ingest.fetch.robots import RobotsCache, agent_token
from ingest.fetch.status import REDIRECT_STATUSES, classify_status
from ingest.fetch.urlpolicy import is_allowed, parse_networks
from ingest.records import Exchange, FetchResult, Validators

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ROBOTS_MAX_BYTES = 512 * 1024  # what Google reads of a robots.txt
ROBOTS_TIMEOUT = 10.0
ARCHIVED_BODY_SECONDS = 5.0  # an error or redirect body that trickles is cut (WARC-Truncated)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one kind of request is made."""

    session: aiohttp.ClientSession
    accept: str
    cap: int  # decoded bytes
    timeout: float  # total for all hops, bodies included
    html_only: bool = False
    robots: bool = False


@dataclass(slots=True)
class _Hop:
    """One request and its response, filled in as far as it got."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error_class: ErrorClass | None = None
    error: str | None = None
    bytes_read: int = 0
    peer: str | None = None  # the server's IP address
    exchange: Exchange | None = None
    # the payload as received, for the archive, when it is not `body`: content-coded chunks,
    # an error response's body, or what was read of a body refused or cut short
    wire: list[bytes] | None = None
    cut: str | None = None  # why `wire` is not the whole payload (WARC-Truncated)

    def fail(self, error_class: ErrorClass, error: str) -> _Hop:
        """No usable body: what was read of it stays for the archive only (see `cut_short`)."""
        self.error_class, self.error = error_class, error
        self.body = None
        return self

    def cut_short(self, why: str) -> None:
        """The body was refused or stopped being read: the archive keeps what was read of it
        (perhaps nothing) marked `WARC-Truncated: why`, never as a whole page."""
        if self.wire is None:
            self.wire = []
        self.cut = self.cut or why

    def lead_nowhere(self, error: str) -> None:
        """A whole redirect response that cannot be followed: kept for the archive as it came."""
        self.error_class, self.error = ErrorClass.REDIRECTS, error


@dataclass(slots=True)
class _Budget:
    """Seconds left of the total deadline; time spent queueing at the host gate is not counted.

    A request's own time (`duration_ms`) is what is left of its wall time once the waits for the
    host gate (`queued`) and for robots.txt (`robots_wait`) are taken out: robots.txt requests
    made on its behalf are results of their own (`robots`), each with its own times."""

    left: float
    queued: float = 0.0  # seconds spent waiting for the host gate, reported apart
    robots_wait: float = 0.0  # seconds spent on robots.txt (fetching it, or waiting for it)
    robots: list[FetchResult] = field(default_factory=list)  # robots.txt fetched on the way
    admitted: Callable[[], Awaitable[None]] | None = None  # awaited once a host admits a request


class Fetcher:
    """Fetch feeds and article pages within limits, politely and safely. Use as `async with`."""

    _feed_plan: _Plan
    _origin_feed_plan: _Plan
    _page_plan: _Plan
    _origin_page_plan: _Plan

    def __init__(self, settings: Settings, hosts: HostGateProtocol | None = None) -> None:
        self._settings = settings
        self._hosts = (
            hosts
            if hosts is not None
            else HostGate(settings.per_host_concurrency, settings.host_delay)
        )
        self._allow = parse_networks(settings.allow_networks)
        self._agent = agent_token(settings.user_agent)
        self._robots = RobotsCache(self._agent)
        self._sessions: list[aiohttp.ClientSession] = []

    async def __aenter__(self) -> Fetcher:
        s = self._settings
        pooled = self._session(guarded_socket_factory(self._allow, honour_origin=False))
        near_origin = self._session(
            guarded_socket_factory(self._allow, honour_origin=True), force_close=True
        )
        self._feed_plan = _Plan(pooled, FEED_ACCEPT, s.max_feed_bytes, s.request_timeout)
        self._origin_feed_plan = replace(self._feed_plan, session=near_origin)
        self._page_plan = _Plan(
            pooled, PAGE_ACCEPT, s.max_page_bytes, s.request_timeout, True, s.respect_robots
        )
        self._origin_page_plan = replace(self._page_plan, session=near_origin)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for session in self._sessions:
            await session.close()
        self._sessions.clear()

    def _session(
        self, socket_factory: SocketFactory, *, force_close: bool = False
    ) -> aiohttp.ClientSession:
        s = self._settings
        connector = aiohttp.TCPConnector(
            limit=s.concurrency,
            limit_per_host=s.per_host_concurrency,
            socket_factory=socket_factory,
            force_close=force_close,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # decoded here, under the size cap
            trust_env=False,  # an environment proxy would connect on our behalf, unchecked
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=s.connect_timeout),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        )
        self._sessions.append(session)
        return session

    async def fetch_feed(
        self, url: str, validators: Validators | None = None, *, origin: str | None = None
    ) -> FetchResult:
        """Fetch a feed. `origin` is the URL the user vouched for (default: `url`, the feed as
        subscribed): its address and port may be private; every other hop is held to the policy.
        """
        started = time.monotonic()
        plans = (self._feed_plan, self._origin_feed_plan)
        return await self._scoped(url, validators, origin or url, plans, started)

    async def fetch_page(
        self,
        url: str,
        origin: str | None = None,
        validators: Validators | None = None,
        *,
        admitted: Callable[[], Awaitable[None]] | None = None,
    ) -> FetchResult:
        """Fetch an article page linked from the feed at `origin`, under the address policy.
        `admitted` is awaited when its host admits a request, before it is sent (the caller's
        bound on bodies in memory); the wait counts as queueing, not as the request's time."""
        started = time.monotonic()
        plans = (self._page_plan, self._origin_page_plan)
        return await self._scoped(url, validators, origin, plans, started, admitted)

    async def _scoped(
        self,
        url: str,
        validators: Validators | None,
        origin: str | None,
        plans: tuple[_Plan, _Plan],
        started: float,
        admitted: Callable[[], Awaitable[None]] | None = None,
    ) -> FetchResult:
        """Fetch with `origin`'s addresses allowed; a private origin uses the unpooled session."""
        origin_addrs = (
            await resolve_origin(origin, self._settings.connect_timeout) if origin else frozenset()
        )
        private_origin = any(
            not is_allowed(ip, port, allow=self._allow, origin_addrs=frozenset())
            for ip, port in origin_addrs
        )
        plan = plans[1] if private_origin else plans[0]
        with request_scope(RequestScope(origin_addrs)) as scope:
            budget = _Budget(plan.timeout, admitted=admitted)
            return await self._fetch(url, validators, plan, scope, started, budget)

    async def _fetch(
        self,
        url: str,
        validators: Validators | None,
        plan: _Plan,
        scope: RequestScope | None,
        started: float,
        budget: _Budget,
    ) -> FetchResult:
        result = await self._follow(url, validators, plan, scope, budget)
        aside = round((budget.queued + budget.robots_wait) * 1000)
        total = round((time.monotonic() - started) * 1000)
        return replace(result, duration_ms=max(0, total - aside))

    async def _follow(
        self,
        url: str,
        validators: Validators | None,
        plan: _Plan,
        scope: RequestScope | None,
        budget: _Budget,
    ) -> FetchResult:
        headers = {"Accept": plan.accept}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        redirects: list[tuple[int, str]] = []
        hops: list[FetchResult] = []
        seen = {url}
        limit = self._settings.max_redirects
        current = url
        while True:
            hop = await self._visit(current, headers, plan, budget, scope)
            location = hop.headers.get("location")
            if hop.error_class or hop.status not in REDIRECT_STATUSES or location is None:
                break
            assert hop.status is not None
            try:
                target = str(URL(current).join(URL(location)))
            except ValueError:
                hop.lead_nowhere(f"unusable Location {location!r}")
                break
            redirects.append((hop.status, target))
            if target in seen:
                hop.lead_nowhere(f"redirect loop at {target}")
                break
            if len(redirects) > limit:
                hop.lead_nowhere(f"more than {limit} redirects")
                break
            seen.add(target)
            hops.append(
                FetchResult(
                    current,
                    current,
                    hop.status,
                    hop.headers,
                    bytes_read=hop.bytes_read,
                    peer=hop.peer,
                    exchange=_with_wire(hop),
                )
            )
            current = target
        return FetchResult(
            url=url,
            final_url=current,
            status=hop.status,
            headers=hop.headers,
            body=hop.body,
            error_class=hop.error_class,
            error=hop.error,
            bytes_read=hop.bytes_read,
            redirects=tuple(redirects),
            hops=tuple(hops),
            queue_ms=round(budget.queued * 1000),
            peer=hop.peer,
            exchange=_with_wire(hop),
            robots=tuple(budget.robots),
        )

    async def _visit(
        self,
        url: str,
        headers: dict[str, str],
        plan: _Plan,
        budget: _Budget,
        scope: RequestScope | None,
    ) -> _Hop:
        """Check one URL (scheme, robots.txt) and request it."""
        try:
            target = URL(url)
        except ValueError:
            return _Hop().fail(ErrorClass.BLOCKED, f"invalid URL {url!r}")
        if target.scheme not in ("http", "https") or not target.host:
            return _Hop().fail(ErrorClass.BLOCKED, f"not an http(s) URL: {url}")
        if plan.robots:
            fetch = partial(self._fetch_robots, plan, scope, budget)
            asked = time.monotonic()
            allowed = await self._robots.allowed(target, fetch)
            budget.robots_wait += time.monotonic() - asked
            if not allowed:
                return _Hop().fail(ErrorClass.ROBOTS, f"robots.txt disallows {self._agent}")
        return await self._gated(target, headers, plan, budget, scope)

    async def _fetch_robots(
        self, plan: _Plan, scope: RequestScope | None, budget: _Budget, url: str
    ) -> FetchResult:
        """robots.txt through the same pool and policy as the page, small and quick. Its time
        counts against the page's deadline: a redirect chain through sites whose robots.txt
        never answers cannot stretch a page fetch past `request_timeout`. The result, with its
        own request and queue times, travels with the page's (`FetchResult.robots`): a row of
        its own in the fetch log, not part of the page's times."""
        robots_plan = replace(
            plan,
            accept=ROBOTS_ACCEPT,
            cap=ROBOTS_MAX_BYTES,
            timeout=min(plan.timeout, ROBOTS_TIMEOUT),
            html_only=False,
            robots=False,
        )
        share = _Budget(max(0.0, min(budget.left, ROBOTS_TIMEOUT)))
        granted = share.left
        try:
            result = await self._fetch(url, None, robots_plan, scope, time.monotonic(), share)
        finally:
            budget.left -= granted - share.left
        if result.status is not None and 400 <= result.status < 500 and result.status != 429:
            # RFC 9309: a 4xx is "no robots.txt", every page allowed; an answer, not a failure
            result = replace(result, error_class=None, error=None)
        budget.robots.append(result)
        return result

    async def _gated(
        self,
        target: URL,
        headers: dict[str, str],
        plan: _Plan,
        budget: _Budget,
        scope: RequestScope | None,
    ) -> _Hop:
        """Request `target` holding a slot of its host; a Retry-After blocks the host."""
        host = host_key(target)
        waiting = time.monotonic()
        until = await self._hosts.acquire(host)
        if until is None and budget.admitted is not None:
            try:
                await budget.admitted()
            except BaseException:  # cancelled while waiting: the host's slot goes back
                await self._hosts.release(host)
                raise
        budget.queued += time.monotonic() - waiting
        if until is not None:
            # Refused without a request; the Retry-After the host gave earlier travels with the
            # result, so the caller schedules the retry for when the block ends.
            stamp = until.isoformat(timespec="seconds")
            refused = _Hop(headers={"retry-after": format_datetime(until, usegmt=True)})
            return refused.fail(ErrorClass.RATE_LIMITED, f"rate-limited until {stamp}")
        try:
            hop = await self._exchange(target, headers, plan, budget, scope)
        finally:
            await self._hosts.release(host)
        if hop.error_class is ErrorClass.RATE_LIMITED:
            now = datetime.now(UTC)
            when = retry_after(hop.headers, now, max_wait=self._settings.max_cache_age)
            if when is not None:
                await self._hosts.block_until(host, when)
        return hop

    async def _exchange(
        self,
        target: URL,
        headers: dict[str, str],
        plan: _Plan,
        budget: _Budget,
        scope: RequestScope | None,
    ) -> _Hop:
        """One request/response under what is left of the deadline; faults become values."""
        hop = _Hop()
        if scope is not None:
            scope.blocked.clear()
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(budget.left, 0)):
                request = plan.session.get(target, headers=headers, allow_redirects=False)
                async with request as response:
                    hop.peer = _peer(response)
                    hop.status = response.status
                    hop.headers = _lower_headers(response.headers)
                    hop.exchange = _exchange_of(response)
                    await _read(response, plan, hop)
        except TimeoutError:
            if hop.error_class is None:  # (an error response's status said it all already)
                hop.fail(ErrorClass.TIMEOUT, f"no complete response within {plan.timeout:g} s")
            _cut_mid_body(hop, "time")
        except aiohttp.InvalidURL as exc:  # e.g. legacy IPv4 spellings such as 127.1
            hop.fail(ErrorClass.BLOCKED, f"invalid URL: {exc}")
        except aiohttp.ClientPayloadError as exc:
            hop.fail(ErrorClass.TRUNCATED, f"body cut short: {exc}")
            _cut_mid_body(hop, "disconnect")
        except (aiohttp.ClientError, OSError) as exc:
            if scope is not None and scope.blocked:
                refused = ", ".join(scope.blocked)
                hop.fail(ErrorClass.BLOCKED, f"non-public address for {target.host}: {refused}")
            else:
                hop.fail(ErrorClass.NETWORK, str(exc) or type(exc).__name__)
            _cut_mid_body(hop, "disconnect")
        finally:
            budget.left -= time.monotonic() - started
        return hop


async def _read(response: aiohttp.ClientResponse, plan: _Plan, hop: _Hop) -> None:
    """Judge the status and headers, then stream and decode the body into `hop`."""
    status = response.status
    error = classify_status(status, hop.headers)
    if error is not None:
        hop.fail(error, f"HTTP {status} {response.reason or ''}".rstrip())
        await _read_archived_body(response, plan, hop)
        return
    if status in REDIRECT_STATUSES:
        if "location" not in hop.headers:
            hop.fail(ErrorClass.REDIRECTS, f"HTTP {status} without Location")
        await _read_archived_body(response, plan, hop)
        return
    if status == 304:
        return
    media_type = hop.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    # No Content-Type at all is left to the extractor; browsers would sniff it as HTML.
    if plan.html_only and media_type and media_type not in HTML_TYPES:
        hop.fail(ErrorClass.NOT_HTML, f"not a web page: {media_type}")
        hop.cut_short("unspecified")  # refused by kind, not read at all
        return
    encoding = hop.headers.get("content-encoding", "")
    length = hop.headers.get("content-length", "")
    if not encoding and length.isdigit() and int(length) > plan.cap:
        hop.fail(ErrorClass.TOO_LARGE, f"Content-Length {length} over the {plan.cap}-byte cap")
        hop.cut_short("length")  # refused by size, not read at all
        return
    # every chunk as received goes to `wire`, kept for the archive when the body is not
    # whole or content-coded (a whole plain body is `body` itself: the same chunks)
    hop.wire = []
    try:
        decoder = BoundedDecoder(encoding, plan.cap)
        async for chunk in response.content.iter_any():
            hop.bytes_read += len(chunk)
            hop.wire.append(chunk)
            decoder.feed(chunk)
        hop.body = decoder.finish()
    except BodyTooLarge as exc:
        hop.fail(ErrorClass.TOO_LARGE, str(exc))
        hop.cut_short("length")
    except IncompleteBody as exc:  # all that was sent, but its content coding never ended
        hop.fail(ErrorClass.TRUNCATED, str(exc))
        hop.cut_short("unspecified")
    except DecodeError as exc:  # not read further: its content coding is broken or unknown
        hop.fail(ErrorClass.NETWORK, str(exc))
        hop.cut_short("unspecified")
    else:
        if encoding.strip().lower() in ("", "identity"):
            hop.wire = None


async def _read_archived_body(response: aiohttp.ClientResponse, plan: _Plan, hop: _Hop) -> None:
    """The body of an error or a redirect response, for the archive only (it is not what was
    asked for): read under the same cap as any body (on its decoded size) and for at most
    `ARCHIVED_BODY_SECONDS`; what is left out (past the cap: all of a content-coded chunk, the
    excess of a plain one) is said by `hop.cut`."""
    hop.wire = []
    coding = hop.headers.get("content-encoding", "")
    kept = 0
    try:
        decoder = BoundedDecoder(coding, plan.cap)
        async with asyncio.timeout(ARCHIVED_BODY_SECONDS):
            async for chunk in response.content.iter_any():
                hop.bytes_read += len(chunk)
                try:
                    decoder.feed(chunk)
                except BodyTooLarge:
                    if coding.strip().lower() in ("", "identity"):
                        hop.wire.append(chunk[: plan.cap - kept])
                    raise
                hop.wire.append(chunk)
                kept += len(chunk)
        decoder.finish()
    except BodyTooLarge:
        hop.cut = "length"
    except TimeoutError:
        hop.cut = "time"
    except IncompleteBody:
        pass  # all the server sent, kept as sent
    except DecodeError:
        hop.cut = "unspecified"  # not read further: its content coding is broken or unknown
    except (aiohttp.ClientError, OSError):
        hop.cut = "disconnect"


def _cut_mid_body(hop: _Hop, why: str) -> None:
    """A fault while a body was being read (`wire` started): the archive keeps what came."""
    if hop.wire is not None:
        hop.cut_short(why)


def _peer(response: aiohttp.ClientResponse) -> str | None:
    """The IP address the response came from (pooled connections included)."""
    transport = response.connection.transport if response.connection else None
    peername = transport.get_extra_info("peername") if transport else None
    return str(peername[0]) if peername else None


def _exchange_of(response: aiohttp.ClientResponse) -> Exchange:
    """The request as sent and the response head as received, for the WARC archive."""
    request = response.request_info
    version = response.version
    return Exchange(
        method=request.method,
        url=str(request.real_url),
        request_headers=tuple(request.headers.items()),
        http_version=f"{version.major}.{version.minor}" if version else "1.1",
        reason=response.reason or "",
        response_headers=tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.raw_headers
        ),
    )


def _with_wire(hop: _Hop) -> Exchange | None:
    if hop.exchange is None or hop.wire is None:
        return hop.exchange
    return replace(hop.exchange, wire_body=b"".join(hop.wire), truncated=hop.cut)


def _lower_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Lower-case names; repeated headers joined as HTTP allows."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
