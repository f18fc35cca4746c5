"""Terminal output: data to stdout (table or JSON), messages and errors to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ingest.timestamps import json_default

# Piped output is not cut to 80 columns: scripts and logs read whole URLs and errors.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    json = "json"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


def fail(exc: BaseException) -> NoReturn:
    """One line on stderr; exit 2 for usage, configuration and archive errors, or the error's
    own code (75 when a database server is unreachable: worth retrying later)."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"error: {message}", file=sys.stderr)
    sys.exit(getattr(exc, "exit_code", 2))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=json_default) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(v if isinstance(v, Text) else "" if v is None else str(v) for v in row))
    out.print(table)
