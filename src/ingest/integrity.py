"""`ingest check`: is the archive whole? The database, the raw responses, and what links them.

Checks, each a list of problems (empty: fine): the database's own consistency (SQLite
`integrity_check`, foreign keys and the search index; on PostgreSQL the same questions in plain
SQL, see `store.pgcheck`; on both, the filter facets against their articles), every raw
reference (its file exists, the record at its offset is the one the database names, and the
payload matches its digest), and orphans (WARC records no row points to, files a crash left
open, raw bodies in the database nothing uses). `repair` does what is safe: finish crash
repairs of WARC files, rebuild the search index (and invalid PostgreSQL indexes), drop orphaned
database bodies, re-derive stale filter facets.
"""

from __future__ import annotations

import fcntl
import io
import os
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from warcio.archiveiterator import ArchiveIterator

from ingest.store.engine import reading
from ingest.store.facets import resync_facets, stale_facets
from ingest.store.models import Article, Blob, Entry, FetchLog, RawResponse, Revision
from ingest.store.pgcheck import check_postgres, repair_postgres
from ingest.warc.recovery import OPEN_DIR, QUARANTINE_DIR, recover
from ingest.warc.writer import payload_digest

MAX_LISTED = 20  # problems of one kind listed by name; the rest are counted


@dataclass
class Report:
    database: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # references that do not resolve or match
    orphan_records: dict[str, int] = field(default_factory=dict)  # WARC file → unreferenced
    orphan_blobs: list[str] = field(default_factory=list)
    stale_facets: list[int] = field(default_factory=list)  # articles filters may miss
    crashed_files: list[str] = field(default_factory=list)
    quarantined: int = 0
    checked_records: int = 0
    legacy_bodies: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.database
            or self.raw
            or self.orphan_records
            or self.orphan_blobs
            or self.stale_facets
            or self.crashed_files
        )


def check(engine: Engine, folder: Path) -> Report:
    report = Report()
    report.database = database_problems(engine)
    if any(_unreadable(p) for p in report.database):
        return report  # nothing else can be read reliably
    report.database += missing_history_bodies(engine)
    with reading(engine) as conn:
        report.stale_facets = stale_facets(conn)
    referenced = _check_raw(engine, folder, report)
    _orphan_records(folder, referenced, report)
    report.orphan_blobs = orphan_blobs(engine)
    with reading(engine) as conn:
        report.legacy_bodies = (
            conn.execute(
                sa.select(sa.func.count()).select_from(FetchLog).where(FetchLog.blob.is_not(None))
            ).scalar()
            + conn.execute(
                sa.select(sa.func.count())
                .select_from(Article)
                .where(Article.page_blob.is_not(None))
            ).scalar()
        )
    if (folder / OPEN_DIR).is_dir():
        report.crashed_files = [
            m.name for m in (folder / OPEN_DIR).iterdir() if _unlocked(folder, m.name)
        ]
    quarantine = folder / QUARANTINE_DIR
    report.quarantined = len(list(quarantine.iterdir())) if quarantine.is_dir() else 0
    return report


def _unreadable(problem: str) -> bool:
    if problem.startswith("search index"):  # a broken index: the tables are still readable
        return False
    return "malformed" in problem or "not a database" in problem


def database_problems(engine: Engine) -> list[str]:
    """What the database itself reports as broken."""
    problems: list[str] = []
    if engine.dialect.name == "postgresql":
        with reading(engine) as conn:
            return check_postgres(conn).problems
    try:
        with reading(engine) as conn:
            for (line,) in conn.exec_driver_sql("PRAGMA integrity_check"):
                if line != "ok":
                    problems.append(f"integrity: {line}")
            for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                problems.append(f"foreign key: {table} row {rowid} points to a missing {parent}")
            try:
                conn.exec_driver_sql(
                    "INSERT INTO article_fts(article_fts, rank) VALUES ('integrity-check', 1)"
                )
            except DBAPIError as exc:
                problems.append(f"search index: {_first_line(exc)} (repair rebuilds it)")
    except DBAPIError as exc:
        problems.append(f"cannot read it: {_first_line(exc)}")
    return problems


def missing_history_bodies(engine: Engine) -> list[str]:
    """Entry histories name their earlier versions' bodies inside JSON, where no foreign key
    guards them: each must still be in the database."""
    named: dict[str, int] = {}
    query = sa.select(Entry.id, Entry.history).where(sa.func.json_array_length(Entry.history) > 0)
    with reading(engine) as conn:
        for entry_id, history in conn.execute(query.execution_options(yield_per=1000)):
            for version in history or []:
                if version.get("body"):
                    named.setdefault(version["body"], entry_id)
        hashes = sorted(named)
        missing = []
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            found = set(conn.execute(sa.select(Blob.hash).where(Blob.hash.in_(chunk))).scalars())
            missing += [h for h in chunk if h not in found]
    return [f"reference: entry {named[h]}'s history names a missing body {h}" for h in missing]


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig or exc).splitlines()[0]


