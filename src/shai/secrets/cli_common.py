"""What every ``shai-secrets`` command shares: the typer app, the global options, the consoles,
error handling (docs/cli.md) and the transaction runner."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai import clikit
from shai.clihelp import HelpGroup
from shai.secrets import lifecycle
from shai.secrets.transaction import Interrupted, Transaction, signals_interrupt, stop_hook
from shai.secrets.vault import Vault

app = typer.Typer(
    name="shai-secrets",
    help="Generate, seal, rotate and recover the platform's secrets.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=clikit.MARKUP,
    cls=HelpGroup,
)
out = clikit.lazy_console(soft_wrap=True)
err = clikit.lazy_console(stderr=True, soft_wrap=True)

# user errors: one line, exit 1 (docs/cli.md)
ERRORS: tuple[type[BaseException], ...] = (ShaiError, OSError)


class SealFormat(StrEnum):
    yaml = "yaml"
    json = "json"


class ExportFormat(StrEnum):
    yaml = "yaml"
    json = "json"
    env = "env"


class Scope(StrEnum):
    strict = "strict"
    namespace_wide = "namespace-wide"
    cluster_wide = "cluster-wide"


@dataclass
class Ctx:
    catalog: Path
    vault: Path
    password_file: Path | None
    gitops: Path
    credentials: Path


def ctx_of(ctx: typer.Context) -> Ctx:
    """The global options, set by the ``shai-secrets`` callback (also under ``shai secrets``,
    where the root context is ``shai``'s)."""
    c: Any = ctx
    while c is not None and not isinstance(c.obj, Ctx):
        c = c.parent
    assert c is not None, "shai-secrets options callback did not run"
    return c.obj  # type: ignore[no-any-return]


def fail(exc: BaseException | str, code: int = clikit.EXIT_ERROR) -> typer.Exit:
    """``raise fail(exc)``: one line on stderr (an OSError names its file), exit ``code``."""
    return clikit.fail(exc if isinstance(exc, str) else clikit.error_line(exc), code)


def open_vault(c: Ctx, must_exist: bool = False) -> Vault:
    return lifecycle.open_vault(c.vault, c.password_file, must_exist=must_exist)


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


def run_transaction(tx: Transaction, then: Callable[[], None] | None = None) -> None:
    """Run ``tx`` under SIGINT/SIGTERM handling; on a signal or an OSError say what state things
    are in and how to finish, and exit 130/143/1 (docs/cli.md)."""
    try:
        with signals_interrupt():
            tx.run()
    except Interrupted as exc:
        raise fail(f"{exc} received: {tx.state()}", exc.exit_code) from None
    except OSError as exc:
        raise fail(f"{clikit.error_line(exc)}: {tx.state()}") from None
    if then is not None:
        then()


@contextmanager
def planning(command: str) -> Iterator[None]:
    """The read-only part of a transactional command: a user error is one line (exit 1); SIGINT
    or SIGTERM say that nothing was changed (exit 130/143)."""
    try:
        with signals_interrupt():
            stop_hook("planning")
            yield
    except Interrupted as exc:
        raise fail(f"{exc} received: nothing was changed; run `{command}` again", exc.exit_code) from None
    except ERRORS as exc:
        raise fail(exc) from None
