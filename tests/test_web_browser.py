"""The web pages in a real browser: Debian's chromium, headless, driven by Playwright.

Skipped only where chromium is not installed and the run is not CI (CI=true or
INGEST_REQUIRE_BROWSER=1 make a missing browser a failure: `.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.webarchive import SEED_TITLE, Served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium's background connections fail against the closed network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("INGEST_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = "chromium is not installed (apt-get install chromium)"
        if _required():
            pytest.fail(message + ", and CI / INGEST_REQUIRE_BROWSER=1 requires it")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_search_read_compare_and_list_feeds_in_a_browser(
    served: Served, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(served.base + "/")
    expect(page.get_by_role("link", name="Feeds")).to_be_visible()
    page.get_by_label("Search words").fill("Temasek")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=Temasek**")
    expect(page.locator("li.result mark").first).to_have_text("Temasek")

    page.get_by_role("link", name=SEED_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    paragraphs = page.locator("div.text p")
    assert paragraphs.count() >= 4
    expect(paragraphs.first).to_contain_text("SenseTime, a Beijing-based")
    expect(page.locator("section.sources")).to_contain_text("Pandaily")
    page.get_by_role("link", name="as archived").click()
    raw = page.locator("pre")  # a text/plain document: shown as text, its markup inert
    expect(raw).to_contain_text("HTTP/1.1 200 OK")
    expect(raw).to_contain_text("<script")
    assert page.locator("script").count() == 0 and page.locator("article").count() == 0
    page.go_back()

    page.get_by_role("link", name="diff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Version 1 → version 2")
    expect(page.locator("div.diff del").first).to_have_text("an")
    expect(page.locator("div.diff ins").first).to_have_text("a")

    page.get_by_role("link", name="Feeds").click()
    rows = page.locator("table.feeds tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Pandaily")
    assert problems == []
