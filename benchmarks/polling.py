"""Polling benchmark: ingest's CLI against reader (the polling anchor) on one loopback farm.

The farm serves `--feeds` RSS feeds of `--items` entries from 50 loopback addresses
(127.0.0.2 … 127.0.0.51, so per-host limits behave as on the web), each response after 50 ms,
with ETag/304. Measured in the same run, in this order:

- reader, in-process, `update_feeds(workers=16)`: first poll, then re-poll (all 304);
- `ingest fetch --no-fulltext` as a user runs it (a whole CLI process, start-up included) with
  `host_delay = 0` (reader has no per-host delay): first poll, then re-poll. The farm stands for
  public hosts, so its addresses are allowed (`allow_networks`, `ALLOW`): requests then share
  pooled connections as they do to public hosts, where a feed on a private address the user
  subscribed to gets a connection per request (a pooled one could carry a request the address
  policy would refuse);
- optionally (`--polite`) the same with the default `host_delay`.

Each poll's CPU seconds are printed too: reader's process; ingest's own process (`main`) and its
descendants (`others`: the forkserver and the parse workers).

    python benchmarks/polling.py                          # 500 feeds x 20 entries
    python benchmarks/polling.py --feeds 200 --profile benchmarks/results/profile-first-poll.txt
    python benchmarks/polling.py --save benchmarks/results/polling.json --compare OLD.json

`--profile FILE` records ingest's first poll with py-spy (all processes) and writes the top
frames (inclusive share of the samples of the main process and of the workers) to FILE.
Needs the `bench` extra (`pip install -e '.[bench]'`): reader and py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOSTS = [f"127.0.0.{n}" for n in range(2, 52)]
LATENCY = 0.05
ALLOW = ["127.0.0.0/8"]  # the farm's loopback hosts stand for public ones (see the docstring)
TICKS = os.sysconf("SC_CLK_TCK")  # /proc/PID/stat counts CPU time in these

ITEM = """<item><title>Story {f}-{i}: the council votes on the harbour plan</title>
<link>{base}/a/{f}/{i}/</link><guid isPermaLink="false">{base}/a/{f}/{i}/</guid>
<pubDate>{date}</pubDate><author>desk{f}@example.org (Desk {f})</author>
<description>The council of district {f} met on day {i} and voted on the harbour plan: the
proposal, debated for months, moves the ferry terminal and adds a cycle path along the quay.
Opponents said the cost estimate of story {i} was optimistic; the mayor promised a review.
</description></item>"""


def feed_xml(f: int, items: int, base: str) -> bytes:
    body = "".join(
        ITEM.format(
            f=f,
            i=i,
            base=base,
            date=time.strftime(
                "%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1_700_000_000 - 3600 * i)
            ),
        )
        for i in range(items)
    )
    channel = f"<channel><title>Feed {f}</title><link>{base}/</link>{body}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()


def feed_urls(feed_count: int, port: int) -> list[str]:
    return [f"http://{HOSTS[f % len(HOSTS)]}:{port}/feed/{f}.rss" for f in range(feed_count)]


def _serve_forever(items: int, port: int) -> None:
    from aiohttp import web

    async def feed(request: web.Request) -> web.Response:
        f = int(request.match_info["f"])
        await asyncio.sleep(LATENCY)
        etag = f'"v1-{f}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = feed_xml(f, items, f"http://{request.host}")
        return web.Response(
            body=body, content_type="application/rss+xml", charset="utf-8", headers={"ETag": etag}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{f}.rss", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for host in HOSTS:
            await web.TCPSite(runner, host, port, backlog=1024).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def serve(items: int) -> tuple[int, multiprocessing.Process]:
    """The farm in a process of its own; returns its port."""
    with socket.socket() as probe:
        probe.bind((HOSTS[0], 0))
        port = probe.getsockname()[1]
    process = multiprocessing.Process(target=_serve_forever, args=(items, port), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex((HOSTS[-1], port)) == 0:
                return port, process
        time.sleep(0.05)
    raise SystemExit("the farm did not start")


def run_reader(urls: list[str], workers: int) -> dict[str, float]:
    from reader import make_reader

    with tempfile.TemporaryDirectory() as tmp:
        reader = make_reader(f"{tmp}/reader.sqlite")
        for url in urls:
            reader.add_feed(url)
        started, cpu = time.perf_counter(), time.process_time()
        reader.update_feeds(workers=workers, scheduled=False)
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        entries = reader.get_entry_counts().total
        started, cpu = time.perf_counter(), time.process_time()
        reader.update_feeds(workers=workers, scheduled=False)
        again, again_cpu = time.perf_counter() - started, time.process_time() - cpu
        reader.close()
    return {
        "first_poll_s": first,
        "repoll_s": again,
        "entries": entries,
        "first_poll_cpu": {"main": first_cpu},
        "repoll_cpu": {"main": again_cpu},
    }


def run_ingest(
    urls: list[str],
    host_delay: float | None,
    profile: Path | None,
    profile_repoll: Path | None = None,
) -> dict[str, float]:
    from ingest.store import feeds
    from ingest.store.engine import open_archive

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/ingest.db"
        config = Path(tmp, "ingest.toml")
        lines = ["respect_robots = false", "feeds_files = []", "fetch_log_retention_days = 0"]
        lines.append("allow_networks = [" + ", ".join(f'"{net}"' for net in ALLOW) + "]")
        if host_delay is not None:
            lines.append(f"host_delay = {host_delay}")
        config.write_text("\n".join(lines) + "\n")
        engine = open_archive(db)
        for url in urls:
            feeds.add_feed(engine, url)
        engine.dispose()
        command = [str(BIN / "ingest"), "--db", db, "--config", str(config)]
        command += ["fetch", "--no-fulltext"]
        raw = Path(tmp, "profile.txt")
        first, first_cpu = _profiled(command, profile, raw)
        again, again_cpu = _profiled(command, profile_repoll, raw)
        engine = open_archive(db)
        with engine.connect() as conn:
            entries = conn.exec_driver_sql("SELECT count(*) FROM entry").scalar_one()
            conditional = conn.exec_driver_sql(
                "SELECT count(*) FROM fetch_log WHERE status = 304"
            ).scalar_one()
        engine.dispose()
    return {
        "first_poll_s": first,
        "repoll_s": again,
        "entries": entries,
        "repoll_304_share": conditional / len(urls),
        "first_poll_cpu": first_cpu,
        "repoll_cpu": again_cpu,
    }


def _profiled(
    command: list[str], profile: Path | None, raw: Path
) -> tuple[float, dict[str, float]]:
    """Run `command` timed, with its CPU seconds; with `profile`, under py-spy (all processes),
    summarized there (no CPU figures then: py-spy is the process measured); the collapsed stacks
    are kept beside it (`.folded`, for a flame graph or a closer look)."""
    if profile is None:
        return _timed(command)
    spy = [str(BIN / "py-spy"), "record", "--subprocesses", "-r", "200", "-f", "raw"]
    elapsed, _ = _timed([*spy, "-o", str(raw), "--", *command])
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text(summarize_profile(raw.read_text()))
    profile.with_suffix(".folded").write_text(raw.read_text())
    return elapsed, {}


def _timed(command: list[str]) -> tuple[float, dict[str, float]]:
    """Wall time, and the CPU seconds (user + system) of the command's own process (`main`) and
    of its descendants (`others`: the forkserver and the workers), read from /proc every 50 ms
    while it runs: on 2 cores they say which of them a run waits for."""
    seen: dict[int, tuple[float, bool]] = {}
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, text=True)
        while process.poll() is None:
            _sample_cpu(process.pid, seen)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{command[0]} failed ({process.returncode}): {errors.read()[-2000:]}")
    return elapsed, {
        "main": sum(cpu for cpu, root in seen.values() if root),
        "others": sum(cpu for cpu, root in seen.values() if not root),
    }


def _sample_cpu(root: int, seen: dict[int, tuple[float, bool]]) -> None:
    """The CPU seconds so far of `root` and each of its descendants, into `seen` by pid."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, stat in stats.items() if int(stat[1]) in frontier} - tree
    for pid in tree & stats.keys():
        seen[pid] = ((int(stats[pid][11]) + int(stats[pid][12])) / TICKS, pid == root)


