"""Pipeline benchmark: end-to-end fetch of a loopback farm of feeds, plus per-stage costs.

Prints numbers and ratios measured in the same run (1 worker process vs one per core; the
anchor: trafilatura alone extracting the same pages from memory in one process per core),
writes them to a JSON file, and compares with an earlier run. Each end-to-end run is a fresh
process (what `ingest fetch` loads, no more); memory is the peak of that process and its
workers, summed (RSS, and PSS: shared pages split among their sharers):

    python benchmarks/run.py                        # default farm: 100 feeds x 10 articles
    python benchmarks/run.py --feeds 100 --items 20 --save benchmarks/results/now.json
    python benchmarks/run.py --compare benchmarks/results/before.json

Never reaches the network: the farm is an aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

from ingest.batch import fetch_once  # noqa: E402
from ingest.config import Settings  # noqa: E402
from ingest.store import feeds  # noqa: E402
from ingest.store.engine import open_archive  # noqa: E402

ITEM = """<item><title>Story {f}-{i}</title><link>{base}/a/{f}/{i}/</link>
<guid>{base}/a/{f}/{i}/</guid><pubDate>Mon, 02 Jul 2018 08:00:00 +0000</pubDate>
<description>Teaser of story {f}-{i}.</description></item>"""


COMMENT = """<div class="comment"><div class="comment-author">Reader {n}</div>
<div class="comment-meta"><a href="#c{n}">July 2, 2018 at {n}:05 am</a></div>
<p>Comment number {n}: interesting move, let us see how the partnership works out in practice
and whether the other players in the region follow with similar agreements.</p>
<a class="reply" href="#reply-{n}">Reply</a></div>
"""


def padded_page(page_kb: int) -> str:
    """The seed article page padded with reader comments to about `page_kb` KB, as real news
    pages are (0: as is)."""
    page = (FIXTURES / "sensetime.html").read_text(encoding="utf-8")
    comments, n = [], 0
    while sum(map(len, comments)) < page_kb * 1024 - len(page):
        comments.append(COMMENT.format(n=n))
        n += 1
    page = page.replace(
        '<section id="comments" class="comments-area">',
        '<section id="comments" class="comments-area">' + "".join(comments),
    )
    return page


_PARAGRAPH = re.compile(r"(<p>)(.*?)(</p>)", re.DOTALL)
_LONG_WORD = re.compile(r"\b([A-Za-z]{4,})\b")


def article_html(page: str, host: str, f: object, i: object) -> str:
    """Article `i` of feed `f`: the padded page made a story of its own. Its title changes, its
    rel=canonical and og:url name the page itself (with the seed's URL there, every page
    declared one canonical page and the run merged them all into one article), and every other
    long word of its paragraphs is marked with the page's number, so no two pages share a
    5-word shingle (near-duplicates are benchmarks/dedupe.py's subject, not this one's)."""
    html = page.replace("{base}", f"http://{host}").replace(
        "SenseTime Enters Singapore", f"Story {f}-{i}: SenseTime Enters Singapore"
    )
    html = html.replace("/2018/07/sensetime-singapore/", f"/a/{f}/{i}/")

    def mark(paragraph: re.Match[str]) -> str:
        words = itertools.count()
        text = _LONG_WORD.sub(lambda w: f"{w[1]}{f}x{i}" if next(words) % 2 else w[1], paragraph[2])
        return paragraph[1] + text + paragraph[3]

    return _PARAGRAPH.sub(mark, html)


def farm(feed_count: int, items: int, page_kb: int = 0) -> tuple[web.Application, list[str]]:
    """An app serving `feed_count` RSS feeds of `items` distinct article pages each."""
    page = padded_page(page_kb)

    async def feed(request: web.Request) -> web.Response:
        f = int(request.match_info["f"])
        base = f"http://{request.host}"
        body = "".join(ITEM.format(f=f, i=i, base=base) for i in range(items))
        channel = f"<channel><title>Feed {f}</title>{body}</channel>"
        xml = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        return web.Response(text=xml, content_type="application/rss+xml")

    async def article(request: web.Request) -> web.Response:
        f, i = request.match_info["f"], request.match_info["i"]
        html = article_html(page, request.host, f, i)
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/feed/{f}.rss", feed)
    app.router.add_get("/a/{f}/{i}/", article)
    return app, [f"/feed/{f}.rss" for f in range(feed_count)]


def serve(feed_count: int, items: int, page_kb: int) -> tuple[str, multiprocessing.Process]:
    """Run the farm in a process of its own (so it takes no CPU from the measured process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = multiprocessing.Process(
        target=_serve_forever, args=(feed_count, items, page_kb, port)
    )
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}", process
        time.sleep(0.05)
    raise SystemExit("the farm server did not start")


