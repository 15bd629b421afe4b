"""The `shai` command: one entry point, one sub-command group per capability.

Sub-command groups are registered lazily so that a missing optional piece never breaks
the whole CLI, and so start-up stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
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
# What `shai --help` lists for each group without importing it (each group's own one-line help;
# tests/test_cli_lazy.py checks they are the same).
SUMMARIES: dict[str, str] = {
    "lab": "A lab of real Debian 12 systemd hosts (systemd-nspawn) on a private bridge.",
    "secrets": "Generate, seal, rotate and recover the platform's secrets.",
    "models": "Models: one manifest, verified downloads from Hugging Face and mirrors, hosts in line.",
    "gitops": "The GitOps tree: render it from the inventory, validate it, seed it into the ArgoCD repo.",
    "drift": "Drift detection: what a check-mode run of the platform would change, with diffs.",
    "doctor": "Check an inventory is ready for a first run (read-only).",
    "init": "Write inventories/NAME from inventories/example (never overwrites).",
}


class _LazyGroup(HelpGroup):
    """Import a sub-command group only when it is invoked (or walked by ``list_commands``)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in _SUBCOMMANDS if _load(n)})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None or cmd_name not in _SUBCOMMANDS:
            return cmd
        return _load(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """``shai --help``: the groups' summaries, none of them imported (~0.3 s for all seven)."""
        rows = [(n, SUMMARIES[n]) for n in _SUBCOMMANDS if _available(n)]
        for name in super().list_commands(ctx):
            cmd = super().get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1 << 16)))
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def _available(name: str) -> bool:
    """The group's module exists (found, not imported), or it was loaded already."""
    if name in _LOADED:
        return _LOADED[name] is not None
    try:
        return importlib.util.find_spec(_SUBCOMMANDS[name][0]) is not None
    except ModuleNotFoundError:  # its package is not there either
        return False


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
