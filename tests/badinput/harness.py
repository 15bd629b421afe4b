"""A small harness for bad-input cases (issue 14): run a CLI the way its console script does
(``shai.clikit.run``: exit codes, one-line errors), hash a workspace before and after, and check
what a careless or hostile user must get back.

Every case asserts: the exit code, a message naming the problem, no Python traceback, nothing
changed on disk (the workspace tree hashed before and after), and no secret value in the output.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENTRY_POINTS = {"shai": "main_shai", "shai-models": "main_models", "shai-secrets": "main_secrets"}
MODELS_TESTS = Path(__file__).resolve().parents[1] / "models"


@dataclass
class Outcome:
    code: int | None  # None: an exception escaped clikit.run (a bug)
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """The output with rich's line wrapping undone (one space between words)."""
        return " ".join(self.output.split())


def tree_digest(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its kind, mode and content digest (symlinks not followed)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                out[rel] = f"link {os.readlink(path)}"
            elif path.is_dir():
                out[rel] = f"dir {st.st_mode:o}"
            else:
                out[rel] = f"file {st.st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return out


@contextlib.contextmanager
def _environment(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), list(sys.argv)
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.argv[:] = saved_argv


def run_cli(
    entry: str, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, stdin: str = ""
) -> Outcome:
    """Run console script ``entry`` in-process, exactly as its entry point in pyproject.toml."""
    import signal

    from shai import clikit

    main = getattr(clikit, ENTRY_POINTS[entry])
    out, err = io.StringIO(), io.StringIO()
    code: int | None
    previous = signal.getsignal(signal.SIGTERM)
    with (
        _environment({"COLUMNS": "400", "NO_COLOR": "1", **(env or {})}, cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        sys.argv[:] = [entry, *args]
        saved_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            err.write(traceback.format_exc())
            code = None
        else:  # pragma: no cover - the entry points always exit
            code = 0
        finally:
            sys.stdin = saved_stdin
            signal.signal(signal.SIGTERM, previous)
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_refused(
    outcome: Outcome, code: int, words: Sequence[str], secrets: Sequence[str] = (), where: str = ""
) -> None:
    """Exit ``code``, every word in the output, no traceback, no secret."""
    context = f"{where}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    assert "Traceback" not in outcome.output, context
    assert outcome.code == code, context
    for word in words:
        assert " ".join(word.split()) in outcome.flat, f"{word!r} not in the output\n{context}"
    for secret in secrets:
        assert secret not in outcome.output, f"secret in the output\n{context}"


def run_module(name: str, args: dict[str, Any], check: bool = False) -> dict[str, Any]:
    """The models tests' module runner (a subprocess reading its args file, as on a target)."""
    if str(MODELS_TESTS) not in sys.path:
        sys.path.insert(0, str(MODELS_TESTS))
    from modrun import run_module as _run

    result: dict[str, Any] = _run(name, args, check=check)
    return result