def _serve_forever(feed_count: int, items: int, page_kb: int, port: int) -> None:
    app, _ = farm(feed_count, items, page_kb)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


class TreeMemory(threading.Thread):
    """Samples the memory of this process and all its descendants (the worker pool lives under
    a forkserver, out of reach of RUSAGE_CHILDREN) and keeps the peak sums: of RSS (shared
    pages counted in every process that maps them) and of PSS (each shared page split among
    its sharers: what the run really occupies)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.peak_rss_mb = self.peak_pss_mb = self.peak_root_rss_mb = 0.0

    def run(self) -> None:
        while not self.done.wait(0.1):
            rss, pss, root = self.sample()
            self.peak_rss_mb, self.peak_pss_mb, self.peak_root_rss_mb = (
                max(self.peak_rss_mb, rss),
                max(self.peak_pss_mb, pss),
                max(self.peak_root_rss_mb, root),
            )

    def sample(self) -> tuple[float, float, float]:
        """RSS and PSS summed over the tree, and the RSS of its root process alone (MB)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = set(), {self.root}
        while frontier:
            tree |= frontier
            frontier = {p for p, parent in parents.items() if parent in frontier} - tree
        rss = pss = root = 0
        for pid in tree:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                    root += int(line.split()[1]) if pid == self.root else 0
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        return rss / 1024, pss / 1024, root / 1024


def end_to_end(base: str, paths: list[str], workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            db_url=f"sqlite:///{tmp}/bench.db",
            workers=workers,
            host_delay=0,
            per_host_concurrency=16,
            respect_robots=False,
            feeds_files=[],
            allow_networks=["127.0.0.0/8"],  # the farm stands for public hosts (polling.py)
        )
        engine = open_archive(settings.db_url)
        for path in paths:
            feeds.add_feed(engine, base + path)
        started, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(fetch_once(engine, settings))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        articles = sum(r.full for r in result.reports)
        assert not result.failed, [r.error for r in result.failed]
        return {
            "seconds": elapsed,
            "feeds_per_s": len(paths) / elapsed,
            "articles_per_s": articles / elapsed,
            "articles": articles,
            "main_process_cpu_share": cpu / elapsed,  # near 1.0: the event loop is the bottleneck
        }


