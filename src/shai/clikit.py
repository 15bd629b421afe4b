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

Start-up (docs/performance.md, "CLI start-up"): an entry point imports typer and its own app
module only; heavy libraries (rich, yaml, jinja2, huggingface_hub, ...) are imported inside the
commands that use them (:func:`lazy_module`, :func:`lazy_console`); help is click's plain text
(:data:`MARKUP`: rich's help renderer costs more than the rest of start-up); ``version`` and
``--version`` answer before typer is imported.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:  # imported inside the functions: `--version` answers without typer
    import typer
    from rich.console import Console

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DIFFERENCES = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# typer's ``rich_markup_mode`` for every app: None = click's plain help (same text, no boxes).
# rich's help renderer imports most of rich (markdown, syntax, tracebacks): ~0.2 s per --help.
MARKUP: Any = None

_ERROR_MODULE = "ansible_collections.vectorweight.shai.plugins.module_utils.errors"


def _is_user_error(exc: BaseException) -> bool:
    """ShaiError, OSError or a YAML error: checked without importing anything.

    A ShaiError or YAMLError can only exist once its module was imported, so the classes are
    looked up in ``sys.modules`` (importing yaml just to recognise its errors cost start-up).
    """
    if isinstance(exc, OSError):
        return True
    errors = sys.modules.get(_ERROR_MODULE)
    if errors is not None and isinstance(exc, errors.ShaiError):
        return True
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


def lazy_module(name: str) -> ModuleType:
    """``name`` imported on first attribute access (importlib's LazyLoader).

    For a CLI module whose commands use a heavy module: bind it at module level with
    ``if TYPE_CHECKING: from x import y`` / ``else: y = lazy_module("x.y")`` and ``--help``
    never executes it.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


class _LazyConsole:
    """A rich Console created on its first use (rich costs ~0.1 s to import)."""

    def __init__(self, **kwargs: Any) -> None:
        object.__setattr__(self, "_kwargs", kwargs)
        object.__setattr__(self, "_console", None)

    def _real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._kwargs))
        return cast("Console", self._console)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real(), name, value)


def lazy_console(**kwargs: Any) -> Console:
    """``rich.console.Console(**kwargs)``, made when first used (for module-level consoles)."""
    return cast("Console", _LazyConsole(**kwargs))


def real_console(console: Console) -> Console:
    """The Console behind :func:`lazy_console` (for rich objects that take ``console=``)."""
    return console._real() if isinstance(console, _LazyConsole) else console


def error_line(exc: BaseException) -> str:
    """One line naming the problem (an OSError names its file)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or exc.__class__.__name__
        return f"{exc.filename}: {reason}"
    text = " ".join(str(exc).split()) if "\n" not in str(exc).strip() else str(exc).strip()
    return text or exc.__class__.__name__


def echo_error(message: str) -> None:
    import typer

    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """``raise fail("...")`` prints one error line on stderr and exits with ``code``."""
    import typer

    echo_error(message)
    return typer.Exit(code)


def _terminate(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _version_option(prog_name: str) -> Any:
    """A ``--version`` option for any command (built by typer: it vendors click's classes)."""
    import typer

    from shai import __version__

    def show(ctx: typer.Context, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            typer.echo(f"{prog_name} {__version__}")
            raise typer.Exit(EXIT_OK)

    # typer reads the callback's annotations to pass the context: real objects, not the strings
    # `from __future__ import annotations` makes (typer is not a global of this module)
    show.__annotations__ = {"ctx": typer.Context, "value": bool, "return": None}
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
    import typer

    cmd = typer.main.get_command(app) if isinstance(app, typer.Typer) else app
    names = {p.name for p in cmd.params}
    if "install_completion" not in names:
        completion = typer.main.get_install_completion_arguments()
        for param in completion:
            # a flag that was not given is False, not None: typer then skips its pydantic
            # coercion (importing pydantic for two absent flags cost ~50 ms on every run)
            param.default = False
        cmd.params.extend(completion)
    if "version" not in names:
        cmd.params.append(_version_option(prog_name))
    return cmd


def run(app: typer.Typer | Callable[..., Any], prog_name: str, args: list[str] | None = None) -> NoReturn:
    """Console-script entry point: run ``app`` under the convention above (``args``: sys.argv[1:])."""
    import typer

    from shai import clicoerce

    clicoerce.install()  # str/Path values without pydantic (start-up)

    signal.signal(signal.SIGTERM, _terminate)
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
    except Exception as exc:
        from typer._click.exceptions import ClickException  # typer vendors click (not `click`'s)

        if _is_user_error(exc):
            echo_error(error_line(exc))
            sys.exit(EXIT_ERROR)
        if isinstance(exc, typer.Abort):
            echo_error("aborted")
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(result if isinstance(result, int) else EXIT_OK)


def _answer_version(prog_name: str, argv: list[str], command: bool = False) -> None:
    """``PROG --version`` (and ``shai version``) print and exit before typer is imported.

    Same output and exit code as the typer commands they short-cut (tests/test_cli_convention.py).
    """
    if argv == ["--version"] or (command and argv == ["version"]):
        from shai import __version__

        sys.stdout.write(f"{prog_name} {__version__}\n" if argv[0] == "--version" else f"{__version__}\n")
        sys.exit(EXIT_OK)


# Console scripts ([project.scripts] in pyproject.toml): each imports its app only when run.
def main_shai() -> NoReturn:
    _answer_version("shai", sys.argv[1:], command=True)
    from shai.cli import app

    run(app, "shai")


def main_secrets() -> NoReturn:
    _answer_version("shai-secrets", sys.argv[1:])
    from shai.secrets.cli import app

    run(app, "shai-secrets")


def main_models() -> NoReturn:
    _answer_version("shai-models", sys.argv[1:])
    from shai.models.cli import app

    run(app, "shai-models")
