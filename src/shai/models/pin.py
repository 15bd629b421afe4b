"""``shai-models pin``: resolve every Hugging Face ``hf.revision`` that is a branch or tag to the
commit it points at now, and write that commit into the manifest in place.

The manifest is an operator-edited file with comments, so it is not re-dumped: the YAML is
*composed* (nodes with their positions) and only the text of each unpinned ``revision:`` scalar is
replaced.  Every revision is resolved first; if any fails nothing is written (no half-pinned
manifest).  The new text is validated with the manifest schema before it replaces the file
(``atomic_write``: temp file in the same folder + rename, mode preserved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import models_manifest as mm
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.secrets.vault import atomic_write

HEX40 = mm.HEX40  # the schema's notion of a pinned commit

# resolve(repo, revision, repo_type) -> commit; raises with a one-sentence message
Resolver = Callable[[str, str, str], str]


class PinError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """The manifest cannot be pinned; the message names the file and the entries."""


@dataclass
class Pin:
    entry: str  # targets.<target>.files[<i>] (<name>)
    repo: str
    revision: str  # what the manifest said
    commit: str | None = None  # what it resolves to
    status: str = "pending"  # pinned (already a commit), updated, error
    error: str = ""
    line: int = 0  # 1-based line of the revision scalar

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Site:
    pin: Pin
    start: int  # character offsets of the revision scalar in the text
    end: int
    repo_type: str = "model"


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            found: yaml.Node = v
            return found
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def find_revisions(text: str, source: str = "models.yml") -> list[_Site]:
    """Every ``targets.*.files[*].hf.revision`` scalar, with its position in ``text``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise PinError(f"{source}: not valid YAML: {exc}") from None
    targets = _get(_get(root, "shai_models"), "targets")
    if not isinstance(targets, yaml.MappingNode):
        raise PinError(f"{source}: no shai_models.targets mapping")
    sites: list[_Site] = []
    for tkey, tnode in targets.value:
        files = _get(tnode, "files")
        if not isinstance(files, yaml.SequenceNode):
            continue
        for i, entry in enumerate(files.value):
            hf = _get(entry, "hf")
            rev = _get(hf, "revision")
            repo = _scalar(_get(hf, "repo"))
            if not isinstance(rev, yaml.ScalarNode) or repo is None:
                continue  # url entries, or broken ones the schema reports
            name = _scalar(_get(entry, "name")) or "?"
            pin = Pin(
                entry=f"targets.{tkey.value}.files[{i}] ({name})",
                repo=repo,
                revision=str(rev.value),
                line=rev.start_mark.line + 1,
            )
            repo_type = _scalar(_get(hf, "repo_type")) or "model"
            sites.append(_Site(pin, rev.start_mark.index, rev.end_mark.index, repo_type))
    return sites


def pin_text(text: str, resolve: Resolver, source: str = "models.yml") -> tuple[str, list[Pin]]:
    """(new text, pins).  Raises :class:`PinError` naming every entry that could not be resolved."""
    sites = find_revisions(text, source)
    for site in sites:
        p = site.pin
        if HEX40.match(p.revision):
            p.commit, p.status = p.revision, "pinned"
            continue
        if "{{" in p.repo or "{{" in p.revision:
            p.status, p.error = "error", "templated repo/revision: pin it by hand"
            continue
        try:
            commit = resolve(p.repo, p.revision, site.repo_type)
        except Exception as exc:  # the resolver's message is the sentence to show
            p.status, p.error = "error", str(exc)
            continue
        if not HEX40.match(commit):
            p.status, p.error = "error", f"the Hub returned {commit!r}, not a 40-hex commit"
            continue
        p.commit, p.status = commit, "updated"
    bad = [p for p in (s.pin for s in sites) if p.status == "error"]
    if bad:
        raise PinError(
            f"{source}: nothing written; cannot pin "
            + "; ".join(f"{p.entry} {p.repo}@{p.revision}: {p.error}" for p in bad)
        )
    new = text
    for site in sorted(sites, key=lambda s: s.start, reverse=True):
        if site.pin.status == "updated":
            assert site.pin.commit is not None
            new = new[: site.start] + site.pin.commit + new[site.end :]
    return new, [s.pin for s in sites]


def pin_file(path: Path, resolve: Resolver, dry_run: bool = False) -> list[Pin]:
    """Pin ``path`` in place (unless ``dry_run``); the result is schema-validated first."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PinError(f"cannot read {path}: {exc.strerror}") from None
    new, pins = pin_text(text, resolve, str(path))
    if new == text or dry_run:
        return pins
    try:
        mm.validate(yaml.safe_load(new), str(path))
    except mm.ManifestError as exc:
        raise PinError(f"{path}: nothing written, the pinned manifest does not validate: {exc}") from None
    atomic_write(path, new.encode("utf-8"), path.stat().st_mode & 0o7777)
    return pins