def _check_raw(engine: Engine, folder: Path, report: Report) -> dict[str, set[int]]:
    """Read every referenced record back; returns the offsets referenced, per file."""
    referenced: dict[str, set[int]] = defaultdict(set)
    for row in _raw_rows(engine):
        referenced[row.warc_file].add(row.offset)
        report.checked_records += 1
        problem = _record_problem(folder, row)
        if problem is not None:
            report.raw.append(f"raw response {row.id} ({row.uri}): {problem}")
    return referenced


def _raw_rows(engine: Engine) -> Iterator[sa.Row]:
    last = 0
    while True:
        with reading(engine) as conn:
            rows = conn.execute(
                sa.select(RawResponse)
                .where(RawResponse.id > last)
                .order_by(RawResponse.id)
                .limit(1000)
            ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _record_problem(folder: Path, row: sa.Row) -> str | None:
    path = folder / row.warc_file
    try:
        with path.open("rb") as stream:
            stream.seek(row.offset)
            data = stream.read(row.length)
    except OSError as exc:
        return f"{row.warc_file}: {exc.strerror or exc}"
    if len(data) != row.length:
        return f"{row.warc_file}: the file ends before the record ({row.offset}+{row.length})"
    try:
        [record] = list(_records(data))
    except (ValueError, OSError, EOFError, zlib.error) as exc:
        return f"{row.warc_file} at {row.offset}: no whole record there ({exc})"
    kind, uri, digest, payload = record
    if (kind, uri) != (row.record_type, row.uri):
        return f"{row.warc_file} at {row.offset}: holds a {kind} of {uri}"
    if digest != row.payload_digest:
        return (
            f"{row.warc_file} at {row.offset}: digest {digest}, database says {row.payload_digest}"
        )
    if kind == "response" and digest and payload_digest(payload) != digest:
        return f"{row.warc_file} at {row.offset}: payload does not match its digest {digest}"
    return None


def _records(data: bytes) -> Iterator[tuple[str, str, str | None, bytes]]:
    for record in ArchiveIterator(io.BytesIO(data)):
        payload = record.raw_stream.read()
        yield (
            record.rec_type,
            record.rec_headers.get_header("WARC-Target-URI"),
            record.rec_headers.get_header("WARC-Payload-Digest"),
            payload,
        )


def _orphan_records(folder: Path, referenced: dict[str, set[int]], report: Report) -> None:
    """Responses and revisits in the WARC files that no row points to."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.warc.gz")):
        offsets = referenced.get(path.name, set())
        unreferenced = 0
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream)
            try:
                for record in iterator:
                    if record.rec_type in ("response", "revisit"):
                        unreferenced += iterator.get_record_offset() not in offsets
            except (ValueError, OSError, EOFError, zlib.error):
                report.raw.append(f"{path.name}: unreadable after offset {iterator.offset}")
        if unreferenced:
            report.orphan_records[path.name] = unreferenced


def orphan_blobs(engine: Engine) -> list[str]:
    """Bodies kept in the database that nothing points to any more (a pruned fetch log left
    them behind before WARC storage)."""
    used = sa.union(
        sa.select(FetchLog.blob).where(FetchLog.blob.is_not(None)),
        sa.select(Article.page_blob).where(Article.page_blob.is_not(None)),
        sa.select(Revision.text_blob),
    ).subquery()
    query = sa.select(Blob.hash).where(Blob.hash.not_in(sa.select(used.c[0])))
    with reading(engine) as conn:
        candidates = set(conn.execute(query).scalars())
        if not candidates:
            return []
        histories = sa.select(Entry.history).where(sa.func.json_array_length(Entry.history) > 0)
        for (history,) in conn.execute(histories):
            candidates -= {v.get("body") for v in history or []}
    return sorted(candidates)


def _unlocked(folder: Path, name: str) -> bool:
    """A file marked open whose writer is gone (nobody holds its lock)."""
    try:
        fd = os.open(folder / name, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@dataclass
class Repaired:
    warc_files: int = 0
    search_index: bool = False
    facets: int = 0  # articles whose filter facets were re-derived
    blobs_dropped: int = 0
    postgres: list[str] = field(default_factory=list)  # what was rebuilt or recomputed there


def repair(engine: Engine, folder: Path, report: Report, *, drop_blobs: bool) -> Repaired:
    done = Repaired()
    if folder.is_dir():
        done.warc_files = len(recover(folder))
    if engine.dialect.name == "sqlite" and any(
        p.startswith("search index") for p in report.database
    ):
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
        done.search_index = True
    if engine.dialect.name == "postgresql" and report.database:
        with engine.begin() as conn:
            done.postgres = repair_postgres(conn, check_postgres(conn))
        done.search_index = any("search" in line for line in done.postgres)
    if report.stale_facets:
        with engine.begin() as conn:
            done.facets = resync_facets(conn, report.stale_facets)
    if drop_blobs and report.orphan_blobs:
        with engine.begin() as conn:
            for start in range(0, len(report.orphan_blobs), 500):
                chunk = report.orphan_blobs[start : start + 500]
                done.blobs_dropped += conn.execute(
                    sa.delete(Blob).where(Blob.hash.in_(chunk))
                ).rowcount
    return done
