#!/usr/bin/env python3
"""Generate each role README's variable table from its meta/argument_specs.yml.

The table sits between the markers below; everything else in the README is hand-written.
`--check` exits 1 when a README is missing its markers or its table is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

BEGIN = "<!-- BEGIN ROLE VARIABLES (generated from meta/argument_specs.yml: make docs) -->"
END = "<!-- END ROLE VARIABLES -->"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    text = text.removesuffix("...").strip()
    return text.replace("|", "\\|").replace("\n", " ")


def render(spec_file: Path) -> str:
    specs = yaml.safe_load(spec_file.read_text())["argument_specs"]
    out: list[str] = [BEGIN]
    for entry, spec in specs.items():
        options = spec.get("options") or {}
        out.append(f"\n### Entry point `{entry}`\n")
        if spec.get("short_description"):
            out.append(f"{spec['short_description']}\n")
        if not options:
            out.append("No variables.\n")
            continue
        out.append("| Variable | Type | Required | Default | Description |")
        out.append("|---|---|---|---|---|")
        for name in sorted(options):
            opt = options[name] or {}
            desc = opt.get("description", "")
            if isinstance(desc, list):
                desc = " ".join(str(d) for d in desc)
            typ = opt.get("type", "str")
            if typ == "list" and opt.get("elements"):
                typ = f"list of {opt['elements']}"
            if opt.get("choices"):
                desc = f"{desc} Choices: {_cell(opt['choices'])}."
            default = "" if "default" not in opt else f"`{_cell(opt['default'])}`"
            required = "yes" if opt.get("required") else "no"
            out.append(f"| `{name}` | {typ} | {required} | {default} | {str(desc).replace('|', '\\|').strip()} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a README is stale")
    parser.add_argument("roles", nargs="*", type=Path)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    roles = args.roles or sorted(p for p in (root / "roles").iterdir() if p.is_dir())
    failed = []
    for role in roles:
        spec = role / "meta" / "argument_specs.yml"
        readme = role / "README.md"
        if not spec.exists():
            failed.append(f"{role.name}: meta/argument_specs.yml is missing")
            continue
        table = render(spec)
        text = readme.read_text() if readme.exists() else f"# {role.name}\n\n## Role variables\n\n{BEGIN}\n{END}\n"
        if BEGIN not in text or END not in text:
            if args.check:
                failed.append(f"{readme}: no generated variable table (markers missing; run make docs)")
                continue
            text = text.rstrip() + f"\n\n## Role variables\n\n{BEGIN}\n{END}\n"
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = head + table + tail
        if new != text:
            if args.check:
                failed.append(f"{readme}: variable table is stale (run make docs)")
            else:
                readme.write_text(new)
                print(f"updated {readme}")
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
