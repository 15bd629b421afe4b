"""Run a collection module the way Ansible does on a target: a subprocess reading its args file."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MODULES = Path(__file__).resolve().parents[2] / "plugins" / "modules"


def run_module(name: str, args: dict[str, Any], check: bool = False, diff: bool = False) -> dict[str, Any]:
    payload = {"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check, _ansible_diff=diff)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(payload, fh)
        argfile = fh.name
    try:
        proc = subprocess.run(
            [sys.executable, str(MODULES / f"{name}.py"), argfile],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        Path(argfile).unlink()
    try:
        result: dict[str, Any] = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(f"{name}: no JSON result\nstdout={proc.stdout}\nstderr={proc.stderr}") from exc
    return result
