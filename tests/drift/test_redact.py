"""Secret redaction in drift reports (plugins/module_utils/drift_redact.py)."""

from __future__ import annotations

import pytest
from ansible_collections.vectorweight.shai.plugins.module_utils import drift_redact as r


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "grafana_admin_password",
        "OLLAMA_API_KEY",
        "api-key",
        "client_secret",
        "token",
        "private_key",
    ],
)
def test_secret_keys(key: str) -> None:
    assert r.is_secret_key(key)


@pytest.mark.parametrize("key", ["no_log", "path", "mode", "update_password", "token_file", "owner", "state"])
def test_plain_keys(key: str) -> None:
    assert not r.is_secret_key(key)


def test_redact_data_nested() -> None:
    data = {
        "user": "svc",
        "creds": {"api_token": "abcd1234", "list": [{"password": "hunter22"}]},
        "no_log": True,
    }
    out = r.redact_data(data)
    assert out == {
        "user": "svc",
        "creds": {"api_token": r.REDACTED, "list": [{"password": r.REDACTED}]},
        "no_log": True,
    }


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("password=hunter22\n", "hunter22"),
        ("export OLLAMA_API_KEY=sk-abcdef\n", "sk-abcdef"),
        ('Environment="TOKEN=abc123xyz"\n', "abc123xyz"),
        ("  admin_password: s3cr3t!\n", "s3cr3t!"),
        ('  "client_secret": "zzz-top-secret",\n', "zzz-top-secret"),
        ("Authorization: Bearer eyJhbGciOi.abc.def\n", "eyJhbGciOi"),
        ("url: https://user:pa55word@git.example/repo\n", "pa55word"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\nQQQ\n"  # shai-scan: allow
            "-----END OPENSSH PRIVATE KEY-----\n",
            "AAAAB3Nza",
        ),
    ],
)
def test_redact_text(text: str, secret: str) -> None:
    out = r.redact_text(text)
    assert secret not in out
    assert r.REDACTED in out


def test_redact_text_keeps_templates_and_plain_lines() -> None:
    text = "password={{ vault_password }}\nsetting=1\npassword_file=/etc/x\n"
    assert r.redact_text(text) == text


def test_redact_diff_marks_changed_secret() -> None:
    diff = {
        "before": "a=1\npassword=old-one\n",
        "after": "a=1\npassword=new-one\n",
        "after_header": "/etc/app",
    }
    out = r.redact_diff(diff)
    assert "old-one" not in str(out) and "new-one" not in str(out)
    assert out["before"] == "a=1\npassword=********\n"
    assert out["after"] == "a=1\npassword=******** (changed)\n"
    same = r.redact_diff({"before": "password=x1234\nb=1\n", "after": "password=x1234\nb=2\n"})
    assert same["after"] == "password=********\nb=2\n"


def test_extra_values_removed_everywhere() -> None:
    assert r.redact_data({"msg": "the key is Zq9-very-long"}, ["Zq9-very-long"]) == {
        "msg": "the key is ********"
    }
