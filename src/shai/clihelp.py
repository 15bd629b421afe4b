"""Plain (click) help for every shai app, with each command's first sentence in full.

Help is click's plain text (``shai.clikit.MARKUP``): rich's renderer costs more than the rest of
start-up. click shortens a command's one-line help to the terminal width with "..."; this group
prints the whole first sentence, wrapped, as rich's help did.

A group's ``--help`` that was not given is False rather than None: typer builds a pydantic
adapter for every None it coerces, and importing pydantic for an absent flag cost start-up.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class HelpGroup(TyperGroup):
    """A typer group whose command list shows each command's first sentence unshortened."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:  # a sub-app's own completion flags (typer adds them after __init__)
            if param.name in ("install_completion", "show_completion") and param.default is None:
                param.default = False
        return params

    def get_help_option(self, ctx: Any) -> Any:
        """``--help``, False when not given (typer coerces None through pydantic: ~50 ms)."""
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

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