def in_fresh_process(
    base: str, paths: list[str], workers: int
) -> tuple[dict[str, float], TreeMemory]:
    """`end_to_end` in a process of its own that loads what `ingest fetch` loads and no more
    (this one loaded trafilatura and the language model for the stage costs: they would count
    as ingest's memory), with the peak memory of that process and its workers (sampled: the
    child's ru_maxrss would start at this process's, Linux keeps it across exec)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_end_to_end_into, args=(base, paths, workers, results))
    process.start()
    sampler = TreeMemory(root=process.pid or 0)
    sampler.start()
    result = results.get()
    process.join()
    sampler.done.set()
    return result, sampler


def _end_to_end_into(base: str, paths: list[str], workers: int, results: Any) -> None:
    results.put(end_to_end(base, paths, workers))


def _trafilatura_only(html: str) -> bool:
    from trafilatura import bare_extraction

    from ingest.extract import TRAFILATURA_OPTIONS

    document = bare_extraction(html, url="http://127.0.0.1/a/", **TRAFILATURA_OPTIONS)
    return document is not None and document.body is not None


def trafilatura_alone(page_kb: int, count: int, processes: int) -> dict[str, float]:
    """The anchor: trafilatura's own extraction of the farm's pages (called as ingest calls
    it), from memory, one process per core: no network, no feeds, no database."""
    page = padded_page(page_kb)
    pages = [article_html(page, "127.0.0.1", n // 10, n % 10) for n in range(count)]
    with multiprocessing.Pool(processes) as pool:
        pool.map(_trafilatura_only, pages[: processes * 2])  # imports and warm-up
        started = time.perf_counter()
        found = sum(pool.map(_trafilatura_only, pages, chunksize=4))
        elapsed = time.perf_counter() - started
    assert found == count, f"trafilatura found {found} of {count} articles"
    return {"seconds": elapsed, "pages_per_s": count / elapsed}


def stage_costs(repeat: int) -> dict[str, float]:
    """Median milliseconds of the CPU stages on the fixtures (one process)."""
    from ingest.extract import decode_html, extract_article
    from ingest.parse import parse_feed

    feed = (FIXTURES / "feed.rss").read_bytes().replace(b"{base}", b"http://127.0.0.1")
    page = (FIXTURES / "sensetime.html").read_bytes().replace(b"{base}", b"http://127.0.0.1")

    def median_ms(fn: Any) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    headers = {"content-type": "application/rss+xml"}
    return {
        "parse_feed_ms": median_ms(lambda: parse_feed(feed, headers, "http://127.0.0.1/feed.rss")),
        "extract_article_ms": median_ms(
            lambda: extract_article(decode_html(page, "text/html"), "http://127.0.0.1/a/")
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--page-kb", type=int, default=80, help="article page size (padding)")
    parser.add_argument("--repeat", type=int, default=30, help="repetitions of the stage timings")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    parser.add_argument("--compare", type=Path, help="an earlier results file to compare with")
    args = parser.parse_args()

    _, paths = farm(args.feeds, args.items)
    base, server = serve(args.feeds, args.items, args.page_kb)
    cores = os.cpu_count() or 1
    results: dict[str, Any] = {
        "feeds": args.feeds,
        "items": args.items,
        "page_kb": args.page_kb,
        "cores": cores,
    }
    results |= stage_costs(args.repeat)
    results["one_worker"], _ = in_fresh_process(base, paths, 1)
    results["all_cores"], sampler = in_fresh_process(base, paths, cores)
    results["peak_rss_total_mb"] = sampler.peak_rss_mb
    results["peak_pss_total_mb"] = sampler.peak_pss_mb
    results["speedup_all_cores_vs_one"] = (
        results["all_cores"]["articles_per_s"] / results["one_worker"]["articles_per_s"]
    )
    results["peak_rss_mb"] = sampler.peak_root_rss_mb
    server.terminate()
    pages = results["all_cores"]["articles"]
    results["trafilatura_alone"] = trafilatura_alone(args.page_kb, int(pages), cores)
    results["fulltext_vs_trafilatura"] = (
        results["all_cores"]["articles_per_s"] / results["trafilatura_alone"]["pages_per_s"]
    )

    print(
        f"farm: {args.feeds} feeds x {args.items} articles of ~{args.page_kb} KB "
        f"on 127.0.0.1, {cores} cores"
    )
    print(f"parse_feed (3 items)       {results['parse_feed_ms']:8.2f} ms")
    print(f"extract_article (seed)     {results['extract_article_ms']:8.2f} ms")
    for name in ("one_worker", "all_cores"):
        r = results[name]
        rates = f"{r['feeds_per_s']:7.1f} feeds/s  {r['articles_per_s']:7.1f} articles/s"
        print(
            f"{name:<26} {r['seconds']:8.2f} s  {rates}  main CPU {r['main_process_cpu_share']:.0%}"
        )
    print(f"speedup all cores vs one   {results['speedup_all_cores_vs_one']:8.2f} x")
    anchor = results["trafilatura_alone"]["pages_per_s"]
    print(f"trafilatura alone, {cores} procs {anchor:8.1f} pages/s (the same pages, from memory)")
    print(f"ingest vs trafilatura      {results['fulltext_vs_trafilatura']:8.2f} x  (goal >= 0.80)")
    print(f"peak RSS (main process)    {results['peak_rss_mb']:8.0f} MB  (the run's own process)")
    print(
        f"peak RSS, all processes    {results['peak_rss_total_mb']:8.0f} MB  (shared pages in each)"
    )
    print(f"peak PSS, all processes    {results['peak_pss_total_mb']:8.0f} MB  (goal < 400 MB)")
    if args.compare:
        before = json.loads(args.compare.read_text())
        for key in ("parse_feed_ms", "extract_article_ms"):
            print(f"vs {args.compare.name}: {key} {results[key] / before[key]:.2f}x of before")
        for name in ("one_worker", "all_cores"):
            ratio = results[name]["articles_per_s"] / before[name]["articles_per_s"]
            print(f"vs {args.compare.name}: {name} articles/s {ratio:.2f}x of before")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
