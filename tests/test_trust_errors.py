"""One line, never a traceback (issue 10): damaged archives, a metrics port in use, read-only
commands that must not create archives, and archives on a read-only filesystem."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, Site
from tests.test_cli import assert_one_line_error

READERS = [["feeds", "list"], ["show", "1"], ["export"], ["search", "singapore"], ["log"]]


def _fetched(cli: Cli, site: Site) -> Path:
    """A small real archive (the fixture site fetched), its WAL folded into the main file."""
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    path = Path(cli.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _scribble(path: Path, table: str | None) -> None:
    """Overwrite one table's root page, or every page but the first, with garbage."""
    with sqlite3.connect(path) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        count = conn.execute("PRAGMA page_count").fetchone()[0]
        pages = range(2, count + 1)
        if table is not None:
            sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
            pages = [conn.execute(sql, (table,)).fetchone()[0]]
    with path.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * size)
            file.write(b"\xa5" * size)


@pytest.mark.parametrize("table", ["article", None])
def test_a_damaged_archive_is_one_line_pointing_at_check(
    cli: Cli, site: Site, table: str | None
) -> None:
    _scribble(_fetched(cli, site), table)
    for command in [["export"], ["show", "1"], ["fetch"]]:
        assert_one_line_error(cli(*command), 2, "ingest check")


def test_metrics_port_in_use_is_one_line(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("run", "--metrics-port", str(port), timeout=60)
    assert_one_line_error(done, 2, f"cannot serve metrics on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("host", "reason"),
    [("192.0.2.1", "Cannot assign requested address"), ("no-such-host.invalid", "not known")],
)
def test_a_metrics_host_not_local_or_not_resolving_is_one_line(
    cli: Cli, host: str, reason: str
) -> None:
    with socket.socket() as probe:  # a free port: only the address can be at fault
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cli("run", "--metrics-port", str(port), "--metrics-host", host, timeout=60)
    assert_one_line_error(done, 2, f"cannot serve metrics on {host}:{port}: ")
    assert reason in done.stderr and "--metrics-host" in done.stderr


@pytest.mark.parametrize("command", READERS)
def test_read_only_commands_never_create_an_archive(cli: Cli, command: list[str]) -> None:
    missing = cli.cwd / "nonexistent" / "dir" / "x.db"
    done = cli("--db", f"sqlite:///{missing}", *command)
    assert_one_line_error(done, 2, f"no archive at {missing}")
    assert not missing.parent.exists()
    env = {k: v for k, v in cli.env().items() if k != "INGEST_DB_URL"}  # default: ./archive/
    default = subprocess.run(
        [sys.executable, "-m", "ingest", *command],
        cwd=cli.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(default, 2, "no archive at archive/ingest.db")
    assert not (cli.cwd / "archive").exists()


@pytest.fixture
def read_only_copy(cli: Cli, site: Site) -> Iterator[Path]:
    """The archive copied to a folder that is then mounted read-only (a private mount
    namespace: the test needs root, as on CI; skipped elsewhere)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    folder = Path(tempfile.mkdtemp(prefix="ingest-ro-"))
    shutil.copy(_fetched(cli, site), folder / "ingest.db")
    yield folder / "ingest.db"
    shutil.rmtree(folder)


def test_an_archive_on_a_read_only_filesystem_can_be_read(cli: Cli, read_only_copy: Path) -> None:
    folder = read_only_copy.parent
    mount = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}"
    commands = " && ".join(
        f"{sys.executable} -m ingest --db sqlite:///{read_only_copy} {' '.join(c)} >/dev/null"
        for c in READERS
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"{mount} && {commands}"],
        cwd=cli.cwd,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "Operation not permitted" in done.stderr or "permission denied" in done.stderr.lower():
        pytest.skip("mount namespaces need root")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["ingest.db"]  # no -wal/-shm left behind
