"""`ingest check`, `ingest backup` and `ingest prune` on real archives (fetched from the
loopback site), damaged on purpose where the test says so."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import Cli, Site

pytestmark = pytest.mark.timeout(300)  # a fetch, then several commands as processes


@pytest.fixture
def archived(cli: Cli, site: Site) -> Cli:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    return cli


def db(cli: Cli) -> Path:
    return cli.cwd / "archive" / "ingest.db"


def test_check_finds_and_repairs(archived: Cli) -> None:
    clean = archived("check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.endswith("ok\n") and "checked 0 raw" not in clean.stdout
    with sqlite3.connect(db(archived)) as conn:
        # a reference whose digest is not the record's; a record no row points to any more;
        # a body in the database nothing uses; a search index out of step with its articles
        conn.execute("UPDATE raw_response SET payload_digest = 'sha1:WRONG' WHERE id = 2")
        conn.execute("UPDATE fetch_log SET raw_id = NULL WHERE raw_id = 1")
        conn.execute("DELETE FROM raw_response WHERE id = 1")
        conn.execute(
            "INSERT INTO blob (hash, size, data, created_at) VALUES ('ab', 1, x'00', '2018-07-02')"
        )
        conn.execute(
            "INSERT INTO article_fts(article_fts, rowid, title, text)"
            " VALUES ('delete', 3, 'x', 'y')"
        )
        # filter facets out of step with their articles: one missing, one stale (a search
        # filtered on language or duplicates would miss or wrongly show them)
        conn.execute("DELETE FROM article_facet WHERE id = 1")
        conn.execute("UPDATE article_facet SET language = 'xx' WHERE id = 2")
        # an earlier version of an item whose body is gone (JSON: no foreign key guards it)
        conn.execute(
            "UPDATE entry SET history = json_array(json_object('title', 't', 'body', 'dead',"
            " 'replaced_at', '2018-07-02T00:00:00Z')) WHERE id = 1"
        )
    found = archived("check")
    assert found.returncode == 1 and found.stdout.endswith("problems found\n")
    assert "digest sha1:" in found.stdout and "database says sha1:WRONG" in found.stdout
    assert "orphan: 1 records in ingest-" in found.stdout
    assert "orphan: 1 raw bodies in the database nothing uses" in found.stdout
    assert "search index" in found.stdout
    assert "database: reference: entry 1's history names a missing body dead" in found.stdout
    assert "filters: 2 articles whose filter facets are missing or stale" in found.stdout
    assert "repair re-derives them): 1, 2" in found.stdout
    assert "Traceback" not in found.stderr
    repaired = archived("check", "--repair", "--yes")
    assert "search index rebuilt, 2 articles' filter facets re-derived" in repaired.stdout
    assert "1 orphaned bodies dropped" in repaired.stdout
    again = archived("check")
    assert "search index" not in again.stdout and "raw bodies in the database" not in again.stdout
    assert "filters:" not in again.stdout
    with sqlite3.connect(db(archived)) as conn:
        facets = conn.execute("SELECT id, language FROM article_facet ORDER BY id").fetchall()
        languages = conn.execute("SELECT id, lower(language) FROM article ORDER BY id").fetchall()
    assert facets == languages and len(facets) == 3
    assert "orphan: 1 records" in again.stdout  # WARC files are append-only: reported, kept


def test_a_damaged_database_is_one_line_pointing_at_check(archived: Cli) -> None:
    path = db(archived)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # all but the first page (the header) garbled
    path.write_bytes(bytes(data))
    for command in (("feeds", "list"), ("export",), ("search", "singapore")):
        done = archived(*command)
        assert done.returncode == 2, command
        [line] = done.stderr.splitlines()
        assert line.startswith("error: ") and "ingest check" in line, line
    checked = archived("check")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert checked.stdout.startswith("database: ")


def test_backup_while_the_archive_is_written(archived: Cli, tmp_path: Path) -> None:
    stop = threading.Event()

    def write() -> None:  # another process's writes, as a daemon would make them
        with sqlite3.connect(db(archived), timeout=30) as conn:
            n = 0
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO feed (url, source, created_at, enabled, error_count,"
                    " guid_changes, redirect_count, folders) VALUES (?, 'cli', '2018-07-02',"
                    " 1, 0, 0, 0, '[]')",
                    (f"http://busy.example/{n}",),
                )
                conn.commit()
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        done = archived("backup", str(tmp_path / "copy"))
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    assert " WARC files (" in done.stdout and "and 0 WARC files" not in done.stdout
    copy = tmp_path / "copy"
    assert (copy / "ingest.db").stat().st_mode & 0o777 == 0o600
    restored = Cli(archived.cwd, f"sqlite:///{copy / 'ingest.db'}")
    checked = restored("check")
    assert checked.returncode == 0, checked.stdout  # whole: every raw reference resolves
    originals = {r["id"]: r["text"] for r in json.loads(f"[{_lines(archived('export'))}]")}
    copies = {r["id"]: r["text"] for r in json.loads(f"[{_lines(restored('export'))}]")}
    assert copies == originals
    assert "(0 bytes; " in archived("backup", str(copy)).stdout  # incremental: nothing new


def _lines(done: object) -> str:
    return ",".join(done.stdout.splitlines())  # type: ignore[attr-defined]


def test_prune_drops_old_raw_responses_only(archived: Cli) -> None:
    assert archived("prune").returncode == 2  # nothing is deleted unless asked
    nothing = archived("prune", "--raw-older-than", "1y", "--dry-run")
    assert "would drop 0 WARC files" in nothing.stdout
    before = archived("export").stdout
    with sqlite3.connect(db(archived)) as conn:
        conn.execute("UPDATE raw_response SET fetched_at = '2020-01-01 00:00:00'")
        [article_id] = conn.execute("SELECT min(id) FROM article").fetchone()
    planned = archived("prune", "--raw-older-than", "1y", "--dry-run")
    assert "would drop 0 WARC files" not in planned.stdout
    assert "(3 articles keep their text but lose their raw page)" in planned.stdout
    assert archived("show", str(article_id), "--raw").returncode == 0  # dry run: all there
    done = archived("prune", "--raw-older-than", "1y")
    assert done.returncode == 0 and "dropping " in done.stdout
    assert not list((db(archived).parent / "warc").glob("*.warc.gz"))
    assert archived("export").stdout == before  # texts and metadata untouched
    assert "initial" in archived("show", str(article_id), "--revisions").stdout
    gone = archived("show", str(article_id), "--raw")
    assert gone.returncode == 2 and "no archived page" in gone.stderr
    assert archived("check").returncode == 0


@pytest.mark.parametrize(
    "engine_kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_stale_filter_facets_are_found_and_re_derived(
    engine_kind: str, request: pytest.FixtureRequest
) -> None:
    """The same check and repair on both engines (each with its own triggers)."""
    import sqlalchemy as sa

    from ingest.store.engine import open_archive
    from ingest.store.facets import resync_facets, stale_facets
    from ingest.store.models import Article, ArticleFacet

    url = request.getfixturevalue("db_url" if engine_kind == "sqlite" else "pg_url")
    if engine_kind == "sqlite":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = open_archive(url)
    with engine.begin() as conn:
        ids = [
            conn.execute(
                sa.insert(Article)
                .values(url=f"http://Site.example/{n}", text="t", language="EN", sitename="S")
                .returning(Article.id)
            ).scalar_one()
            for n in range(3)
        ]
    with engine.begin() as conn:
        assert stale_facets(conn) == []
        conn.execute(sa.delete(ArticleFacet).where(ArticleFacet.id == ids[0]))
        conn.execute(sa.update(ArticleFacet).where(ArticleFacet.id == ids[1]).values(site="x"))
    with engine.begin() as conn:
        assert stale_facets(conn) == ids[:2]
        assert resync_facets(conn, ids[:2]) == 2
    with engine.begin() as conn:
        assert stale_facets(conn) == []
        rows = conn.execute(
            sa.select(ArticleFacet.host, ArticleFacet.site, ArticleFacet.language).order_by(
                ArticleFacet.id
            )
        ).all()
    assert rows == [("site.example", "s", "en")] * 3
    engine.dispose()
