"""Plain (click) help for every shai app, with each command's first sentence in full.

Help is click's plain text (``shai.clikit.MARKUP``): rich's renderer costs more than the rest of
start-up. click shortens a command's one-line help to the terminal width with "..."; this group
prints the whole first sentence, wrapped, as rich's help did.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class HelpGroup(TyperGroup):
    """A typer group whose command list shows each command's first sentence unshortened."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.append((name, cmd.get_short_help_str(limit=1 << 16)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