def summarize_profile(raw: str, top: int = 30) -> str:
    """Inclusive share of samples per frame, per process kind (main vs workers), from py-spy's
    raw (collapsed stacks) output: what a reader of the profile needs to quote."""
    per_process: dict[str, Counter[str]] = {}
    leaves: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        kind = "workers" if "forkserver" in frames[0] else "main"
        totals[kind] += int(count)
        seen = {_short(frame) for frame in frames[1:]}
        counter = per_process.setdefault(kind, Counter())
        for frame in seen:
            counter[frame] += int(count)
        leaves.setdefault(kind, Counter())[_short(frames[-1])] += int(count)
    out = []
    for kind, counter in sorted(per_process.items()):
        out.append(f"== {kind}: {totals[kind]} samples (inclusive share of its samples)")
        for frame, count in counter.most_common(top):
            out.append(f"{100 * count / totals[kind]:5.1f}%  {frame}")
        out.append(f"-- {kind}: top frames by own time (self share)")
        for frame, count in leaves[kind].most_common(top // 2):
            out.append(f"{100 * count / totals[kind]:5.1f}%  {frame}")
        out.append("")
    return "\n".join(out)


def _short(frame: str) -> str:
    """`fn (path/to/module.py:12)` → `fn (module.py)`: lines vary, functions are what to read."""
    name, _, where = frame.partition(" (")
    path = where.split(":")[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--reader-workers", type=int, default=16)
    parser.add_argument("--polite", action="store_true", help="also the default host_delay")
    parser.add_argument("--no-reader", action="store_true", help="skip the anchor")
    parser.add_argument("--profile", type=Path, help="py-spy summary of ingest's first poll")
    parser.add_argument("--profile-repoll", type=Path, help="py-spy summary of its re-poll")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()

    port, server = serve(args.items)
    urls = feed_urls(args.feeds, port)
    results: dict[str, Any] = {"feeds": args.feeds, "items": args.items, "cores": os.cpu_count()}
    try:
        if not args.no_reader:
            results["reader"] = run_reader(urls, args.reader_workers)
        results["ingest"] = run_ingest(urls, 0, args.profile, args.profile_repoll)
        if args.polite:
            results["ingest_polite"] = run_ingest(urls, None, None)
    finally:
        server.terminate()

    print(f"farm: {args.feeds} feeds x {args.items} entries on {len(HOSTS)} loopback hosts, ")
    print(f"      {LATENCY * 1000:.0f} ms per response, ETag/304; {os.cpu_count()} cores")
    for name in ("reader", "ingest", "ingest_polite"):
        if name in results:
            r = results[name]
            print(
                f"{name:<14} first poll {r['first_poll_s']:7.2f} s   "
                f"re-poll {r['repoll_s']:6.2f} s   entries {r['entries']}"
            )
    for name in ("reader", "ingest", "ingest_polite"):
        for poll in ("first_poll", "repoll"):
            cpu = results.get(name, {}).get(f"{poll}_cpu")  # none for a poll run under py-spy
            if cpu:
                shares = " + ".join(f"{kind} {seconds:.2f}" for kind, seconds in cpu.items())
                print(f"{name:<14} CPU s, {poll.replace('_', ' ')}: {shares}")
    if "reader" in results:
        reader, ours = results["reader"], results["ingest"]
        results["ratio_first_poll"] = reader["first_poll_s"] / ours["first_poll_s"]
        results["ratio_repoll"] = reader["repoll_s"] / ours["repoll_s"]
        print(f"ingest vs reader: first poll {results['ratio_first_poll']:.2f}x (goal >= 2.5x)")
        print(f"ingest vs reader: re-poll    {results['ratio_repoll']:.2f}x (goal >= 4x)")
    print(f"ingest re-poll conditional (304): {results['ingest']['repoll_304_share']:.0%}")
    if args.compare:
        before = json.loads(args.compare.read_text())
        for key in ("first_poll_s", "repoll_s"):
            ratio = before["ingest"][key] / results["ingest"][key]
            print(f"vs {args.compare.name}: ingest {key} {ratio:.2f}x faster")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
