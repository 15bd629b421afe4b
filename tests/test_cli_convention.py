"""Every command of every entry point against the CLI convention (docs/cli.md, ADR 0005).

The click tree of ``shai``, ``shai-secrets`` and ``shai-models`` is walked; for each command:
``--help`` exits 0; an unknown option is a usage error (exit 2, no traceback); and, where the
command reads a file, pointing it at a missing one exits 1 with one ``error:`` line naming the
file and no traceback. Commands are run in-process through ``clikit.run`` (the console scripts'
own entry point), from an empty directory with no vault password, kubeconfig or SHAI_* settings.

A command the walk finds that is in neither MISSING_INPUT nor NO_INPUT fails the test: a new
command must say how it reads its input.
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shai import __version__, clikit

ENTRY_POINTS = {"shai": "shai.cli", "shai-secrets": "shai.secrets.cli", "shai-models": "shai.models.cli"}
M = "MISSING"  # replaced by a path that does not exist

# shai-secrets: the commands that read the catalog miss it; the others miss the vault password file.
CATALOG_READERS = {"generate": [], "rotate": ["--all"], "seal": [], "verify": [], "show": [], "export": []}
VAULT_READERS = ("keygen", "backup", "restore", "reencrypt", "unseal")
SECRETS: dict[str, list[str]] = {
    **{c: ["--catalog", M, c, *extra] for c, extra in CATALOG_READERS.items()},
    **{c: ["--vault-password-file", M, c] for c in VAULT_READERS},
    "scan": ["scan", M],
}
MODELS = ("pin", "list", "diff", "verify", "sync", "prune")
# command path -> its command line (after the program) pointing its input at a missing file
MISSING_INPUT: dict[str, list[str]] = {
    "shai doctor": ["doctor", "-i", M],
    "shai drift run": ["drift", "run", "-i", M],
    "shai drift report": ["drift", "report", M],
    "shai gitops render": ["gitops", "render", "-i", M, "-o", "out"],
    "shai gitops validate": ["gitops", "validate", M],
    "shai gitops pins": ["gitops", "pins", "--gitops-dir", M],
    "shai gitops seed": ["gitops", "seed", "-i", M],
    "shai lab kube apply-tree": ["lab", "kube", "apply-tree", M],
    **{f"shai models {c}": ["models", c, "-i", M] for c in MODELS},
    **{f"shai-models {c}": [c, "-i", M] for c in MODELS},
    **{f"shai secrets {c}": ["secrets", *args] for c, args in SECRETS.items()},
    **{f"shai-secrets {c}": args for c, args in SECRETS.items()},
}
# Commands with no input file to miss (groups, and commands whose paths are outputs).
NO_INPUT = {
    "shai", "shai-secrets", "shai-models", "shai version", "shai init", "shai drift", "shai drift audit",
    "shai gitops", "shai lab", "shai lab up", "shai lab down", "shai lab status", "shai lab list",
    "shai lab instances", "shai lab ssh", "shai lab run-site", "shai lab kube", "shai lab kube up",
    "shai lab kube down", "shai lab kube status", "shai models", "shai models download-hf",
    "shai-models download-hf", "shai secrets",
}  # fmt: skip
# Commands that print a table or a report: each takes --json (the same content on stdout).
TABLE_COMMANDS = (
    "shai doctor", "shai drift run", "shai drift report", "shai drift audit", "shai gitops validate",
    "shai gitops pins", "shai lab status", "shai lab list", "shai lab kube apply-tree",
    "shai-models list", "shai-models diff", "shai-models verify", "shai-models sync", "shai-models prune",
    "shai-models pin", "shai-secrets verify", "shai-secrets show", "shai-secrets scan",
)  # fmt: skip


def _walk(cmd: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, cmd
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(None):
            sub = cmd.get_command(None, name)
            if sub is not None:
                yield from _walk(sub, f"{path} {name}")


def _commands() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for prog, module in ENTRY_POINTS.items():
        app = importlib.import_module(module).app
        found.update(_walk(clikit.command(app, prog), prog))
    return found


COMMANDS = sorted(_commands())


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run a command line through clikit.run in an empty directory; returns (code, out, err)."""
    monkeypatch.chdir(tmp_path)
    for name in ("ANSIBLE_VAULT_PASSWORD_FILE", "SHAI_VAULT_PASSWORD_FILE", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in __import__("os").environ if n.startswith("SHAI_") and n != "SHAI_CACHE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    handler = signal.getsignal(signal.SIGTERM)

    def run(line: str) -> tuple[int, str, str]:
        prog, *args = line.split()
        app = importlib.import_module(ENTRY_POINTS[prog]).app
        capsys.readouterr()
        try:
            clikit.run(app, prog, args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            signal.signal(signal.SIGTERM, handler)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_every_command_is_classified() -> None:
    unclassified = sorted(set(COMMANDS) - set(MISSING_INPUT) - NO_INPUT)
    assert not unclassified, f"say how these read input (MISSING_INPUT or NO_INPUT): {unclassified}"
    assert not (set(MISSING_INPUT) | NO_INPUT) - set(COMMANDS), "classified commands that do not exist"


@pytest.mark.parametrize("prog", sorted(ENTRY_POINTS))
def test_version(invoke: Any, prog: str) -> None:
    code, out, _err = invoke(f"{prog} --version")
    assert (code, out.strip()) == (0, f"{prog} {__version__}")


@pytest.mark.parametrize("prog", sorted(ENTRY_POINTS))
def test_completion_on_every_entry_point(prog: str) -> None:
    root = _commands()[prog]
    names = {p.name for p in root.params}
    assert {"install_completion", "show_completion", "version"} <= names


@pytest.mark.parametrize("line", TABLE_COMMANDS)
def test_tables_have_json(line: str) -> None:
    cmd = _commands()[line]
    has_json = any("--json" in getattr(p, "opts", []) for p in cmd.params)
    assert has_json, f"{line} prints a table but has no --json"


@pytest.mark.parametrize("line", COMMANDS)
def test_help(invoke: Any, line: str) -> None:
    code, out, err = invoke(f"{line} --help")
    assert code == 0, err
    assert "Usage:" in out


@pytest.mark.parametrize("line", COMMANDS)
def test_usage_error_exits_2(invoke: Any, line: str) -> None:
    cmd = _commands()[line]
    passes_options_on = bool((cmd.context_settings or {}).get("ignore_unknown_options"))
    required = [p for p in cmd.params if p.required and p.param_type_name == "argument"]
    if passes_options_on:  # e.g. `shai lab ssh HOST [SSH ARGS]`: a missing argument instead
        assert required, f"{line} takes any option and has no required argument: no usage error to test"
        code, _out, err = invoke(line)
        assert "Missing argument" in err
    else:
        code, _out, err = invoke(f"{line} --no-such-option")
        assert "No such option" in err
    assert code == 2, err
    assert "Traceback" not in err


@pytest.mark.parametrize("line", sorted(MISSING_INPUT))
def test_missing_input_is_one_error_line(invoke: Any, tmp_path: Path, line: str) -> None:
    missing = tmp_path / "missing" / "input.yml"
    args = [str(missing) if a == M else a for a in MISSING_INPUT[line]]
    command = " ".join([line.split()[0], *args])
    code, out, err = invoke(command)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1, (command, code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (command, err)
    assert "missing/input.yml" in lines[0], (command, lines)
