"""Regenerate the README's screenshots of the web page (docs/images/*.png).

Builds a small archive from the test fixtures (served on 127.0.0.1), revises the seed article
once, runs `ingest serve` on it and photographs the search page, the article and the feeds list
in Debian's headless chromium:  .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import HTML, SITE  # noqa: E402
from tests.daemons import free_port  # noqa: E402
from tests.fixturefiles import load_fixture  # noqa: E402
from tests.test_web_browser import ARGS, CHROMIUM  # noqa: E402

OUT = ROOT / "docs" / "images"
SEED = "/2018/07/sensetime-singapore/"


def serve_site(server: HTTPServer, revised: bool) -> None:
    server.clear()
    base = server.url_for("").rstrip("/")
    if revised:
        server.expect_request(SEED).respond_with_data(
            load_fixture("sensetime-revised.html", base), content_type=HTML
        )
    for path, (name, content_type) in SITE.items():
        server.expect_request(path).respond_with_data(
            load_fixture(name, base), content_type=content_type
        )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ingest-shots-"))
    env = {
        **os.environ,
        "INGEST_DB_URL": f"sqlite:///{work / 'ingest.db'}",
        "INGEST_HOST_DELAY": "0",
    }

    def ingest(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "ingest", *args], env=env, check=True, cwd=work)

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        serve_site(server, revised=False)
        ingest("feeds", "add", server.url_for("/feed.rss"), server.url_for("/feed.atom"))
        ingest("fetch")
        serve_site(server, revised=True)
        ingest("fetch", "--recheck")
    finally:
        server.stop()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "serve", "--port", str(port)],
                            env=env, cwd=work)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(work / "profile"), executable_path=CHROMIUM, args=ARGS,
                viewport={"width": 1000, "height": 760},
            )  # fmt: skip
            page = context.new_page()
            page.goto(base + "/?q=singapore")
            page.screenshot(path=OUT / "search.png")
            page.get_by_role("link", name="SenseTime Enters Singapore").first.click()
            page.screenshot(path=OUT / "article.png", full_page=True)
            page.goto(base + "/feeds")
            page.screenshot(path=OUT / "feeds.png")
            context.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"wrote {', '.join(p.name for p in sorted(OUT.glob('*.png')))} to {OUT}")


if __name__ == "__main__":
    main()
