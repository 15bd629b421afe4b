"""The `shai` command: one entry point, one sub-command group per capability.

Sub-command groups are registered lazily so that a missing optional piece never breaks
the whole CLI, and so start-up stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from shai import __version__
from shai.clihelp import HelpGroup
from shai.clikit import MARKUP

# (sub-command name, module path, attribute holding the typer app)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "lab": ("shai.lab.cli", "app"),
    "secrets": ("shai.secrets.cli", "app"),
    "models": ("shai.models.cli", "app"),
    "gitops": ("shai.gitops.cli", "app"),
    "drift": ("shai.drift.cli", "app"),
    "doctor": ("shai.doctor.cli", "app"),
    "init": ("shai.init", "app"),
}


class _LazyGroup(HelpGroup):
    """Import a sub-command group only when it is invoked (or listed by ``--help``)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in _SUBCOMMANDS if _load(n)})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None or cmd_name not in _SUBCOMMANDS:
            return cmd
        return _load(cmd_name)


_LOADED: dict[str, Any] = {}


def _load(name: str) -> Any:
    if name not in _LOADED:
        module, attr = _SUBCOMMANDS[name]
        try:
            sub = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:  # the capability is not built yet
            if exc.name is None or not exc.name.startswith("shai"):
                raise
            _LOADED[name] = None
        else:
            cmd = typer.main.get_command(sub)
            cmd.name = name
            _LOADED[name] = cmd
    return _LOADED[name]


app = typer.Typer(
    name="shai",
    help="Stand up and keep a private, self-hosted AI platform.",
    no_args_is_help=True,
    add_completion=False,
    cls=_LazyGroup,
    rich_markup_mode=MARKUP,
)


@app.callback()
def main() -> None:
    """Stand up and keep a private, self-hosted AI platform."""


@app.command()
def version() -> None:
    """Print the shai version."""
    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    from shai.clikit import run

    run(app, "shai")
