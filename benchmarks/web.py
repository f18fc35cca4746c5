"""Search and reading through `ingest serve`: the JSON API and the web page, over HTTP.

Builds (or reuses, with --db) the synthetic archive of benchmarks/search.py (Zipf vocabulary,
20 feeds, 5 languages, 5% near-duplicates), starts the real `ingest serve` on it, and times,
one request at a time over a kept-alive loopback connection:

- `/api/search?q=WORD&<filter>` and the search page `/?q=WORD&<filter>` for one-word queries
  drawn by frequency (as in benchmarks/search.py), each with one filter (none, feed, since,
  lang, site);
- the article page `/articles/ID` (render goal < 50 ms), also of one article of 8,000 words,
  and `/api/articles/ID`;
- `/api/articles?limit=100` pages (summaries), the home page and a feed's page and API list
  at their newest and deep in (keyset: the same cost), and a feed's Atom (`/feeds/ID.atom`).

    python benchmarks/web.py                          # 100k articles, temporary archive
    python benchmarks/web.py --size 100000 --db /tmp/bench.db   # keep it for later runs
    python benchmarks/web.py --save out.json / --compare out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from search import FEEDS, STOPWORDS, Corpus, fill

from ingest.store.engine import open_archive
from ingest.store.models import Article, Entry

REQUESTS = 200
LONG_ID, LONG_WORDS = 1, 8_000
FILTERS = ({}, {"feed": "4"}, {"since": "30d"}, {"lang": "de"}, {"site": "site3.example"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }


def timed(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept": "text/html,application/json"})
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"GET {path}: HTTP {response.status}")
    return elapsed


def run(port: int, corpus: Corpus, size: int, deep: dict[int, int]) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rng = random.Random(2)
    words = [w for w in corpus.draw(REQUESTS * 3) if int(w.lstrip("zethaw")) >= STOPWORDS]
    words = words[:REQUESTS]
    queries = [urlencode({"q": w, **FILTERS[i % len(FILTERS)]}) for i, w in enumerate(words)]
    for query in queries[:5]:  # warm the page cache
        timed(conn, "/api/search?" + query)
    ids = [rng.randrange(1, size + 1) for _ in range(REQUESTS)]
    feeds = [1 + i % FEEDS for i in range(40)]
    return {
        "api_search": summary([timed(conn, "/api/search?" + q) for q in queries]),
        "page_search": summary([timed(conn, "/?" + q) for q in queries]),
        "page_article": summary([timed(conn, f"/articles/{i}") for i in ids]),
        "page_article_long": summary([timed(conn, f"/articles/{LONG_ID}") for _ in range(50)]),
        "api_article": summary([timed(conn, f"/api/articles/{i}") for i in ids]),
        "api_list_100": summary(
            [timed(conn, f"/api/articles?limit=100&after={i}") for i in ids[:50]]
        ),
        # keyset pages: the newest page and one near the oldest cost the same
        "page_home": summary([timed(conn, "/") for _ in range(50)]),
        "page_home_deep": summary([timed(conn, "/?before=200") for _ in range(50)]),
        "page_feed": summary([timed(conn, f"/feeds/{f}") for f in feeds]),
        "page_feed_deep": summary([timed(conn, f"/feeds/{f}?before={deep[f]}") for f in feeds]),
        "api_feed_deep": summary(
            [timed(conn, f"/api/feeds/{f}/articles?after={deep[f]}") for f in feeds]
        ),
        "atom_feed": summary([timed(conn, f"/feeds/{f}.atom") for f in feeds]),
    }


def long_article(engine: sa.Engine) -> None:
    """Article LONG_ID gets a long text (LONG_WORDS words in 100 paragraphs): the article page
    is timed on it too. Idempotent, so a kept archive is changed once and stays comparable."""
    rng = random.Random(3)
    vocabulary = [f"w{rank}" for rank in range(5_000)]
    paragraphs = [" ".join(rng.choices(vocabulary, k=LONG_WORDS // 100)) for _ in range(100)]
    with engine.begin() as conn:
        conn.execute(
            sa.update(Article)
            .where(Article.id == LONG_ID, Article.word_count != LONG_WORDS)
            .values(text="\n".join(paragraphs), word_count=LONG_WORDS)
        )


def deep_cursors(engine: sa.Engine) -> dict[int, int]:
    """For each feed, the entry with 100 older ones: where a page deep in the feed starts."""
    with engine.connect() as conn:
        return {
            feed: conn.execute(
                sa.select(Entry.id)
                .where(Entry.feed_id == feed)
                .order_by(Entry.first_seen, Entry.id)
                .offset(100)
                .limit(1)
            ).scalar_one()
            for feed in range(1, FEEDS + 1)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="keep the SQLite archive here (reused if there)")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with an earlier JSON result")
    args = parser.parse_args()
    earlier = json.loads(args.compare.read_text()) if args.compare else {}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        engine = open_archive(f"sqlite:///{path}")
        with engine.connect() as conn:
            have = conn.execute(sa.select(sa.func.count()).select_from(Article)).scalar() or 0
        corpus = Corpus(random.Random(1))
        if have < args.size:
            started = time.perf_counter()
            fill(engine, have, args.size, corpus)
            print(f"filled {args.size - have:,} articles in {time.perf_counter() - started:.0f} s")
        long_article(engine)
        deep = deep_cursors(engine)
        engine.dispose()
        port = free_port()
        command = [sys.executable, "-m", "ingest", "--db", f"sqlite:///{path}", "serve"]
        server = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            results = run(port, corpus, args.size, deep)
        finally:
            server.terminate()
            server.wait(30)
    print(f"{args.size:,} articles, {REQUESTS} requests each, one at a time:")
    for name, stats in results.items():
        was = earlier.get(name)
        line = f"  {name:<18} p50 {stats['p50_ms']:>8} ms  p95 {stats['p95_ms']:>8} ms"
        line += f"  max {stats['max_ms']:>8} ms"
        if was:
            line += f"   (was p50 {was['p50_ms']}, p95 {was['p95_ms']})"
        print(line)
    if args.save:
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
