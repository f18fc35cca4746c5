"""Database calls from request handlers: in a bounded thread pool, and interruptible.

Handlers never query on the event loop (one slow query must not stall the others). On shutdown
every statement still running is interrupted (SQLite `interrupt()`, PostgreSQL cancel), so
`serve` stops within seconds of SIGTERM even while a heavy search runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ingest.web.errors import Problem

T = TypeVar("T")


class Database:
    """The archive as request handlers use it: `await db.call(fn, ...)` runs `fn(engine, ...)`
    in a worker thread; `interrupt_all()` stops what is running."""

    def __init__(self, engine: Engine, workers: int) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-web")
        self.stopping = False
        self._active: set[Any] = set()
        self._lock = threading.Lock()
        event.listen(engine, "checkout", self._checked_out)
        event.listen(engine, "checkin", self._checked_in)

    def _checked_out(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with self._lock:
            self._active.add(dbapi_connection)

    def _checked_in(self, dbapi_connection: Any, _record: Any) -> None:
        with self._lock:
            self._active.discard(dbapi_connection)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.stopping:
            raise Problem(503, "the server is shutting down")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, lambda: fn(self.engine, *args, **kwargs))
        except DBAPIError as exc:
            if self.stopping:
                raise Problem(503, "the server is shutting down") from None
            raise Problem(503, f"the archive could not answer: {_first_line(exc)}") from None

    def interrupt_all(self) -> None:
        """Stop every statement in flight (called once, at shutdown)."""
        self.stopping = True
        with self._lock:
            active = list(self._active)
        for connection in active:
            stop = getattr(connection, "interrupt", None) or getattr(connection, "cancel", None)
            if stop is not None:
                with contextlib.suppress(Exception):  # already closed: nothing to stop
                    stop()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        event.remove(self.engine, "checkout", self._checked_out)
        event.remove(self.engine, "checkin", self._checked_in)


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
