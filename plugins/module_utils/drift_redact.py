# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redaction of secrets in task results and diffs for the drift report.

One implementation, used by the ``vectorweight.shai.drift_report`` callback and by
``shai drift report``. Three rules, applied in this order:

1. a task with ``no_log`` (or a result Ansible already censored) keeps only its status:
   no diff, no message, no values (``censor_result``);
2. in structured data, the value of every key that looks secret (``password``, ``token``,
   ``api_key``, ``secret``, ``private_key``, ``credentials``, ...) is replaced by
   ``REDACTED`` (``redact_data``);
3. in text (file contents in a diff, messages), ``KEY=value`` / ``KEY: value`` lines whose key
   looks secret, ``Authorization:`` headers, URL user-info passwords and PEM private-key blocks
   are redacted (``redact_text``).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

REDACTED = "********"
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

# Key names that hold secrets. Matched against the whole key, case-insensitive, with any
# prefix/suffix (``grafana_admin_password``, ``OLLAMA_API_KEY``, ``vault_pass``).
SECRET_KEY_PATTERN = (
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|private[_-]?key|priv[_-]?key|"
    r"credential|credentials|auth[_-]?key|access[_-]?key|client[_-]?secret|session[_-]?key|"
    r"bearer|cookie|htpasswd|jwt|signing[_-]?key|encryption[_-]?key|seal(ing)?[_-]?key)"
)

# Keys that match the pattern but carry no secret (booleans and paths about secrets).
_SAFE_KEYS = frozenset(
    (
        "no_log",
        "password_lock",
        "update_password",
        "password_expire_max",
        "password_expire_min",
        "password_expire_warn",
        "secret_name",
        "token_file",
        "password_file",
        "vault_password_file",
        "pass_through",
    )
)

_KEY_RE = re.compile(SECRET_KEY_PATTERN, re.IGNORECASE)

# KEY=value, KEY = value, KEY: value, "key": "value", export KEY=value, Environment=KEY=value
_LINE_RE = re.compile(
    r"""(?P<prefix>^[\t ]*(?:export[\t ]+|Environment=["']?)?["']?)"""
    r"""(?P<key>[A-Za-z0-9_.\-]*""" + SECRET_KEY_PATTERN + r"""[A-Za-z0-9_.\-]*)"""
    r"""(?P<sep>["']?[\t ]*[:=][\t ]*)(?P<value>.*?)(?P<suffix>["',]?[\t ]*)$""",
    re.IGNORECASE | re.MULTILINE,
)
# key=value inside a sentence ("failed: password=abc rejected")
_INLINE_RE = re.compile(
    r"""(?P<key>(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]*""" + SECRET_KEY_PATTERN + r"""[A-Za-z0-9_.\-]*)"""
    r"""(?P<sep>=|:[\t ]+)(?P<value>[^\s,;'"]+)""",
    re.IGNORECASE,
)
_AUTH_HEADER_RE = re.compile(r"(?P<prefix>\b(?:Proxy-)?Authorization[\t ]*:[\t ]*)(?P<value>[^\r\n]+)", re.IGNORECASE)
_BEARER_RE = re.compile(r"(?P<prefix>\bBearer[\t ]+)(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_URL_PASS_RE = re.compile(r"(?P<prefix>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<value>[^@\s/]+)(?P<at>@)", re.IGNORECASE)
_PEM_RE = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END (?P=kind)-----|\Z)",
    re.DOTALL,
)


def is_secret_key(key):
    # type: (object) -> bool
    """True when a mapping key looks like it holds a secret."""
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    if lowered in _SAFE_KEYS or lowered.endswith(("_file", "_path", "_name", "_length", "_expire")):
        return False
    return _KEY_RE.search(key) is not None


def _plain_value(value):
    # type: (str) -> bool
    """True when a secret-looking key's value is not a secret (empty, a template, a vault blob)."""
    stripped = value.strip()
    return (not stripped or stripped in ("''", '""', "null", "~", "{}", "[]")
            or stripped.startswith(("{{", "!vault", "$ANSIBLE_VAULT")))


