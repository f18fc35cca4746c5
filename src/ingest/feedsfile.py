"""Feeds declared in files under `config/` (a TOML list or OPML), so a deployment is configured
by files: `fetch` and the daemon sync them into the archive before each run."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ingest.errors import ConfigError, UsageError
from ingest.identity import check_url, feed_url
from ingest.opml import OpmlError, read_opml

Declared = list[tuple[str, str | None]]  # (url, title)


def read_feeds_file(path: Path) -> Declared:
    """The feeds a file declares; ConfigError (one line) when it is unreadable or malformed.

    TOML: `[[feeds]]` tables with `url` and optional `title`. OPML: every outline with xmlUrl.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read feeds file {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".opml", ".xml"):
        try:
            outlines = read_opml(data)
        except OpmlError as exc:
            raise ConfigError(f"invalid OPML in {path}: {exc}") from None
        return [(_checked(o.url, path), o.title) for o in outlines]
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid feeds file {path}: {exc}") from None
    declared: Declared = []
    for item in table.get("feeds", []):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise ConfigError(f"invalid feeds file {path}: each [[feeds]] needs a url string")
        declared.append((_checked(item["url"], path), item.get("title")))
    return declared


def _checked(url: str, path: Path) -> str:
    try:
        return check_url(url)
    except UsageError as exc:
        raise ConfigError(f"invalid feeds file {path}: {exc}") from None


def declared_feeds(files: list[str]) -> dict[str, str]:
    """Every feed the existing feeds files declare: canonical URL → the file that declares it."""
    found: dict[str, str] = {}
    for name in files:
        path = Path(name)
        if path.exists():
            for url, _title in read_feeds_file(path):
                found.setdefault(feed_url(url), name)
    return found
