"""Bad input against the ``sealed_secret`` module, run for real by ansible-playbook (issue 14):
the same Kubernetes rules and messages as ``shai-secrets`` (module_utils/secret_rules.py),
nothing written, no value in the output; and a symlink pre-placed at the temporary name the
module used to write through is not followed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing, secret_rules

REPO = Path(__file__).resolve().parents[2]
VALUE = "Vq7pLx2mN4vT7wK1aSz9"  # shai-scan: allow (test value)

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "name": ({"name": "My_Name"}, "Secret name 'My_Name'"),
    "name300": ({"name": "a" * 300}, "(300 characters)' must be a DNS-1123 subdomain"),
    "namespace": ({"namespace": "../../etc"}, "namespace '../../etc' must be a DNS-1123 label"),
    "key": ({"data": {"a/b": VALUE}}, "data key 'a/b' must consist of"),
    "empty": ({"data": {"k": ""}}, "data key 'k' has an empty value"),
    "big": ({"data": {"k": "x" * (1024 * 1024 + 1)}}, "Kubernetes caps a Secret at 1048576 bytes"),
    "label": ({"labels": {"a b": "c"}}, "label key 'a b'"),
}


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_sealed_secret_module_bad_input(tmp_path: Path) -> None:
    key_pem, cert_pem = sealing.generate_key_pair(bits=2048)
    cert = tmp_path / "cert.pem"
    cert.write_text(cert_pem)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    # the module's old fixed temporary name for dest=out/ok.yaml
    (out / ".ok.yaml.shai-tmp").symlink_to(victim)
    tasks: list[dict[str, Any]] = []
    for cid, (override, _msg) in CASES.items():
        args = {
            "name": "app",
            "namespace": "team-a",
            "data": {"k": VALUE},
            "cert": str(cert),
            "dest": str(out / f"{cid}.yaml"),
            **override,
        }
        tasks.append(
            {"name": cid, "vectorweight.shai.sealed_secret": args, "register": cid, "ignore_errors": True}
        )
    tasks.append(
        {
            "name": "ok",
            "vectorweight.shai.sealed_secret": {
                "name": "app",
                "namespace": "team-a",
                "data": {"k": VALUE, "e": ""},
                "allow_empty": True,
                "cert": str(cert),
                "dest": str(out / "ok.yaml"),
            },
            "register": "ok",
        }
    )
    tasks.append(
        {
            "name": "dump",
            "ansible.builtin.copy": {
                "dest": str(tmp_path / "results.json"),
                "content": "{{ {" + ", ".join(f"'{c}': {c}" for c in [*CASES, "ok"]) + "} | to_json }}",
            },
        }
    )
    play = [
        {
            "name": "bad input",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "tasks": tasks,
        }
    ]
    pb = tmp_path / "play.yml"
    pb.write_text(yaml.safe_dump(play, sort_keys=False))
    before = _tree(out)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
    )
    proc = subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", str(pb)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert VALUE not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    for cid, (_override, msg) in CASES.items():
        r = results[cid]
        assert r["failed"], cid
        assert msg in r["msg"], (cid, r["msg"])
        assert not (out / f"{cid}.yaml").exists()
    # the CLI and the module say the same thing (one validator)
    with pytest.raises(secret_rules.InvalidSecretError) as exc:
        secret_rules.check_namespace("../../etc")
    assert str(exc.value) in results["namespace"]["msg"]
    # the symlink at the old temporary name was not followed; the file landed where asked
    assert victim.read_text() == "precious\n"
    assert results["ok"]["changed"] and (out / "ok.yaml").is_file() and not (out / "ok.yaml").is_symlink()
    after = _tree(out)
    assert set(after) - set(before) == {"ok.yaml"}
    assert [p.name for p in out.iterdir() if p.name.endswith(".shai-tmp") and not p.is_symlink()] == []
    opened = sealing.unseal_sealed_secret(
        [sealing.load_private_key(key_pem)], yaml.safe_load((out / "ok.yaml").read_text())
    )
    assert opened == {"k": VALUE.encode(), "e": b""}
