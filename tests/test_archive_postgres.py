"""The raw archive, exports, check and prune on a PostgreSQL archive (WARC files in a folder
of their own, as nodes sharing storage would use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, Site
from tests.fixturefiles import load_fixture

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


def test_warc_storage_on_postgresql(cli: Cli, site: Site, pg_url: str, tmp_path: Path) -> None:
    site.serve_all()
    folder = tmp_path / "shared" / "warc"
    pg = Cli(cli.cwd, pg_url)
    env = {"INGEST_WARC_DIR": str(folder)}
    pg("feeds", "add", site.url("/feed.rss"), **env)
    assert pg("fetch", **env).returncode == 0
    assert list(folder.glob("*.warc.gz"))
    records = [json.loads(line) for line in pg("export", **env).stdout.splitlines()]
    page = next(r for r in records if r["url"].endswith("/2018/07/sensetime-singapore/"))
    shown = pg("show", str(page["id"]), "--raw", **env)
    assert shown.stdout.endswith(load_fixture("sensetime.html", site.base).decode())
    assert "3 unchanged" in pg("reextract", **env).stderr
    checked = pg("check", **env)
    assert checked.returncode == 0 and "checked 0 raw" not in checked.stdout
    planned = pg("prune", "--raw-older-than", "1d", "--dry-run", **env)
    assert "would drop 0 WARC files" in planned.stdout
    backup = pg("backup", str(tmp_path / "copy"), **env)
    assert backup.returncode == 2 and "pg_dump" in backup.stderr
