"""Calls the worker pool runs that need the extraction stack, by name: each imports it
(trafilatura, py3langid with numpy) inside the worker, so the process that only schedules them
never loads it. A run that only polls feeds, or finds them all unchanged, starts without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.update.page import PageText


def prepare_page(body: bytes, content_type: str, url: str) -> PageText | None:
    """ingest.extract.prepare_page, imported in the worker (already there when preloaded)."""
    from ingest.extract import prepare_page as prepare

    return prepare(body, content_type, url)
