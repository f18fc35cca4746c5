"""Help texts that read like a manual: Typer ≥0.2x labels every flag `<bool>` and wraps required
arguments in braces (`{article_id}`), and cuts a command's line in the list where its docstring
wraps; this restores the plain `--flag` and `ARTICLE_ID`, and one unbroken line per command."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption


class _PlainArgument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        # a list argument already ends in "..." (REFS...): `<list[str]>` adds nothing
        return None if self.nargs != 1 else super().display_type_rich(ctx)

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"


def plain_help(command: Any) -> Any:
    """Relabel every parameter of `command` and its subcommands, in place."""
    if command.help and not command.short_help:  # a list's line: the first paragraph, unwrapped
        command.short_help = " ".join(command.help.split("\n\n")[0].split())
    help_option = command.get_help_option(typer.Context(command))  # made once, then cached
    for param in [*command.params, *([help_option] if help_option else [])]:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""  # a flag takes no value: nothing to show after its name
        elif isinstance(param, TyperArgument):
            param.__class__ = _PlainArgument
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            plain_help(sub)
    return command
