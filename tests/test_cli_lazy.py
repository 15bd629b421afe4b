"""The `shai` entry point imports a sub-command group only when it is used."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _modules_after(argv: list[str]) -> set[str]:
    code = textwrap.dedent(
        f"""
        import sys
        from shai.cli import app
        try:
            app({argv!r}, standalone_mode=False)
        except SystemExit:
            pass
        print(",".join(sorted(m for m in sys.modules if m.startswith("shai."))))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().splitlines()[-1].split(","))


def test_version_imports_no_sub_command_group() -> None:
    loaded = _modules_after(["version"])
    assert not {m for m in loaded if m.endswith(".cli") and m != "shai.cli"}


def test_a_group_imports_only_itself() -> None:
    loaded = _modules_after(["drift", "--help"])
    assert "shai.drift.cli" in loaded
    assert not {"shai.lab.cli", "shai.secrets.cli", "shai.models.cli", "shai.gitops.cli"} & loaded


def test_doctor_imports_no_other_group() -> None:
    loaded = _modules_after(["doctor", "--help"])
    assert "shai.doctor.cli" in loaded
    others = {"shai.lab.cli", "shai.secrets.cli", "shai.models.cli", "shai.gitops.cli", "shai.drift.cli"}
    assert not others & loaded


def test_help_lists_every_group() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "shai.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("lab", "secrets", "models", "gitops", "drift", "doctor", "init", "version"):
        assert name in out


def test_help_summaries_are_each_groups_own_help() -> None:
    """`shai --help` lists the groups from shai.cli.SUMMARIES without importing them: same text."""
    from shai.cli import _SUBCOMMANDS, SUMMARIES, _load

    assert set(SUMMARIES) == set(_SUBCOMMANDS)
    for name, summary in SUMMARIES.items():
        assert _load(name).get_short_help_str(limit=1 << 16) == summary, name


def test_top_level_help_imports_no_group() -> None:
    loaded = _modules_after(["--help"])
    assert not {m for m in loaded if m.endswith(".cli") and m != "shai.cli"}
