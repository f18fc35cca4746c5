"""Export benchmark: peak memory (RSS) and speed of `ingest export` per format as the archive
grows, which must stay flat (the export streams in batches, never the whole archive); and the
start-up of `ingest --help` and `ingest feeds list` on the same archive, against a bare Typer
app's `--help` (Python, typer and rich: the floor of any such CLI).

Synthetic articles (3 KB of text each, one feed entry each) are bulk-inserted with SQLAlchemy
Core into a real SQLite archive; each export runs as its own `ingest export` process writing to
/dev/null, and its peak RSS is read from the kernel (`wait4`). The filling runs in a process of
its own: a child's peak RSS counts the image it was forked from, so the process starting the
exports must stay small (a parent grown by the bulk inserts made every export look as big).

    python benchmarks/export.py                                  # 10k and 100k articles
    python benchmarks/export.py --sizes 100000 --formats jsonl,atom --save results.json
    python benchmarks/export.py --compare benchmarks/results/export.json
    python benchmarks/export.py --sizes 10000 --formats ''     # start-up only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FORMATS = ("jsonl", "csv", "atom", "json-feed")
BATCH = 20_000
BARE_TYPER = "import typer\napp = typer.Typer()\n@app.command()\ndef main() -> None: ...\napp()"
TEXT = "\n".join(f"Paragraph {i}: " + "archived words of a news story, " * 12 for i in range(8))


def fill(db_url: str, start: int, stop: int) -> None:
    """Articles `start`..`stop` (run as its own process: see the module's docstring)."""
    import sqlalchemy as sa

    from ingest.store.engine import open_archive
    from ingest.store.models import Article, Entry, Feed, utcnow

    engine = open_archive(db_url)
    now = utcnow()
    with engine.begin() as conn:
        feed_id = conn.execute(sa.select(Feed.id)).scalar()
        if feed_id is None:
            feed_id = conn.execute(
                sa.insert(Feed).values(url="https://bench.example/feed", created_at=now)
            ).inserted_primary_key[0]
    for first in range(start, stop, BATCH):
        ids = range(first, min(stop, first + BATCH))
        articles = [
            {
                "id": i + 1,
                "url": f"https://bench.example/{i}",
                "canonical_url": f"https://bench.example/{i}",
                "title": f'Story {i}, with "quotes" & commas',
                "text": TEXT,
                "html": "<p>" + TEXT.replace("\n", "</p><p>") + "</p>",
                "word_count": 600,
                "extraction": "full",
                "published": now,
                "language": "en",
                "created_at": now,
                "updated_at": now,
                "categories": [],
            }
            for i in ids
        ]
        entries = [
            {
                "feed_id": feed_id,
                "key": str(i),
                "link": f"https://bench.example/{i}",
                "article_id": i + 1,
                "first_seen": now,
                "last_seen": now,
                "categories": [],
                "enclosures": [],
                "history": [],
            }
            for i in ids
        ]
        with engine.begin() as conn:
            conn.execute(sa.insert(Article), articles)
            conn.execute(sa.insert(Entry), entries)


def export(db_url: str, fmt: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `ingest export` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["INGEST_DB_URL"] = db_url
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest", "export", "--format", fmt, "-o", os.devnull],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"export --format {fmt} failed ({process.returncode})")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def startup(db_url: str, runs: int = 5) -> dict[str, float]:
    """Median wall time of `ingest --help`, `ingest feeds list` and a bare Typer app's `--help`,
    each a process of its own as a user starts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["INGEST_DB_URL"] = db_url
    ingest = str(Path(sys.executable).with_name("ingest"))
    commands = {
        "help": [ingest, "--help"],
        "feeds_list": [ingest, "feeds", "list"],
        "bare_typer_help": [sys.executable, "-c", BARE_TYPER, "--help"],
    }
    medians = {}
    for name, command in commands.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="archive sizes, ascending")
    parser.add_argument("--formats", default=",".join(FORMATS), help="formats to export")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    parser.add_argument("--compare", type=Path, help="an earlier results file to compare with")
    parser.add_argument(
        "--fill", nargs=3, metavar=("DB_URL", "START", "STOP"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.fill:
        fill(args.fill[0], int(args.fill[1]), int(args.fill[2]))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        done = 0
        for size in sizes:
            filling = [sys.executable, __file__, "--fill", db_url, str(done), str(size)]
            subprocess.run(filling, check=True)
            done = size
            started = startup(db_url)
            results[f"startup@{size}"] = started
            print(
                f"start-up, {size} articles: --help {started['help']:.2f} s, feeds list"
                f" {started['feeds_list']:.2f} s (median of 5); bare Typer --help"
                f" {started['bare_typer_help']:.2f} s: --help"
                f" {started['help'] / started['bare_typer_help']:.2f}x, feeds list"
                f" {started['feeds_list'] / started['bare_typer_help']:.2f}x of it"
            )
            for fmt in filter(None, args.formats.split(",")):
                seconds, peak = export(db_url, fmt)
                results[f"{fmt}@{size}"] = {"seconds": seconds, "peak_rss_mb": peak}
                rate = size / seconds
                print(
                    f"{fmt:>10} {size:>8} articles: {seconds:6.1f} s, {rate:7.0f} articles/s,"
                    f" peak RSS {peak:6.1f} MB"
                )
    if args.compare:
        before = json.loads(args.compare.read_text())
        for key, now in results.items():
            if key in before and "peak_rss_mb" in now:
                ratio = now["peak_rss_mb"] / before[key]["peak_rss_mb"]
                print(f"vs {args.compare.name}: {key} peak RSS {ratio:.2f}x of before")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
