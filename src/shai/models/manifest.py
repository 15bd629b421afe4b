"""Load the models manifest and expand it into concrete per-target work (a *plan*).

The schema lives in ``module_utils/models_manifest.py`` (one implementation, stdlib only); this
module adds YAML loading and the controller-side expansion of Hugging Face entries (include /
exclude patterns → files, with the sha256 from the Hub's tree API).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import models_manifest as mm

from shai.models import hub

ManifestError = mm.ManifestError


def load(path: Path, allow_unpinned: bool = False) -> dict[str, Any]:
    """Read and validate ``path``; raises ManifestError naming the file and every bad entry."""
    if not path.is_file():
        raise ManifestError(str(path), ["file not found"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(str(path), [f"not valid YAML: {exc}"]) from None
    result: dict[str, Any] = mm.validate(data, str(path), allow_unpinned=allow_unpinned)
    return result


def targets(manifest: dict[str, Any], only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    all_targets: dict[str, dict[str, Any]] = manifest["targets"]
    if not only:
        return all_targets
    unknown = [t for t in only if t not in all_targets]
    if unknown:
        raise ManifestError(
            "manifest", [f"unknown target(s) {', '.join(unknown)} (have: {', '.join(all_targets)})"]
        )
    return {t: all_targets[t] for t in only}


def _check_name(where: str, what: str, value: str) -> None:
    problem = mm.filename_problem(value)
    if problem:
        raise ManifestError("manifest", [f"{where}: {what} {problem}"])


@dataclass
class FileTask:
    """One file on one target, as the model_file module receives it."""

    entry: str
    dest: str
    filename: str
    url: str | None = None
    sha256: str | None = None
    hf_repo: str | None = None
    hf_path: str | None = None
    hf_revision: str | None = None
    hf_repo_type: str = "model"
    size: int | None = None
    token_over_http: bool = False

    @property
    def path(self) -> str:
        return posixpath.join(self.dest, self.filename)

    def module_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"dest": self.dest, "filename": self.filename}
        if self.url:
            args.update(url=self.url, sha256=self.sha256)
        else:
            args.update(
                hf_repo=self.hf_repo,
                hf_path=self.hf_path,
                hf_revision=self.hf_revision,
                hf_repo_type=self.hf_repo_type,
            )
            if self.sha256:
                args["sha256"] = self.sha256
        if self.token_over_http:
            args["token_over_http"] = True
        return args


@dataclass
class TargetPlan:
    name: str
    hosts: str
    ollama_url: str
    ollama: list[str] = field(default_factory=list)
    files: list[FileTask] = field(default_factory=list)
    owner: str | None = None
    group: str | None = None
    ollama_registry: str | None = None
    ollama_insecure: bool = False

    @property
    def dirs(self) -> list[str]:
        return sorted({f.dest for f in self.files})

    def as_vars(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "ollama_url": self.ollama_url,
            "ollama": self.ollama,
            "dirs": self.dirs,
            "files": [dict(f.module_args(), name=f"{f.entry}:{f.filename}", path=f.path) for f in self.files],
            "expected_paths": sorted(f.path for f in self.files),
            "owner": self.owner,
            "group": self.group,
            "ollama_registry": self.ollama_registry,
            "ollama_insecure": self.ollama_insecure,
        }


def plan(
    manifest: dict[str, Any],
    only: list[str] | None = None,
    token: str | None = None,
) -> list[TargetPlan]:
    """Expand the manifest: HF entries become one FileTask per selected file (sha256 from the Hub)."""
    endpoint = manifest.get("hf_endpoint")
    out: list[TargetPlan] = []
    for name, target in targets(manifest, only).items():
        tp = TargetPlan(
            name=name,
            hosts=target["hosts"],
            ollama_url=target["ollama_url"],
            ollama=[m["name"] for m in target["ollama"]],
            owner=target.get("owner"),
            group=target.get("group"),
            ollama_registry=target.get("ollama_registry"),
            ollama_insecure=bool(target.get("ollama_insecure", False)),
        )
        for entry in target["files"]:
            base = mm.file_dest_dir(target, entry)
            where = f"targets.{name}.files ({entry['name']})"
            if "url" in entry:
                fname = entry.get("filename") or entry["url"].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                _check_name(where, "the file name the url gives", fname)
                tp.files.append(
                    FileTask(
                        entry["name"],
                        base,
                        fname,
                        url=entry["url"],
                        sha256=entry["sha256"],
                        token_over_http=bool(entry.get("token_over_http")),
                    )
                )
                continue
            hf = entry["hf"]
            commit, files = hub.remote_files(
                hf["repo"],
                hf["revision"],
                token,
                endpoint,
                hf["include"],
                hf["exclude"],
                hf["repo_type"],
                token_over_http=bool(entry.get("token_over_http")),
            )
            if not files:
                raise ManifestError(
                    "manifest", [f"targets.{name}.files ({entry['name']}): no file of {hf['repo']} matches"]
                )
            for f in files:  # remote_files refused any path with an unsafe component
                sub, _, fname = f.path.rpartition("/")
                tp.files.append(
                    FileTask(
                        entry["name"],
                        posixpath.join(base, sub) if sub else base,
                        entry.get("filename") if (entry.get("filename") and len(files) == 1) else fname,
                        hf_repo=hf["repo"],
                        hf_path=f.path,
                        hf_revision=commit,
                        hf_repo_type=hf["repo_type"],
                        sha256=f.sha256,
                        size=f.size,
                        token_over_http=bool(entry.get("token_over_http")),
                    )
                )
        out.append(tp)
    return out
