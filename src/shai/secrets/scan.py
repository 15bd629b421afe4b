"""Secret scanner: the "zero plaintext in git" gate (``shai-secrets scan [PATH]``).

Findings (each names file:line and the rule, never the secret itself):

* ``k8s-secret``: a ``kind: Secret`` manifest with non-empty ``data``/``stringData``
* ``private-key``: a PEM private key block
* ``catalog-value``: any value from the vault (catalog secrets, sealing keys, digest key),
  when the vault can be opened (vault password available)
* ``token``: well-known credential formats (GitHub, GitLab, Hugging Face, OpenAI-style
  ``sk-``, AWS, Slack)
* ``high-entropy``: a credential-looking assignment (``password: ...``, ``token=...``)
  whose value is long and random-looking

Skipped: ansible-vault encrypted files, SealedSecret ``encryptedData`` (ciphertext),
lock files, ``.git``/``.venv``/caches, binary files, and lines carrying the pragma
``shai-scan: allow`` (for deliberate test fixtures; reviewers see it in the diff).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

SKIP_DIRS = {
    ".git",
    ".venv",
    ".cache",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
    "output",
    ".tox",
}
SKIP_FILES = {"uv.lock", "poetry.lock", "package-lock.json", "Cargo.lock", "go.sum"}
PRAGMA = "shai-scan: allow"
DIGEST_ANNOTATION = "shai.vectorweight.com/digest"  # keyed HMACs, reveal nothing (docs/adr/0200)
MAX_BYTES = 2_000_000

TOKEN_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("github-token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("openai-style-key", re.compile(r"\bsk-[A-Za-z0-9_-]{32,}\b")),
    ("aws-access-key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("slack-token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
]
PRIVATE_KEY = re.compile(r"-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----")
ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<name>[A-Za-z0-9_.-]*(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key|master[_-]?key)[A-Za-z0-9_.-]*)
    ["']?\s*[:=]\s*["']?
    (?P<value>[A-Za-z0-9+/=_.~!@#$%^&*-]{16,})
    """
)
PLACEHOLDER = re.compile(
    r"(\{\{|\}\}|\$\{|<|>|changeme|example|placeholder|xxxx|redacted|lookup\(|vault_|os\.environ|"
    r"test|fixture|dummy|fake|sample|molecule|0123456|abcdef)",
    re.I,
)
# snake_case / dotted identifiers (variable references), not random values
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*([._][a-z0-9]+)+$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.detail}"


def entropy(text: str) -> float:
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for c in text:
        counts[c] = counts.get(c, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(value: str) -> bool:
    if len(value) < 16 or PLACEHOLDER.search(value):
        return False
    if IDENTIFIER.match(value):
        return False
    if not re.search(r"[0-9]", value):  # identifiers, env var names, paths: generated secrets carry digits
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and entropy(value) >= 3.5


def _git_files(root: Path) -> list[Path] | None:
    """Tracked + untracked-but-not-ignored files when ``root`` is in a git work tree."""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                ".",
            ],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [root / p for p in sorted(set(out.decode("utf-8", "replace").split("\0"))) if p]


def iter_files(root: Path, respect_gitignore: bool = True) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    listed = _git_files(root) if respect_gitignore else None
    if listed is not None:
        for path in listed:
            if path.name in SKIP_FILES or any(
                part in SKIP_DIRS for part in path.relative_to(root).parts[:-1]
            ):
                continue
            if path.is_file():
                yield path
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name in SKIP_FILES:
                continue
            yield Path(dirpath) / name


def _read_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _yaml_secret_findings(path: Path, text: str) -> list[Finding]:
    out: list[Finding] = []
    if "kind" not in text or "Secret" not in text:
        return out
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return out
    for doc in docs:
        if (
            isinstance(doc, dict)
            and doc.get("kind") == "Secret"
            and (doc.get("data") or doc.get("stringData"))
        ):
            name = (doc.get("metadata") or {}).get("name", "?")
            line = _line_of(text, f"name: {name}") or 1
            out.append(
                Finding(str(path), line, "k8s-secret", f"kind: Secret {name!r} carries data; seal it instead")
            )
    return out


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def _encrypted_data_lines(text: str) -> set[int]:
    """Line numbers inside a SealedSecret's encryptedData block (ciphertext, fine to commit)."""
    lines: set[int] = set()
    inside = None
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith("encryptedData:"):
            inside = indent
            continue
        if inside is not None:
            if stripped and indent <= inside:
                inside = None
            else:
                lines.add(i)
    return lines


def scan_text(path: Path, text: str, values: Iterable[tuple[str, str, str]] = ()) -> list[Finding]:
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        return []
    findings: list[Finding] = []
    if path.suffix in (".yml", ".yaml", ".json"):
        findings += _yaml_secret_findings(path, text)
    sealed_lines = _encrypted_data_lines(text) if "SealedSecret" in text else set()
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        if PRAGMA in line or i in sealed_lines or DIGEST_ANNOTATION in line:
            continue
        if PRIVATE_KEY.search(line):
            findings.append(Finding(str(path), i, "private-key", "PEM private key block"))
            continue
        for rule, pattern in TOKEN_PATTERNS:
            if pattern.search(line):
                findings.append(Finding(str(path), i, "token", rule))
        m = ASSIGNMENT.search(line)
        if m and looks_random(m.group("value")):
            findings.append(
                Finding(str(path), i, "high-entropy", f"credential-like value for {m.group('name')!r}")
            )
    for eid, key, value in values:
        if len(value) < 8:
            continue
        for probe in {value, *value.splitlines()[1:2]} if "\n" in value else {value}:
            if len(probe) < 8:
                continue
            idx = text.find(probe)
            if idx >= 0:
                line_no = text.count("\n", 0, idx) + 1
                if PRAGMA not in lines[line_no - 1]:
                    findings.append(Finding(str(path), line_no, "catalog-value", f"value of {eid}:{key}"))
                break
    return findings


def scan(
    root: Path,
    values: Iterable[tuple[str, str, str]] = (),
    respect_gitignore: bool = True,
    files: Iterable[Path] | None = None,
) -> list[Finding]:
    """Scan a file or a tree (inside git: what git would commit, ignored files excluded);
    ``files``: the list :func:`iter_files` already made."""
    vals = list(values)
    findings: list[Finding] = []
    for path in iter_files(root, respect_gitignore) if files is None else files:
        text = _read_text(path)
        if text is None:
            continue
        findings += scan_text(path, text, vals)
    return findings
