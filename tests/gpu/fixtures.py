"""Test artifacts for the GPU workstation scenario, published into the lab mirror.

* ``ollama``: the real Ollama (CPU build from its Go module, ``tools/build.sh ollama``) packaged
  exactly like a release: ``ollama/<version>/ollama-linux-amd64.tar.zst`` holding ``bin/ollama``
  and ``lib/ollama/``, next to a ``sha256sum.txt``. The ollama role installs it from
  ``{{ shai_lab_mirror_url }}/ollama/<version>`` as it would from the GitHub release.
* ``comfyui``: the ComfyUI TEST DOUBLE (``comfyui_double/``) and a custom node TEST DOUBLE
  (``test_node/``) as bare git repositories served over git's "dumb HTTP" protocol by the
  mirror's static file server. Commits use fixed dates and authors, so their ids are stable
  and the lab inventory can pin them.

``python tests/gpu/fixtures.py publish`` prints what it published as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OLLAMA_VERSION = "0.17.4"
OLLAMA_ARCHIVE = "ollama-linux-amd64.tar.zst"
COMFYUI_REPO = "comfyui/ComfyUI-test-double.git"
NODE_REPO = "comfyui/shai-test-node.git"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "shai tests",
    "GIT_AUTHOR_EMAIL": "tests@shai.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "shai tests",
    "GIT_COMMITTER_EMAIL": "tests@shai.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def cache_dir() -> Path:
    return Path(os.environ.get("SHAI_CACHE", Path.home() / ".cache" / "shai"))


def mirror_dir() -> Path:
    return cache_dir() / "mirror"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        argv, cwd=cwd, env=dict(os.environ, **(env or {})), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def ollama_binary() -> Path:
    """The CPU build of the real Ollama (tools/build.sh ollama)."""
    path = cache_dir() / "bin" / "ollama"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"ollama: not found at {path}; build it with `tools/build.sh ollama`")
    return path


def package_ollama(binary: Path, version: str = OLLAMA_VERSION, mirror: Path | None = None) -> dict[str, str]:
    """Package ``binary`` in the release layout under ``<mirror>/ollama/<version>/``.

    Deterministic (sorted names, fixed mtime and owner), and skipped when the published archive
    already holds this binary.
    """
    dest = (mirror or mirror_dir()) / "ollama" / version
    archive = dest / OLLAMA_ARCHIVE
    stamp = dest / ".binary.sha256"
    binary_sha = sha256_file(binary)
    if not (archive.is_file() and stamp.is_file() and stamp.read_text().strip() == binary_sha):
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="shai-ollama-pkg-") as tmp:
            stage = Path(tmp)
            (stage / "bin").mkdir()
            # The CPU build links its ggml CPU backend in; a GPU release ships runners in lib/ollama/.
            (stage / "lib" / "ollama").mkdir(parents=True)
            built_libs = binary.parent / "lib" / "ollama"
            if built_libs.is_dir():
                shutil.copytree(built_libs, stage / "lib" / "ollama", dirs_exist_ok=True)
            shutil.copy2(binary, stage / "bin" / "ollama")
            (stage / "bin" / "ollama").chmod(0o755)
            tmp_archive = archive.with_suffix(".tmp")
            _run(
                [
                    "tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                    "--zstd", "-C", str(stage), "-cf", str(tmp_archive), "bin", "lib",
                ]
            )  # fmt: skip
            tmp_archive.replace(archive)
        stamp.write_text(binary_sha + "\n")
    sums = f"{sha256_file(archive)}  ./{OLLAMA_ARCHIVE}\n"
    if not (dest / "sha256sum.txt").is_file() or (dest / "sha256sum.txt").read_text() != sums:
        (dest / "sha256sum.txt").write_text(sums)
    return {"version": version, "path": str(dest.relative_to(dest.parents[1])), "sha256": sums.split()[0]}


def git_repo(source: Path, bare: Path, readme: str) -> str:
    """Publish ``source``'s files as the single commit of the bare repository ``bare``.

    The commit id only depends on the files, so it is the same on every machine.
    """
    with tempfile.TemporaryDirectory(prefix="shai-git-fixture-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(source, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (work / "README.md").write_text(readme)
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        _run(["git", "init", "-q", "-b", "main"], cwd=work, env=_GIT_ENV)
        _run(["git", "add", "-A"], cwd=work, env=_GIT_ENV)
        _run(["git", "commit", "-q", "--no-gpg-sign", "-m", "shai test fixture"], cwd=work, env=_GIT_ENV)
        commit = _run(["git", "rev-parse", "HEAD"], cwd=work, env=_GIT_ENV).strip()
        head = bare / "HEAD"
        if head.is_file():
            try:
                if _run(["git", "rev-parse", "main"], cwd=bare, env=_GIT_ENV).strip() == commit:
                    return commit
            except RuntimeError:
                pass
        staged = bare.with_name(bare.name + ".tmp")
        shutil.rmtree(staged, ignore_errors=True)
        _run(["git", "clone", "-q", "--bare", str(work), str(staged)], env=_GIT_ENV)
        # Dumb HTTP: a static server needs info/refs and objects/info/packs.
        _run(["git", "update-server-info"], cwd=staged, env=_GIT_ENV)
        shutil.rmtree(bare, ignore_errors=True)
        bare.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(bare)
    return commit


def publish_comfyui(mirror: Path | None = None) -> dict[str, dict[str, str]]:
    root = mirror or mirror_dir()
    app = git_repo(
        HERE / "comfyui_double",
        root / COMFYUI_REPO,
        "# ComfyUI TEST DOUBLE\n\nNot ComfyUI: a stand-in for shai's comfyui role tests (tests/gpu).\n",
    )
    node = git_repo(
        HERE / "test_node",
        root / NODE_REPO,
        "# Custom node TEST DOUBLE\n\nFor shai's comfyui role tests (tests/gpu).\n",
    )
    return {
        "comfyui": {"repo": COMFYUI_REPO, "commit": app},
        "custom_node": {"repo": NODE_REPO, "commit": node},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["publish", "publish-comfyui", "publish-ollama"])
    parser.add_argument("--mirror", type=Path, default=None, help="default: ~/.cache/shai/mirror")
    args = parser.parse_args(argv)
    out: dict[str, object] = {}
    try:
        if args.command in ("publish", "publish-comfyui"):
            out.update(publish_comfyui(args.mirror))
        if args.command in ("publish", "publish-ollama"):
            out["ollama"] = package_ollama(ollama_binary(), mirror=args.mirror)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"fixtures: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
