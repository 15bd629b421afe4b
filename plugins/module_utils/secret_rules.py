# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Kubernetes accepts in a Secret, checked before anything is sealed.

One validator for the ``shai-secrets`` CLI, the ``sealed_secret`` module and the catalog loader,
so all three say the same thing (issue 14, class 5). The rules are the API server's
(``k8s.io/apimachinery/pkg/util/validation`` and ``pkg/apis/core/validation``):

* Secret name: DNS-1123 subdomain (at most 253 characters of ``[a-z0-9.-]``, alphanumeric at
  both ends); namespace: DNS-1123 label (at most 63 characters of ``[a-z0-9-]``).
* data keys: ``[-._a-zA-Z0-9]+``, at most 253 characters, not ``.`` or ``..``.
* total size of the data: at most 1 MiB (``MaxSecretSize``).
* label keys: optional DNS-1123 subdomain prefix + ``/`` + a name of at most 63 characters;
  label values: at most 63 characters, empty or alphanumeric at both ends.
* An empty value is valid for the API server but almost always a mistake (a missing variable):
  it needs an explicit ``allow_empty``.

Messages name the offending field and value (never a secret value) and state the rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

MAX_SECRET_BYTES = 1024 * 1024
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(r"^" + _LABEL + r"$")
DNS1123_SUBDOMAIN = re.compile(r"^" + _LABEL + r"(\." + _LABEL + r")*$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

RULE_SUBDOMAIN = (
    "must be a DNS-1123 subdomain: at most 253 characters, lower-case letters, digits, '-' and '.', "
    "starting and ending with a letter or digit"
)
RULE_LABEL = (
    "must be a DNS-1123 label: at most 63 characters, lower-case letters, digits and '-', "
    "starting and ending with a letter or digit"
)
RULE_DATA_KEY = "must consist of letters, digits, '-', '_' or '.' (at most 253 characters, not '.' or '..')"


class InvalidSecretError(ShaiError):
    """The Secret would be rejected by the API server (or is empty without saying so)."""


def _prefix(where):
    return "%s: " % where if where else ""


def check_name(name, where=""):
    # type: (str, str) -> None
    name = "" if name is None else str(name)
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        raise InvalidSecretError("%sSecret name %r %s" % (_prefix(where), _short(name), RULE_SUBDOMAIN))


def check_namespace(namespace, where=""):
    # type: (str, str) -> None
    namespace = "" if namespace is None else str(namespace)
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        raise InvalidSecretError("%snamespace %r %s" % (_prefix(where), _short(namespace), RULE_LABEL))


def check_data_key(key, where=""):
    # type: (str, str) -> None
    key = str(key)
    if len(key) > 253 or key in (".", "..") or not DATA_KEY.match(key):
        raise InvalidSecretError("%sdata key %r %s" % (_prefix(where), _short(key), RULE_DATA_KEY))


def _check_qualified_key(key, what, where):
    prefix, slash, name = str(key).rpartition("/")
    ok = len(name) <= 63 and QUALIFIED_NAME.match(name) is not None
    if slash:
        ok = ok and len(prefix) <= 253 and DNS1123_SUBDOMAIN.match(prefix) is not None
    if not ok:
        raise InvalidSecretError(
            "%s%s key %r must be [prefix/]name: prefix a DNS-1123 subdomain, name at most 63 "
            "characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
            % (_prefix(where), what, _short(str(key)))
        )


def check_labels(labels, where=""):
    # type: (dict | None, str) -> None
    for key, value in (labels or {}).items():
        _check_qualified_key(key, "label", where)
        value = "" if value is None else str(value)
        if len(value) > 63 or not LABEL_VALUE.match(value):
            raise InvalidSecretError(
                "%slabel %r: value %r must be at most 63 characters of letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit" % (_prefix(where), str(key), _short(value))
            )


def check_annotations(annotations, where=""):
    # type: (dict | None, str) -> None
    for key in annotations or {}:
        _check_qualified_key(key, "annotation", where)


def check_data(data, allow_empty=False, where=""):
    # type: (dict, bool, str) -> None
    """Keys, emptiness and the 1 MiB total of ``data`` (key -> str or bytes)."""
    total = 0
    for key in sorted(data):
        check_data_key(key, where)
        value = data[key]
        size = len(value.encode("utf-8") if not isinstance(value, bytes) else value)
        if size == 0 and not allow_empty:
            raise InvalidSecretError(
                "%sdata key %r has an empty value; pass allow_empty (CLI: --allow-empty, catalog: "
                "'allow_empty: true') if an empty value is really meant" % (_prefix(where), str(key))
            )
        total += size
    if total > MAX_SECRET_BYTES:
        raise InvalidSecretError(
            "%sSecret data is %d bytes; Kubernetes caps a Secret at %d bytes (1 MiB)"
            % (_prefix(where), total, MAX_SECRET_BYTES)
        )


def check_secret(name, namespace, data=None, labels=None, annotations=None, allow_empty=False, where=""):
    # type: (str, str, dict | None, dict | None, dict | None, bool, str) -> None
    """Everything above for one Secret; raises :class:`InvalidSecretError` on the first problem."""
    check_name(name, where)
    check_namespace(namespace, where)
    check_labels(labels, where)
    check_annotations(annotations, where)
    if data is not None:
        check_data(data, allow_empty=allow_empty, where=where)


def _short(text):
    # type: (str) -> str
    return text if len(text) <= 70 else text[:60] + "...(%d characters)" % len(text)
