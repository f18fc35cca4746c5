"""Terminal output: data to stdout (table or JSON), messages and errors to stderr.

Archived text is hostile input: a feed title may carry Rich markup (`[/x]` crashed `feeds list`,
`[b]` vanished) or terminal escapes (`ESC]0;…BEL` retitles the window, OSC 52 writes the
clipboard, `ESC[2J` clears the screen). Every string any command prints goes through this module,
which never interprets markup in it (it is printed as `rich.text.Text`) and strips C0/C1 control
characters (tab and line feed kept) before it reaches the terminal. JSON keeps the data exact:
C0 controls are escaped by JSON itself and C1 controls are written as `\\u00XX` escapes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ingest.timestamps import json_default

# Piped output is not cut to 80 columns: scripts and logs read whole URLs and errors.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

# C0 controls but tab and line feed, DEL, C1 controls (0x9b is an 8-bit CSI on many terminals).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile("[\x80-\x9f]")


class Format(StrEnum):
    table = "table"
    json = "json"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


def safe(value: object) -> str:
    """`value` as text a terminal shows as it is: no control character survives."""
    return _CONTROLS.sub("", "" if value is None else str(value))


def plain(value: object, style: str = "") -> Text:
    """`value` as a Rich Text: printed literally, never parsed as markup."""
    return Text(safe(value), style=style)


def _cell(value: object) -> Text:
    """A table cell: styled Text (a highlighted snippet) keeps its styles, controls blanked
    one for one so the spans stay in place; anything else through `plain`."""
    if isinstance(value, Text):
        cell = value.copy()
        cell.plain = _CONTROLS.sub(" ", cell.plain)
        return cell
    return plain(value)


def say(value: object = "", *, style: str = "") -> None:
    """One line of data on stdout."""
    out.print(plain(value, style))


def message(value: object, *, style: str = "") -> None:
    """One line for the human on stderr (progress, notes, errors)."""
    err.print(plain(value, style))


def fail(exc: BaseException) -> NoReturn:
    """One line on stderr; exit 2 for usage, configuration and archive errors, or the error's
    own code (75 when a database server is unreachable: worth retrying later)."""
    line = safe(str(exc).splitlines()[0]) if str(exc).strip() else type(exc).__name__
    print(f"error: {line}", file=sys.stderr)
    sys.exit(getattr(exc, "exit_code", 2))


def print_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=json_default)
    sys.stdout.write(_C1.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=plain(title) if title else None, show_lines=False)
    for column in columns:
        table.add_column(plain(column), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    out.print(table)
