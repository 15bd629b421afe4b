"""The model_file module against a loopback HTTP server (the Hub test double's /static files)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hub_double import HubDouble
from modrun import run_module


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _payload(tmp_path: Path, size: int = 2 * 1024 * 1024 + 5) -> Path:
    src = tmp_path / "src" / "ckpt.safetensors"
    src.parent.mkdir()
    src.write_bytes(os.urandom(size))
    return src


def test_url_download_idempotent_check_mode_and_diff(hub: HubDouble, tmp_path: Path) -> None:
    src = _payload(tmp_path)
    url = hub.add_static("ckpt.safetensors", src)
    dest = tmp_path / "models" / "checkpoints"
    dest.mkdir(parents=True)
    args = {"url": url, "sha256": _sha(src), "dest": str(dest)}

    pred = run_module("model_file", args, check=True, diff=True)
    assert pred["changed"] is True and "absent" in pred["diff"]["before"]
    assert not (dest / "ckpt.safetensors").exists() and hub.bytes_sent("ckpt") == 0

    first = run_module("model_file", args, diff=True)
    assert first["changed"] is True, first
    assert first["sha256"] == _sha(src) and first["bytes_transferred"] == src.stat().st_size
    assert _sha(dest / "ckpt.safetensors") == _sha(src)

    again = run_module("model_file", args)
    assert again["changed"] is False and again["bytes_transferred"] == 0
    assert run_module("model_file", args, check=True)["changed"] is False

    gone = run_module("model_file", {"dest": str(dest), "filename": "ckpt.safetensors", "state": "absent"})
    assert gone["changed"] is True and not (dest / "ckpt.safetensors").exists()


def test_interrupted_download_resumes_and_transfers_only_the_rest(hub: HubDouble, tmp_path: Path) -> None:
    src = _payload(tmp_path)
    size = src.stat().st_size
    url = hub.add_static("ckpt.safetensors", src)
    hub.cut("static/ckpt.safetensors", 1_000_000, then_fail=True)
    args = {"url": url, "sha256": _sha(src), "dest": str(tmp_path), "filename": "m.safetensors", "retries": 0}
    failed = run_module("model_file", args)
    assert failed.get("failed") and failed["resumable"] is True
    assert "next run resumes" in failed["msg"]
    assert (tmp_path / "m.safetensors.part").stat().st_size == 1_000_000
    hub.heal()
    sent = hub.bytes_sent("ckpt")
    done = run_module("model_file", args)
    assert done["changed"] and done["resumed_from"] == 1_000_000
    assert done["bytes_transferred"] == size - 1_000_000
    assert hub.bytes_sent("ckpt") - sent == size - 1_000_000
    assert _sha(tmp_path / "m.safetensors") == _sha(src)


def test_corrupted_bytes_sha_mismatch_nothing_in_place(hub: HubDouble, tmp_path: Path) -> None:
    src = _payload(tmp_path)
    url = hub.add_static("ckpt.safetensors", src)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "ckpt.safetensors").write_bytes(b"old version")  # an existing file is left untouched
    hub.state.corrupt.add("static/ckpt.safetensors")
    res = run_module("model_file", {"url": url, "sha256": _sha(src), "dest": str(dest)})
    assert res.get("failed") and "sha256 mismatch" in res["msg"]
    assert (dest / "ckpt.safetensors").read_bytes() == b"old version"
    assert not (dest / "ckpt.safetensors.part").exists()


def test_401_is_a_clear_message_and_token_is_not_logged(hub: HubDouble, tmp_path: Path) -> None:
    src = _payload(tmp_path, 1000)
    url = hub.add_static("ckpt.safetensors", src)
    hub.state.static_token = "hf_secret_value"
    res = run_module("model_file", {"url": url, "sha256": _sha(src), "dest": str(tmp_path)})
    assert res.get("failed") and res["status"] == 401
    assert "401 Unauthorized" in res["msg"] and "token is required" in res["msg"]
    # the double is the Hub endpoint, on plain http: the token goes there only when the entry says so
    args = {"url": url, "sha256": _sha(src), "dest": str(tmp_path), "token": "hf_secret_value"}
    withheld = run_module("model_file", dict(args, hf_endpoint=hub.endpoint))
    assert withheld.get("failed") and "not sent over plain http" in withheld["msg"]
    ok = run_module("model_file", dict(args, hf_endpoint=hub.endpoint, token_over_http=True))
    assert ok["changed"] is True
    assert "hf_secret_value" not in str(ok)


def test_hf_repo_file_digest_from_the_hub_and_gated(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    repo = hub.add_repo("org/gated", repo_dir, gated=True)
    args = {
        "hf_repo": "org/gated",
        "hf_path": "model.safetensors",
        "hf_revision": repo.commit,
        "hf_endpoint": hub.endpoint,
        "dest": str(tmp_path),
        "token_over_http": True,  # the double is plain http on loopback
    }
    denied = run_module("model_file", args)
    assert denied.get("failed") and "gated repository" in denied["msg"] and "token" in denied["msg"]
    hub.state.tokens_with_access.add("hf_ok")
    got = run_module("model_file", dict(args, token="hf_ok"))
    assert got["changed"] and got["commit"] == repo.commit
    assert got["sha256"] == _sha(repo_dir / "model.safetensors")
    assert run_module("model_file", dict(args, token="hf_ok"))["changed"] is False
    small = run_module("model_file", dict(args, hf_path="sub/vocab.txt", token="hf_ok"))
    assert small["changed"] and (tmp_path / "vocab.txt").read_text() == "a\nb\nc\n"