def secret_values(text):
    # type: (str) -> dict[str, str]
    """The secret-looking ``KEY=value`` pairs of a text, by key (used to mark changed secrets)."""
    if not isinstance(text, str):
        return {}
    return {
        m.group("key"): m.group("value")
        for m in _LINE_RE.finditer(text)
        if not _plain_value(m.group("value")) and is_secret_key(m.group("key"))
    }


def redact_text(text, reference=None):
    # type: (str, dict[str, str] | None) -> str
    """Redact secrets inside free text (file contents, messages, command lines).

    With ``reference`` (the secret values of the "before" text), a secret whose value differs from
    the reference is written ``******** (changed)`` so a diff still shows that it changed.
    """
    if not isinstance(text, str) or not text:
        return text

    def line_value(match):
        # type: (re.Match[str]) -> str
        value = match.group("value")
        if _plain_value(value) or not is_secret_key(match.group("key")):
            return match.group(0)
        marker = REDACTED
        if reference is not None and reference.get(match.group("key")) != value:
            marker = REDACTED + " (changed)"
        return match.group("prefix") + match.group("key") + match.group("sep") + marker + match.group("suffix")

    text = _PEM_RE.sub(lambda m: "-----BEGIN %s-----\n%s\n-----END %s-----" % (m.group("kind"), REDACTED, m.group("kind")), text)
    text = _LINE_RE.sub(line_value, text)
    text = _INLINE_RE.sub(
        lambda m: m.group(0)
        if m.group("value").startswith(("*", "{{")) or not is_secret_key(m.group("key"))
        else m.group("key") + m.group("sep") + REDACTED,
        text,
    )
    text = _AUTH_HEADER_RE.sub(lambda m: m.group("prefix") + REDACTED, text)
    text = _BEARER_RE.sub(lambda m: m.group("prefix") + REDACTED, text)
    text = _URL_PASS_RE.sub(lambda m: m.group("prefix") + REDACTED + m.group("at"), text)
    return text


def redact_data(data, extra_values=()):
    # type: (object, tuple[str, ...] | list[str]) -> object
    """Return a deep copy of ``data`` with secret-looking keys' values and text redacted.

    ``extra_values`` are literal strings (known secrets) removed from every string.
    """
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if is_secret_key(key) and value not in (None, "", [], {}) and not isinstance(value, bool):
                out[key] = REDACTED
            else:
                out[key] = redact_data(value, extra_values)
        return out
    if isinstance(data, (list, tuple)):
        return [redact_data(item, extra_values) for item in data]
    if isinstance(data, str):
        text = redact_text(data)
        for secret in extra_values:
            if secret and len(secret) >= 4:
                text = text.replace(secret, REDACTED)
        return text
    return data


def redact_diff(diff, extra_values=()):
    # type: (dict, tuple[str, ...] | list[str]) -> dict
    """Redact one Ansible diff dict; a secret changed between before and after stays visible as changed."""
    out = {}
    for key, value in diff.items():
        if key not in ("before", "after"):
            out[key] = REDACTED if is_secret_key(key) and value not in (None, "") else redact_data(value, extra_values)
    before, after = diff.get("before"), diff.get("after")
    if isinstance(before, str) and isinstance(after, str):
        out["before"] = redact_data(before, extra_values)
        out["after"] = redact_text(after, reference=secret_values(before))
        if extra_values:
            out["after"] = redact_data(out["after"], extra_values)
    else:
        if "before" in diff:
            out["before"] = redact_data(before, extra_values)
        if "after" in diff:
            out["after"] = redact_data(after, extra_values)
    return out


def is_censored(result):
    # type: (object) -> bool
    """True when Ansible already censored this result (``no_log``)."""
    return isinstance(result, dict) and "censored" in result
