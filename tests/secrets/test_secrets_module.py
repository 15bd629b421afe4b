"""The sealed_secret module run for real by ansible-playbook against localhost:
check mode predicts, apply writes, re-run is idempotent, diff names keys never values,
bad input fails clearly.  Plus the leak test: playbooks/secrets.yml at -vvv."""

from __future__ import annotations

import datetime
import functools
import http.server
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from typer.testing import CliRunner

from shai.secrets.cli import app

SECRET_A = "Zr8quPLx2mN4vT7wK1aS"  # shai-scan: allow (test value)
SECRET_B = "Hq3nV9pL0xC6bJ2mR8tY"  # shai-scan: allow (test value)

REPO = Path(__file__).resolve().parents[2]
Workspace = Any  # the `workspace` fixture's type, see conftest.py


def _playbook(
    tmp: Path, tasks: list[dict[str, Any]], extra: list[str] | None = None, verbosity: str = ""
) -> subprocess.CompletedProcess[str]:
    play = [
        {
            "name": "test",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "tasks": tasks,
        }
    ]
    pb = tmp / f"play-{len(list(tmp.glob('play-*.yml')))}.yml"
    pb.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp / "ansible-home"),
    )
    argv = [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", str(pb), *(extra or [])]
    if verbosity:
        argv.append(verbosity)
    return subprocess.run(argv, env=env, capture_output=True, text=True, cwd=REPO, timeout=600)


def _results(tmp: Path) -> dict[str, Any]:
    return dict(json.loads((tmp / "results.json").read_text()))


def _seal_task(dest: Path, cert: Path, data: dict[str, str], register: str, **kw: Any) -> dict[str, Any]:
    args = {
        "name": "app-creds",
        "namespace": "team-a",
        "data": data,
        "cert": str(cert),
        "dest": str(dest),
        "digest_key": "0123456789abcdef0123456789abcdef",
    }
    args.update(kw)
    return {
        "name": register,
        "vectorweight.shai.sealed_secret": args,
        "register": register,
        "diff": True,
        **({"check_mode": True} if register.startswith("check") else {}),
    }


def test_module_check_apply_idempotent_diff(tmp_path: Path, keypair: Any) -> None:
    dest = tmp_path / "gitops/secrets/team-a/app-creds.sealedsecret.yaml"
    d1 = {"password": SECRET_A, "user": "admin"}
    d2 = {"password": SECRET_B, "user": "admin"}
    tasks = [
        _seal_task(dest, keypair.cert_path, d1, "check1"),
        _seal_task(dest, keypair.cert_path, d1, "apply1"),
        _seal_task(dest, keypair.cert_path, d1, "check2"),
        _seal_task(dest, keypair.cert_path, d1, "apply2"),
        _seal_task(dest, keypair.cert_path, d2, "check3"),
        _seal_task(dest, keypair.cert_path, d2, "apply3"),
        {
            "name": "dump",
            "ansible.builtin.copy": {
                "dest": str(tmp_path / "results.json"),
                "content": "{{ {'check1': check1, 'apply1': apply1, 'check2': check2, 'apply2': apply2,"
                " 'check3': check3, 'apply3': apply3} | to_json }}",
            },
        },
    ]
    proc = _playbook(tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = _results(tmp_path)
    assert r["check1"]["changed"] and r["check1"]["added"] == ["password", "user"]
    assert r["apply1"]["changed"] and r["apply1"]["added"] == ["password", "user"]
    assert not r["check2"]["changed"] and not r["apply2"]["changed"]
    assert r["apply2"]["unchanged"] == ["password", "user"]
    assert (
        r["check3"]["changed"]
        and r["check3"]["modified"] == ["password"]
        and r["check3"]["unchanged"] == ["user"]
    )
    assert r["apply3"]["modified"] == ["password"]
    # unchanged key kept its ciphertext byte for byte; changed key re-sealed
    enc1 = r["apply1"]["sealed_secret"]["spec"]["encryptedData"]
    enc3 = r["apply3"]["sealed_secret"]["spec"]["encryptedData"]
    assert enc1["user"] == enc3["user"] and enc1["password"] != enc3["password"]
    # file on disk opens to the new value; diff output names keys, never values
    obj = yaml.safe_load(dest.read_text())
    assert sealing.unseal_sealed_secret(keypair.key, obj) == {"password": SECRET_B.encode(), "user": b"admin"}
    assert 'password: "<sealed, changed>"' in proc.stdout
    assert 'user: "<sealed, unchanged>"' in proc.stdout
    assert SECRET_A not in proc.stdout + proc.stderr and SECRET_B not in proc.stdout + proc.stderr


def test_module_unseal_mode_and_bad_input(tmp_path: Path, keypair: Any) -> None:
    _expired_key, expired_cert = sealing.generate_key_pair(
        bits=2048, days=1, now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3)
    )
    (tmp_path / "expired.pem").write_text(expired_cert)
    dest = tmp_path / "out/s.sealedsecret.yaml"
    broken = tmp_path / "broken.sealedsecret.yaml"
    broken.write_text("apiVersion: [unclosed\n")
    no_digest = {"digest_key": None, "private_key": keypair.key_pem}
    # the certificate over http from a loopback server (the cert_source=url path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(keypair.cert_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ign = {"ignore_errors": True}
    tasks = [
        {**_seal_task(dest, keypair.cert_path, {"k": SECRET_A}, "pk1", **no_digest)},
        {**_seal_task(dest, keypair.cert_path, {"k": SECRET_A}, "pk2", **no_digest)},
        {**_seal_task(dest, tmp_path / "expired.pem", {"k": SECRET_A}, "expired"), **ign},
        {**_seal_task(broken, keypair.cert_path, {"k": SECRET_A}, "malformed"), **ign},
        {**_seal_task(dest, keypair.cert_path, {"k": SECRET_A}, "badscope", scope="galaxy-wide"), **ign},
        {**_seal_task(dest, tmp_path / "missing.pem", {"k": SECRET_A}, "nocert"), **ign},
        {**_seal_task(dest, keypair.cert_path, {}, "nodata"), **ign},
        _seal_task(
            tmp_path / "url.yaml", f"{base}/cert.pem", {"k": SECRET_A}, "url", public_data={"user": "admin"}
        ),
        {**_seal_task(tmp_path / "url404.yaml", f"{base}/nope.pem", {"k": SECRET_A}, "url404"), **ign},
        {
            "name": "dump",
            "ansible.builtin.copy": {
                "dest": str(tmp_path / "results.json"),
                "content": "{{ {'pk1': pk1, 'pk2': pk2, 'expired': expired, 'malformed': malformed,"
                " 'badscope': badscope, 'nocert': nocert, 'nodata': nodata, 'url': url, 'url404': url404}"
                " | to_json }}",
            },
        },
    ]
    try:
        proc = _playbook(tmp_path, tasks)
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = _results(tmp_path)
    assert r["pk1"]["changed"] and not r["pk2"]["changed"]  # idempotent by unsealing
    assert "failed to encrypt using an expired certificate" in r["expired"]["msg"]
    assert "not valid YAML" in r["malformed"]["msg"] and str(broken) in r["malformed"]["msg"]
    assert broken.read_text() == "apiVersion: [unclosed\n"  # left intact
    assert "scope" in r["badscope"]["msg"] and "galaxy-wide" in r["badscope"]["msg"]
    assert "missing.pem" in r["nocert"]["msg"] and "does not exist" in r["nocert"]["msg"]
    assert "at least one key" in r["nodata"]["msg"]
    assert r["url"]["changed"] and r["url"]["cert_fingerprint"] == sealing.cert_fingerprint(keypair.cert)
    opened = sealing.unseal_sealed_secret(keypair.key, yaml.safe_load((tmp_path / "url.yaml").read_text()))
    assert opened == {"k": SECRET_A.encode(), "user": b"admin"}
    assert "nope.pem" in r["url404"]["msg"] and "404" in r["url404"]["msg"]
    assert SECRET_A not in proc.stdout + proc.stderr


def _cli(ws: Workspace, *args: str) -> Any:
    res = CliRunner().invoke(app, list(args), env=ws.env())
    return res


def test_leak_playbook_vvv(workspace: Workspace, tmp_path: Path) -> None:
    """Generate everything, seal via playbooks/secrets.yml at -vvv twice, then grep every log and
    the tree for every generated value: zero hits."""
    ws = workspace
    from shai.secrets import lifecycle
    from shai.secrets.catalog import load_catalog

    assert _cli(ws, "keygen", "--bits", "2048").exit_code == 0
    # gitlab-runner: a supplied token next to a key the catalog allows to be empty (allow_empty)
    v = lifecycle.open_vault(ws.vault, ws.password_file)
    v.data["vault_gitlab_runner_token"] = "glrt-" + "Tk9xQ2" * 4  # shai-scan: allow (test value)
    v.save()
    res = _cli(ws, "generate")
    assert res.exit_code == 0, res.output
    logs = tmp_path / "logs"
    logs.mkdir()
    outputs = []
    for i in range(2):
        argv = [
            str(REPO / ".venv/bin/ansible-playbook"),
            str(REPO / "playbooks/secrets.yml"),
            "-i",
            "localhost,",
            "--vault-password-file",
            str(ws.password_file),
            "-e",
            f"shai_secrets_vault_file={ws.vault}",
            "-e",
            f"shai_secrets_gitops_dir={ws.gitops}",
            "-e",
            f"shai_secrets_catalog_file={ws.catalog}",
            "--diff",
            "-vvv",
        ]
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOG_PATH=str(logs / f"ansible-{i}.log"),
            ANSIBLE_KEEP_REMOTE_FILES="0",
        )
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=REPO, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outputs.append(proc.stdout + proc.stderr)
        (logs / f"stdout-{i}.txt").write_text(proc.stdout + proc.stderr)
    assert "changed=1" in outputs[0] and "changed=0" in outputs[1]  # second run idempotent
    files = sorted(ws.gitops.rglob("*.sealedsecret.yaml"))
    assert len(files) == 11
    # the tree opens to the vault values (so the values are really in there, encrypted)
    res = _cli(ws, "verify")
    assert res.exit_code == 0, res.output
    # collect every generated value from the vault and grep for them
    vault = lifecycle.open_vault(ws.vault, ws.password_file)
    values = [v for _e, _k, v in lifecycle.all_values(load_catalog(ws.catalog), vault) if len(v) >= 8]
    assert len(values) >= 15
    haystacks = {str(p): p.read_text(errors="replace") for p in logs.iterdir()}
    haystacks.update({str(p): p.read_text() for p in files})
    hits = [
        (name, i)
        for name, text in haystacks.items()
        for i, v in enumerate(values)
        for probe in [v.splitlines()[0] if "\n" in v else v]
        if probe in text
    ]
    assert hits == [], f"{len(hits)} generated value(s) leaked into {sorted({h[0] for h in hits})}"
    # and the scanner agrees about the tree
    res = _cli(ws, "scan", str(ws.gitops))
    assert res.exit_code == 0, res.output
