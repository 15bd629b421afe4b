"""One CLI convention for `shai`, `shai-secrets` and `shai-models` (docs/cli.md, ADR 0005).

Exit codes:

======  ======================================================================================
code    meaning
======  ======================================================================================
0       success; for checks: everything that was asked for was checked and is in order
1       error: bad input, a failed check, findings, or nothing to check (never "clean")
2       usage error (click's own: unknown option, missing argument, invalid choice)
3       differences found where finding them is the point (``shai drift run``: drift)
130     interrupted (SIGINT); 143 terminated (SIGTERM) — after saying what state things are in
======  ======================================================================================

User errors (:class:`ShaiError` and its subclasses, ``OSError`` naming a file, YAML syntax
errors) print one line ``error: ...`` on stderr — never a traceback. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DIFFERENCES = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _user_error_types() -> tuple[type[BaseException], ...]:
    from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

    types: list[type[BaseException]] = [ShaiError, OSError]
    try:
        import yaml

        types.append(yaml.YAMLError)
    except ImportError:  # pragma: no cover - pyyaml is a dependency
        pass
    return tuple(types)


def error_line(exc: BaseException) -> str:
    """One line naming the problem (an OSError names its file)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or exc.__class__.__name__
        return f"{exc.filename}: {reason}"
    text = " ".join(str(exc).split()) if "\n" not in str(exc).strip() else str(exc).strip()
    return text or exc.__class__.__name__


def echo_error(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """``raise fail("...")`` prints one error line on stderr and exits with ``code``."""
    echo_error(message)
    return typer.Exit(code)


def _terminate(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _version_option(prog_name: str) -> Any:
    """A ``--version`` option for any command (built by typer: it vendors click's classes)."""
    from shai import __version__

    def show(ctx: typer.Context, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            typer.echo(f"{prog_name} {__version__}")
            raise typer.Exit(EXIT_OK)

    helper = typer.Typer(add_completion=False)

    @helper.command()
    def _version(
        version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=show),
    ) -> None:  # pragma: no cover - never invoked, only its option is used
        pass

    param = next(p for p in typer.main.get_command(helper).params if p.name == "version")
    param.is_eager = True
    param.expose_value = False
    return param


def command(app: typer.Typer | Any, prog_name: str) -> Any:
    """The click command of ``app`` with what every entry point has: ``--version`` and completion."""
    cmd = typer.main.get_command(app) if isinstance(app, typer.Typer) else app
    names = {p.name for p in cmd.params}
    if "install_completion" not in names:
        cmd.params.extend(typer.main.get_install_completion_arguments())
    if "version" not in names:
        cmd.params.append(_version_option(prog_name))
    return cmd


def run(app: typer.Typer | Callable[..., Any], prog_name: str, args: list[str] | None = None) -> NoReturn:
    """Console-script entry point: run ``app`` under the convention above (``args``: sys.argv[1:])."""
    signal.signal(signal.SIGTERM, _terminate)
    user_errors = _user_error_types()
    try:
        # standalone_mode=False: click returns typer.Exit's code instead of exiting, and lets
        # every other exception through to the handlers below.
        result = command(app, prog_name).main(args=args, prog_name=prog_name, standalone_mode=False)
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        sigterm = str(exc) == "SIGTERM"
        echo_error("terminated" if sigterm else "interrupted")
        sys.exit(EXIT_TERMINATED if sigterm else EXIT_INTERRUPTED)
    except user_errors as exc:
        echo_error(error_line(exc))
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        from typer._click.exceptions import ClickException  # typer vendors click (not `click`'s)

        if isinstance(exc, typer.Abort):
            echo_error("aborted")
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(result if isinstance(result, int) else EXIT_OK)


# Console scripts ([project.scripts] in pyproject.toml): each imports its app only when run.
def main_shai() -> NoReturn:
    from shai.cli import app

    run(app, "shai")


def main_secrets() -> NoReturn:
    from shai.secrets.cli import app

    run(app, "shai-secrets")


def main_models() -> NoReturn:
    from shai.models.cli import app

    run(app, "shai-models")
