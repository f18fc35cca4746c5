"""A throwaway PostgreSQL server for the tests: started once per session on loopback, one fresh
database per test. Skipped when the server binaries are missing, unless INGEST_REQUIRE_POSTGRES=1
(CI), where that is a failure.

PostgreSQL refuses to run as root: as root, initdb/pg_ctl run as the `postgres` user on folders
it owns. Durability is off (fsync, full-page writes): this server's data is thrown away.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoPostgres(Exception):
    """The PostgreSQL server binaries are not installed here."""


@contextmanager
def running_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback; yields its base URL
    `postgresql+psycopg://postgres@127.0.0.1:PORT` (shared by the tests and the benchmarks)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise NoPostgres("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="ingest-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_owner = ["runuser", "-u", "postgres", "--"]
        for path in (root, sockets):
            shutil.chown(path, "postgres", "postgres")
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_owner, *args], check=True, capture_output=True, timeout=120)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c max_connections=200 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    log = root / "server.log"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, prefix: str = "test") -> str:
    """A fresh, empty database on `server`; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The session's server: skipped without PostgreSQL, unless INGEST_REQUIRE_POSTGRES=1."""
    try:
        with running_server() as url:
            yield url
    except NoPostgres as exc:
        if os.environ.get("INGEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's server, for one test."""
    return create_database(pg_server)
