"""Bring hosts in line with the manifest by running the collection's modules with ansible-playbook.

The CLI writes a small playbook and a vars file (0600; it carries the HF token) into a private
temp dir, runs ``ansible-playbook`` against the inventory (real SSH), and reads back one JSON
result file per host and target.  ``check=True`` is the read-only ``diff``/``verify``: the
modules hash the files on disk and ask Ollama what it has, and predict exactly what a real run
would change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shai.models.manifest import TargetPlan

REPO_ROOT = Path(__file__).resolve().parents[3]

PLAYBOOK: list[dict[str, Any]] = [
    {
        "name": "shai-models {{ shai_models_plan.target }}",
        "hosts": "{{ shai_models_hosts }}",
        "gather_facts": False,
        "vars_files": ["{{ shai_models_vars_file }}"],
        "tasks": [
            {
                "name": "Model folders exist",
                "ansible.builtin.file": {
                    "path": "{{ item }}",
                    "state": "directory",
                    "mode": "0755",
                    "owner": "{{ shai_models_plan.owner | default(omit, true) }}",
                    "group": "{{ shai_models_plan.group | default(omit, true) }}",
                },
                "loop": "{{ shai_models_plan.dirs }}",
                "when": "not shai_models_prune_only",
            },
            {
                "name": "Model files in place",
                "vectorweight.shai.model_file": {
                    "dest": "{{ item.dest }}",
                    "filename": "{{ item.filename }}",
                    "url": "{{ item.url | default(omit) }}",
                    "sha256": "{{ item.sha256 | default(omit) }}",
                    "hf_repo": "{{ item.hf_repo | default(omit) }}",
                    "hf_path": "{{ item.hf_path | default(omit) }}",
                    "hf_revision": "{{ item.hf_revision | default(omit) }}",
                    "hf_repo_type": "{{ item.hf_repo_type | default(omit) }}",
                    "hf_endpoint": "{{ shai_models_hf_endpoint | default(omit, true) }}",
                    "token": "{{ shai_models_hf_token | default(omit, true) }}",
                    "token_over_http": "{{ item.token_over_http | default(false) }}",
                    "owner": "{{ shai_models_plan.owner | default(omit, true) }}",
                    "group": "{{ shai_models_plan.group | default(omit, true) }}",
                    "mode": "0644",
                },
                "loop": "{{ shai_models_plan.files }}",
                "loop_control": {"label": "{{ item.name }}"},
                "register": "shai_models_files",
                "ignore_errors": True,
                "when": "not shai_models_prune_only",
            },
            {
                "name": "Files present in the managed folders",
                "ansible.builtin.find": {
                    "paths": "{{ shai_models_plan.dirs }}",
                    "file_type": "file",
                    "hidden": True,
                },
                "register": "shai_models_found",
                "when": "shai_models_prune and shai_models_plan.dirs | length > 0",
            },
            {
                "name": "Files the manifest no longer lists are removed",
                "vectorweight.shai.model_file": {
                    "dest": "{{ item | dirname }}",
                    "filename": "{{ item | basename }}",
                    "state": "absent",
                },
                "loop": "{{ (shai_models_found.files | default([]) | map(attribute='path') | list)"
                " | difference(shai_models_plan.expected_paths) }}",
                "register": "shai_models_pruned",
                "ignore_errors": True,
                "when": "shai_models_prune",
            },
            {
                "name": "Ollama models in place",
                "vectorweight.shai.ollama_model": {
                    "name": "{{ shai_models_plan.ollama }}",
                    "api_url": "{{ shai_models_plan.ollama_url }}",
                    "prune": "{{ shai_models_prune }}",
                    "pull": "{{ not shai_models_prune_only }}",
                    "registry": "{{ shai_models_plan.ollama_registry | default(omit, true) }}",
                    "insecure": "{{ shai_models_plan.ollama_insecure | default(false) }}",
                },
                "register": "shai_models_ollama",
                "ignore_errors": True,
                "when": "shai_models_plan.ollama | length > 0",
            },
            {
                "name": "Results are recorded on the controller",
                "ansible.builtin.copy": {
                    "dest": "{{ shai_models_results }}/{{ inventory_hostname }}.json",
                    "mode": "0600",
                    "content": "{{ {'host': inventory_hostname, 'target': shai_models_plan.target,"
                    " 'files': shai_models_files.results | default([]),"
                    " 'pruned': shai_models_pruned.results | default([]),"
                    " 'ollama': shai_models_ollama | default({})} | to_json }}",
                },
                "delegate_to": "localhost",
                "become": False,
                "check_mode": False,
                "no_log": True,
            },
        ],
    }
]


@dataclass
class ItemResult:
    host: str
    target: str
    kind: str  # file | ollama | prune
    name: str
    status: str  # ok | changed | would-change | failed
    detail: str = ""
    bytes_transferred: int = 0


@dataclass
class SyncReport:
    items: list[ItemResult] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    returncode: int = 0
    output: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.unreachable) or any(i.status == "failed" for i in self.items)

    @property
    def changed(self) -> bool:
        return any(i.status in ("changed", "would-change") for i in self.items)


def _status(res: dict[str, Any], check: bool) -> str:
    if res.get("failed"):
        return "failed"
    if res.get("changed"):
        return "would-change" if check else "changed"
    return "ok"


def _parse(doc: dict[str, Any], check: bool) -> list[ItemResult]:
    host, target = doc["host"], doc["target"]
    out: list[ItemResult] = []
    for res in doc.get("files") or []:
        if res.get("skipped"):
            continue
        item = res.get("item") or {}
        out.append(
            ItemResult(
                host,
                target,
                "file",
                str(item.get("name", "?")),
                _status(res, check),
                str(res.get("msg") or res.get("path") or ""),
                int(res.get("bytes_transferred") or 0),
            )
        )
    for res in doc.get("pruned") or []:
        if res.get("skipped"):
            continue
        out.append(ItemResult(host, target, "prune", str(res.get("item")), _status(res, check), "remove"))
    oll = doc.get("ollama") or {}
    if oll and not oll.get("skipped"):
        if oll.get("failed"):
            out.append(ItemResult(host, target, "ollama", "*", "failed", str(oll.get("msg", ""))))
        else:
            pulled = set(oll.get("pulled") or [])
            removed = set(oll.get("removed") or [])
            for m in sorted(set(oll.get("models") or []) | pulled | removed):
                if m in pulled:
                    st, detail = ("would-change" if check else "changed"), "pull"
                elif m in removed:
                    st, detail = ("would-change" if check else "changed"), "remove"
                else:
                    st, detail = "ok", "present"
                out.append(ItemResult(host, target, "ollama", m, st, detail))
    return out


def run(
    plans: list[TargetPlan],
    inventory: Path,
    check: bool = False,
    prune: bool = False,
    prune_only: bool = False,
    token: str | None = None,
    hf_endpoint: str | None = None,
    limit: str | None = None,
    extra_env: dict[str, str] | None = None,
    stream: bool = True,
) -> SyncReport:
    """Run one play per target plan; return per-item results."""
    report = SyncReport()
    ansible_playbook = (
        shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or "ansible-playbook"
    )
    with tempfile.TemporaryDirectory(prefix="shai-models-") as tmp:
        tdir = Path(tmp)
        os.chmod(tdir, 0o700)
        (tdir / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False), encoding="utf-8")
        for tp in plans:
            results = tdir / f"results-{tp.name}"
            results.mkdir()
            vars_file = tdir / f"vars-{tp.name}.yml"
            fd = os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(
                    {
                        "shai_models_plan": tp.as_vars(),
                        "shai_models_hf_token": token or "",
                        "shai_models_hf_endpoint": hf_endpoint or "",
                    },
                    fh,
                )
            extra = {
                "shai_models_hosts": tp.hosts,
                "shai_models_vars_file": str(vars_file),
                "shai_models_results": str(results),
                "shai_models_prune": prune,
                "shai_models_prune_only": prune_only,
            }
            cmd = [
                ansible_playbook,
                "-i",
                str(inventory),
                str(tdir / "playbook.yml"),
                "-e",
                json.dumps(extra),
            ]
            if check:
                cmd.append("--check")
            if limit:
                cmd += ["--limit", limit]
            env = dict(os.environ)
            env.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
            env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO_ROOT / ".cache" / "collections"))
            env.update(extra_env or {})
            proc = subprocess.run(
                cmd,
                env=env,
                cwd=str(REPO_ROOT),
                stdout=None if stream else subprocess.PIPE,
                stderr=subprocess.STDOUT if not stream else None,
                text=True,
                check=False,
            )
            report.output += proc.stdout or ""
            report.returncode = max(report.returncode, proc.returncode)
            got_hosts = set()
            for f in sorted(results.glob("*.json")):
                doc = json.loads(f.read_text(encoding="utf-8"))
                got_hosts.add(doc["host"])
                report.items.extend(_parse(doc, check))
            if proc.returncode != 0 and not got_hosts:
                report.unreachable.append(f"{tp.name}: ansible-playbook exited {proc.returncode}")
            elif proc.returncode == 4:
                report.unreachable.append(f"{tp.name}: some hosts unreachable")
    return report
