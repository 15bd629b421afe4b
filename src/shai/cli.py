"""The `shai` command: one entry point, one sub-command group per capability.

Sub-command groups are registered lazily so that a missing optional piece never breaks
the whole CLI, and so start-up stays fast.
"""

from __future__ import annotations

import importlib

import typer

from shai import __version__

app = typer.Typer(
    name="shai",
    help="Stand up and keep a private, self-hosted AI platform.",
    no_args_is_help=True,
    add_completion=False,
)

# (sub-command name, module path, attribute holding the typer app)
_SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("lab", "shai.lab.cli", "app"),
    ("secrets", "shai.secrets.cli", "app"),
    ("models", "shai.models.cli", "app"),
    ("gitops", "shai.gitops.cli", "app"),
    ("drift", "shai.drift.cli", "app"),
]

for _name, _module, _attr in _SUBCOMMANDS:
    try:
        _sub = getattr(importlib.import_module(_module), _attr)
    except ModuleNotFoundError as exc:  # the capability is not built yet
        if exc.name is None or not exc.name.startswith("shai"):
            raise
        continue
    app.add_typer(_sub, name=_name)


@app.callback()
def main() -> None:
    """Stand up and keep a private, self-hosted AI platform."""


@app.command()
def version() -> None:
    """Print the shai version."""
    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
