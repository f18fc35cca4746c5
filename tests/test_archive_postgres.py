"""The raw archive, exports, check and prune on a PostgreSQL archive (WARC files in a folder
of their own, as nodes sharing storage would use)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
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


def test_check_on_postgresql_finds_and_repairs(
    cli: Cli, site: Site, pg_url: str, tmp_path: Path
) -> None:
    """The PostgreSQL equivalents of SQLite's integrity, foreign-key and search-index checks,
    on a real archive damaged the ways PostgreSQL lets it be damaged."""
    site.serve_all()
    pg = Cli(cli.cwd, pg_url)
    env = {"INGEST_WARC_DIR": str(tmp_path / "warc")}
    pg("feeds", "add", site.url("/feed.rss"), **env)
    assert pg("fetch", **env).returncode == 0
    fine = pg("check", **env)
    assert fine.returncode == 0 and fine.stdout.endswith("ok\n"), fine.stdout
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        # rows written with the constraints off (as a restore without them would)
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE entry SET article_id = 999999 WHERE id = (SELECT min(id) FROM entry)")
        conn.execute(
            "UPDATE fetch_log SET raw_id = 888888 WHERE id = (SELECT min(id) FROM fetch_log)"
        )
        conn.execute("SET session_replication_role = DEFAULT")
        # the text search configuration changed since the articles were written: stale vectors
        conn.execute(
            "ALTER TEXT SEARCH CONFIGURATION simple ALTER MAPPING FOR asciiword WITH english_stem"
        )
        # an index left invalid (as a failed CREATE INDEX CONCURRENTLY leaves it)
        conn.execute(
            "UPDATE pg_index SET indisvalid = false"
            " WHERE indexrelid = 'ix_article_search'::regclass"
        )
    broken = pg("check", **env)
    assert broken.returncode == 1 and broken.stdout.endswith("problems found\n")
    lines = broken.stdout.splitlines()
    assert (
        "database: foreign key: 1 entry rows point to a missing article (article_id 999999)"
        in lines
    )
    assert (
        "database: foreign key: 1 fetch_log rows point to a missing raw_response (raw_id 888888)"
        in lines
    )
    assert "database: integrity: index ix_article_search is invalid (repair rebuilds it)" in lines
    stale = [line for line in lines if line.startswith("database: search index: 3 articles")]
    assert stale and "stale" in stale[0]
    repaired = pg("check", "--repair", "--yes", **env)
    assert "index ix_article_search rebuilt; 3 search vectors recomputed" in repaired.stdout
    after = pg("check", **env).stdout.splitlines()
    assert not [line for line in after if "search index" in line or "invalid" in line]
    # which side of a broken reference is wrong is for a person to say: still reported
    assert sum(line.startswith("database: foreign key:") for line in after) == 2
    # a search finds the articles again with the configuration they are now indexed with
    found = json.loads(pg("search", "singapore", "--format", "json", **env).stdout)
    assert found
