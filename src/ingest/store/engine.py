"""Opening the archive: engine, connection settings per dialect, migrations applied on open."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from ingest.errors import ArchiveUnavailable, StorageError
from ingest.redact import redact_url

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def open_archive(url: str, *, migrate: bool = True, create: bool = True) -> Engine:
    """Connect to the archive at `url` and bring its schema up to date.

    SQLite gets WAL (readers never block the writer), a busy timeout, and `BEGIN IMMEDIATE`
    for every transaction, because a read-then-write transaction in WAL fails at once with
    "database is locked" instead of waiting. Raises StorageError with a one-line reason.

    `create=False` is for commands that only read: a missing SQLite file is "no archive at
    PATH" (nothing is created), and a file that cannot be written (read-only filesystem or
    file) is opened read-only instead of refused, its schema checked, not upgraded.
    """
    try:
        parsed = make_url(_quote_userinfo(url))
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StorageError(f"not a database URL: {url!r}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            path = _sqlite_path(parsed)
            if not create and path is not None and not path.exists():
                raise StorageError(f"no archive at {path}")
            readonly = not create and path is not None and not _writable(path)
            if readonly:
                engine = _readonly_sqlite_engine(path)
                check_schema(engine, str(path))
                return engine
            engine = _sqlite_engine(parsed)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
        if migrate:
            upgrade(engine)
    except StorageError:
        raise
    except OperationalError as exc:
        kind = StorageError if parsed.get_backend_name() == "sqlite" else ArchiveUnavailable
        raise kind(f"cannot open archive {redact_url(url)}: {reason(exc)}") from None
    except (SQLAlchemyError, OSError, ModuleNotFoundError) as exc:
        if damaged := damage_message(exc):
            raise StorageError(damaged) from None
        raise StorageError(f"cannot open archive {redact_url(url)}: {reason(exc)}") from None
    return engine


def _sqlite_path(url: sa.URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory and `file:` URI databases."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _writable(path: Path) -> bool:
    """Whether SQLite can write `path`: the file, and its folder (WAL and -shm files live
    there); False on a read-only filesystem even for root."""
    folder = path.parent
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return False
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK)


def _readonly_sqlite_engine(path: Path) -> Engine:
    """A read-only connection: `immutable` where nobody can write (read-only filesystem or
    folder: no lock or -shm file can be made, and no writer can change the file), `mode=ro`
    where only this user may not write (a writer may still change it: locking stays on)."""
    folder_writable = os.access(path.parent, os.W_OK) and not (
        os.statvfs(path.parent).f_flag & os.ST_RDONLY
    )
    flags = "mode=ro" if folder_writable else "mode=ro&immutable=1"
    uri = f"file:{quote(str(path.resolve()))}?{flags}"
    engine = sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN DEFERRED")  # reads only: never ask for the lock

    return engine


def check_schema(engine: Engine, where: str) -> None:
    """StorageError unless the archive's schema is the one this version reads (a read-only
    archive cannot be upgraded in place)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StorageError(
            f"archive {where} has schema {current}, this version reads "
            f"{head}: open it once where it can be written to upgrade it"
        )


def _quote_userinfo(url: str) -> str:
    """Percent-encode `@` in the userinfo: the authority ends at its *last* `@`, so a password
    such as `p@ss` means what the user meant instead of leaking `ss@host` into errors."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or authority.count("@") < 2:
        return url
    userinfo, _, host = authority.rpartition("@")
    return f"{scheme}{sep}{userinfo.replace('@', '%40')}@{host}{slash}{path}"


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Only its owner may read the archive: SQLite gives its -wal and -shm files the
            # database file's mode, so creating the file 0600 here covers all three.
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # created meanwhile by another process
        except OSError as exc:
            raise StorageError(f"cannot create {path}: {exc.strerror}") from None
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the head revision. When it is there already (nearly every open), one
    read in a deferred transaction says so: no write lock, no Alembic import. Otherwise pending
    migrations are applied; concurrent openers serialize on a lock."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command  # only when there is something to migrate: a slow import
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7403161)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The archive's schema revision, None for a new (or pre-Alembic) archive."""
    with reading(engine) as conn, conn.begin():
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # no such table yet
            return None


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:\"([^\"]*)\"|None)", re.M)


def head_revision() -> str:
    """The newest migration: the one no other migration names as its `down_revision`."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for kind, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    [head] = revisions - parents - {""}
    return head


def reading(engine: Engine) -> sa.Connection:
    """A connection for reads: on SQLite its transactions are DEFERRED (not IMMEDIATE), so a
    read never takes, or waits for, the write lock while a fetch or the daemon writes."""
    return engine.connect().execution_options(sqlite_begin="DEFERRED")


def damage_message(exc: BaseException) -> str | None:
    """The one line for a damaged SQLite file (SQLite says so on whichever page a query reads,
    in any command), or None for other errors."""
    why = reason(exc)
    if any(word in why for word in ("malformed", "not a database", "corrupt")):
        return f"the archive is damaged ({why}): run `ingest check` to see what can be saved"
    return None


def reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).splitlines()[0]
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
