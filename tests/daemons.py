"""Helpers for tests that run `ingest run` as a real subprocess: stderr collected as it comes,
polling with a deadline, a free port."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest

# Fast clock for tests: ticks every 0.2 s; the grace period is short so SIGTERM exits promptly.
FAST = {"INGEST_TICK_INTERVAL": "0.2", "INGEST_SHUTDOWN_GRACE": "2"}


def wait_for(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Running:
    """A daemon subprocess whose stderr is read on a thread (it must never fill the pipe)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def said(self, words: str) -> bool:
        return any(words in line for line in self.lines)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (killed and failed if it does not exit in time)."""
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("daemon did not exit after SIGTERM:\n" + self.log) from None
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def daemons() -> Iterator[list[Running]]:
    """`ingest run` processes a test started; killed at the end if still alive."""
    started: list[Running] = []
    yield started
    for daemon in started:
        daemon.kill()
