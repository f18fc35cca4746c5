"""`ingest backup PATH`: a consistent copy of a SQLite archive, taken while the daemon runs.

The database first, with `VACUUM INTO` (one read transaction: a snapshot, compacted; writers
go on), then the WARC files. Every record the snapshot points to was flushed before its row
was committed, and WARC files only grow, so the copied files hold all of them. A file already
in the backup with the same size is not copied again: backing up into the same folder again
copies only what is new.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.warc.recovery import OPEN_DIR, QUARANTINE_DIR, complete_length


@dataclass
class Copied:
    database: Path
    warc_files: int = 0
    warc_bytes: int = 0
    unchanged: int = 0


def backup(engine: Engine, folder: Path, target: Path) -> Copied:
    if engine.dialect.name != "sqlite":
        raise UsageError(
            "ingest backup copies SQLite archives; for PostgreSQL use pg_dump and copy the"
            " WARC folder (see README, Backup)"
        )
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {target}: {exc.strerror or exc}") from None
    database = target / "ingest.db"
    partial = target / "ingest.db.partial"
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()  # VACUUM runs outside a transaction, so not through `begin`
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (str(partial),))
    finally:
        raw.close()
    os.chmod(partial, 0o600)
    partial.replace(database)  # a backup is never half a database
    copied = Copied(database)
    if folder.is_dir():
        live = {marker.name for marker in (folder / OPEN_DIR).glob("*")}
        for source in [*folder.glob("*.warc.gz"), *(folder / QUARANTINE_DIR).glob("*")]:
            destination = target / "warc" / source.relative_to(folder)
            _copy(source, destination, copied, live=source.name in live)
    return copied


def _copy(source: Path, destination: Path, copied: Copied, *, live: bool) -> None:
    """Copy `source` as it is now; a file still being written is cut back to its last whole
    record in the copy (the snapshot points to none after it)."""
    size = source.stat().st_size
    if not live and destination.exists() and destination.stat().st_size == size:
        copied.unchanged += 1
        return
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with source.open("rb") as src, destination.open("wb") as dst:
        os.chmod(destination, 0o600)
        left = size
        while left and (chunk := src.read(min(left, 1 << 20))):
            dst.write(chunk)
            left -= len(chunk)
    if live:
        os.truncate(destination, complete_length(destination))
    copied.warc_files += 1
    copied.warc_bytes += destination.stat().st_size
