"""One daemon per SQLite file: an OS lock on `<db>.lock`, held for the daemon's life.

A lock file rather than a database row: the kernel drops it when the process dies (even with
kill -9), so a crash never leaves the archive locked. PostgreSQL needs no such lock: any number
of daemons share it through leases.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from ingest.errors import UsageError


class ArchiveBusyError(UsageError):
    """Another daemon already runs on this SQLite archive."""


class WriterLock:
    """Holds `<db>.lock` with `flock`; a no-op for anything but a SQLite file."""

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url)
        database = url.database or ""
        file_backed = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
        # The real path: a symlink (or `..`) to the same file must meet the same lock.
        real = Path(database).resolve() if file_backed else None
        self.path = real.with_name(real.name + ".lock") if real else None
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ArchiveBusyError naming the holder."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise ArchiveBusyError(
                f"another daemon ({holder}) already runs on {self.path.with_suffix('')}: "
                "one daemon per SQLite archive (use PostgreSQL for several)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (harmless)
            self._fd = None
