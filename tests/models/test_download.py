"""module_utils/download.py against the Hub test double (loopback HTTP)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import download as dl
from hub_double import HubDouble


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_interrupted_download_resumes_and_transfers_only_the_rest(hub: HubDouble, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 1000 + bytes(range(256)) * 8000)
    url = hub.add_static("big.bin", src)
    size = src.stat().st_size
    hub.cut("static/big.bin", 700_000, then_fail=True)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(dl.DownloadError) as err:
        dl.download(url, out / "big.bin", sha256=_sha(src), retries=0)
    assert err.value.resumable
    assert "resumes" in str(err.value)
    assert (out / "big.bin.part").stat().st_size == 700_000
    assert not (out / "big.bin").exists()

    hub.heal()
    before = hub.bytes_sent("big.bin")
    res = dl.download(url, out / "big.bin", sha256=_sha(src), retries=0)
    assert res["resumed_from"] == 700_000
    assert res["bytes_transferred"] == size - 700_000
    assert hub.bytes_sent("big.bin") - before == size - 700_000
    assert hub.state.requests[-1].range == "bytes=700000-"
    assert _sha(out / "big.bin") == _sha(src)
    assert not (out / "big.bin.part").exists()


def test_retry_within_one_call_resumes(hub: HubDouble, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(bytes(range(256)) * 4096)
    url = hub.add_static("f.bin", src)
    hub.cut("static/f.bin", 100_000, times=1)
    res = dl.download(url, tmp_path / "got.bin", sha256=_sha(src), retries=1, retry_wait=0)
    assert res["attempts"] == 2 and res["resumed_from"] == 100_000
    assert _sha(tmp_path / "got.bin") == _sha(src)


def test_corrupted_bytes_fail_and_leave_nothing(hub: HubDouble, tmp_path: Path) -> None:
    src = tmp_path / "c.bin"
    src.write_bytes(b"model" * 10000)
    url = hub.add_static("c.bin", src)
    hub.state.corrupt.add("static/c.bin")
    with pytest.raises(dl.DownloadError, match=r"sha256 mismatch.*nothing was written"):
        dl.download(url, tmp_path / "dest.bin", sha256=_sha(src))
    assert not (tmp_path / "dest.bin").exists()
    assert not (tmp_path / "dest.bin.part").exists()


def test_401_and_404_have_clear_messages(hub: HubDouble, tmp_path: Path) -> None:
    src = tmp_path / "s.bin"
    src.write_bytes(b"1")
    url = hub.add_static("s.bin", src)
    hub.state.static_token = "sekrit"
    with pytest.raises(dl.DownloadError, match=r"401 Unauthorized.*a token is required") as err:
        dl.download(url, tmp_path / "o.bin", sha256=_sha(src))
    assert err.value.status == 401
    with pytest.raises(dl.DownloadError, match="token was rejected"):
        dl.download(url, tmp_path / "o.bin", sha256=_sha(src), token="wrong")
    res = dl.download(url, tmp_path / "o.bin", sha256=_sha(src), token="sekrit")
    assert res["size"] == 1
    with pytest.raises(dl.DownloadError, match="404"):
        dl.download(hub.endpoint + "/static/missing", tmp_path / "m.bin", sha256="0" * 64, token="sekrit")


def test_gated_repo_metadata_and_token_not_sent_to_cdn(
    hub: HubDouble, repo_dir: Path, tmp_path: Path
) -> None:
    hub.add_repo("org/gated", repo_dir, gated=True)
    with pytest.raises(dl.DownloadError, match=r"gated repository.*needs a Hugging Face token"):
        dl.hf_file_metadata("org/gated", "model.safetensors")
    with pytest.raises(dl.DownloadError, match="gated repository: the token was refused"):
        dl.hf_file_metadata("org/gated", "model.safetensors", token="nope")
    hub.state.tokens_with_access.add("good")
    meta = dl.hf_file_metadata("org/gated", "model.safetensors", token="good")
    assert meta["sha256"] == _sha(repo_dir / "model.safetensors")
    res = dl.download(meta["url"], tmp_path / "m.st", sha256=meta["sha256"], size=meta["size"], token="good")
    assert res["sha256"] == meta["sha256"]
    cdn = [r for r in hub.state.requests if r.path.startswith("/cdn/")]
    assert cdn and not any(r.auth for r in cdn), "the token must not follow the redirect to another host"


def test_regular_hub_file_verified_by_git_sha1(hub: HubDouble, repo_dir: Path, tmp_path: Path) -> None:
    hub.add_repo("org/m", repo_dir)
    meta = dl.hf_file_metadata("org/m", "config.json")
    assert meta["sha256"] is None and meta["git_sha1"]
    dl.download(meta["url"], tmp_path / "config.json", git_sha1=meta["git_sha1"])
    assert (tmp_path / "config.json").read_bytes() == (repo_dir / "config.json").read_bytes()
    with pytest.raises(dl.DownloadError, match="git blob sha1 mismatch"):
        dl.download(meta["url"], tmp_path / "c2.json", git_sha1="0" * 40)
    assert not (tmp_path / "c2.json").exists()
    with pytest.raises(dl.DownloadError, match="repository not found"):
        dl.hf_file_metadata("org/nope", "x")


def test_stale_part_from_another_version_is_discarded_and_refetched(hub: HubDouble, tmp_path: Path) -> None:
    src = tmp_path / "v2.bin"
    src.write_bytes(b"new version " * 50000)
    url = hub.add_static("v.bin", src)
    (tmp_path / "out.bin.part").write_bytes(b"old version " * 20000)  # left by an older download
    res = dl.download(url, tmp_path / "out.bin", sha256=_sha(src))
    assert res["resumed_from"] is None and res["bytes_transferred"] == src.stat().st_size
    assert _sha(tmp_path / "out.bin") == _sha(src)
