#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sealed_secret
short_description: Seal a Secret into a Bitnami SealedSecret manifest, idempotently
version_added: "0.1.0"
description:
  - Encrypts key/value data for one Secret with the sealed-secrets controller's public
    certificate and writes a C(bitnami.com/v1alpha1) C(SealedSecret) YAML file, byte-compatible
    with C(kubeseal) (RSA-OAEP SHA-256 wrapped AES-256-GCM session key, scope labels).
  - Sealing is randomised, so "unchanged" is detected with a keyed digest annotation
    C(shai.vectorweight.com/digest) (HMAC-SHA256 keyed by O(digest_key), a secret that lives
    only in the vault) or, when O(private_key) is given, by unsealing the existing file.
    Unchanged keys keep their ciphertext byte for byte; an unchanged Secret is not rewritten.
  - The diff shows which keys were added, changed or removed, never values.
  - "Runs on the controller (C(delegate_to: localhost)); the output lands in the GitOps tree,
    by convention C(gitops/secrets/<namespace>/<name>.sealedsecret.yaml)."
author:
  - vectorweight (@vectorweight)
requirements:
  - python cryptography >= 3.4
  - python kubernetes (only for O(cert_source=cluster))
attributes:
  check_mode:
    support: full
    description: Predicts exactly whether the file would change and which keys.
  diff_mode:
    support: full
    description: Shows the SealedSecret with every ciphertext replaced by a marker saying whether the key changed.
  platform:
    support: full
    platforms: posix
    description: Runs wherever python cryptography is available, usually the controller.
options:
  name:
    description: Name of the Secret (and the SealedSecret).
    type: str
    required: true
  namespace:
    description: Namespace the Secret will live in.
    type: str
    required: true
  scope:
    description: SealedSecrets scope; decides the encryption label.
    type: str
    choices: [strict, namespace-wide, cluster-wide]
    default: strict
  data:
    description: Plaintext values, key => text. Never logged.
    type: dict
    default: {}
  binary_data:
    description: Binary values, key => base64 of the bytes. Never logged.
    type: dict
    default: {}
  public_data:
    description:
      - Non-secret values (user names, e-mail addresses), key => text. Sealed like the others but
        not C(no_log), so Ansible does not mask these words everywhere in its output.
    type: dict
    default: {}
  type:
    description: Secret type written into C(spec.template.type).
    type: str
    default: Opaque
  labels:
    description: Labels of the resulting Secret.
    type: dict
    default: {}
  annotations:
    description: Annotations of the resulting Secret.
    type: dict
    default: {}
  dest:
    description: Path of the SealedSecret YAML file to write.
    type: path
    required: true
  state:
    description: C(absent) removes O(dest).
    type: str
    choices: [present, absent]
    default: present
  cert_source:
    description:
      - Where the sealing certificate comes from. C(auto) picks O(cert_content), then O(cert),
        then the cluster.
    type: str
    choices: [auto, file, content, url, cluster]
    default: auto
  cert:
    description: Path or http(s) URL of the controller's PEM certificate.
    type: str
  cert_content:
    description: The controller's PEM certificate as text.
    type: str
  controller_namespace:
    description: Namespace of the sealed-secrets controller service.
    type: str
    default: kube-system
  controller_name:
    description: Name of the sealed-secrets controller service.
    type: str
    default: sealed-secrets-controller
  digest_key:
    description:
      - Secret key of the digest annotation (at least 16 characters). Keep it in the vault
        (C(vault_shai_secrets_digest_key)). Never derive it from the certificate (it is public).
      - Without O(digest_key) and O(private_key) every run re-seals (always changed).
    type: str
  private_key:
    description: PEM private key matching the certificate; when given, unchanged values are detected by unsealing.
    type: str
  force:
    description: Re-seal every key even when unchanged.
    type: bool
    default: false
  mode:
    description: File mode of O(dest).
    type: raw
    default: "0644"
  allow_empty:
    description:
      - Accept keys with an empty value. Without it an empty value fails (usually an undefined
        variable), with the same message as C(shai-secrets seal --allow-empty).
    type: bool
    default: false
extends_documentation_fragment:
  - vectorweight.shai.k8s_auth
notes:
  - The connection options (O(kubeconfig), O(context), O(host), ...) are used only with
    O(cert_source=cluster).
  - The Secret is checked against the Kubernetes rules before sealing (name a DNS-1123 subdomain,
    namespace a DNS-1123 label, data keys C([-._a-zA-Z0-9]+), at most 1 MiB of data, label syntax),
    by the same code as the C(shai-secrets) CLI and the catalog.
  - O(dest) is written atomically (a fresh temporary file in its directory, never a fixed name).
  - O(data), O(binary_data), O(digest_key) and O(private_key) are C(no_log).
seealso:
  - module: vectorweight.shai.sealing_key
  - name: Bitnami sealed-secrets
    description: The upstream controller and kubeseal.
    link: https://github.com/bitnami-labs/sealed-secrets
"""

EXAMPLES = r"""
- name: Seal the Grafana admin secret into the GitOps tree
  vectorweight.shai.sealed_secret:
    name: grafana-admin
    namespace: monitoring
    data:
      admin-user: admin
      admin-password: "{{ vault_shai_secrets['grafana-admin']['admin-password'] }}"
    cert_content: "{{ vault_sealed_secrets_certificate }}"
    digest_key: "{{ vault_shai_secrets_digest_key }}"
    dest: "{{ playbook_dir }}/../gitops/secrets/monitoring/grafana-admin.sealedsecret.yaml"
  delegate_to: localhost

- name: Namespace-wide secret, certificate fetched from the running controller
  vectorweight.shai.sealed_secret:
    name: huggingface-token
    namespace: ai-services
    scope: namespace-wide
    data:
      HF_TOKEN: "{{ vault_hf_token }}"
    cert_source: cluster
    kubeconfig: ~/.kube/homelab.yaml
    digest_key: "{{ vault_shai_secrets_digest_key }}"
    dest: gitops/secrets/ai-services/huggingface-token.sealedsecret.yaml
"""

RETURN = r"""
dest:
  description: The file written (or that would be written).
  returned: always
  type: str
added:
  description: Keys new in this run.
  returned: state=present
  type: list
  elements: str
modified:
  description: Keys whose value changed (re-sealed).
  returned: state=present
  type: list
  elements: str
removed:
  description: Keys dropped from the file.
  returned: state=present
  type: list
  elements: str
unchanged:
  description: Keys whose ciphertext was kept verbatim.
  returned: state=present
  type: list
  elements: str
sealed_secret:
  description: The SealedSecret object (ciphertext only; safe to show).
  returned: state=present
  type: dict
cert_fingerprint:
  description: SHA-256 of the sealing certificate's public key (hex).
  returned: state=present
  type: str
"""

import base64
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError
from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import (
    AUTH_ARG_SPEC,
    KubeError,
    client_from_params,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False


def _load_cert(module):
    p = module.params
    source = p["cert_source"]
    if source == "auto":
        if p["cert_content"]:
            source = "content"
        elif p["cert"]:
            source = "url" if p["cert"].startswith(("http://", "https://")) else "file"
        else:
            source = "cluster"
    if source == "content":
        if not p["cert_content"]:
            module.fail_json(msg="cert_source=content needs cert_content")
        return sealing.load_certificate(p["cert_content"], source="cert_content")
    if source == "file":
        path = p["cert"]
        if not path or not os.path.isfile(path):
            module.fail_json(msg="cert: certificate file %s does not exist" % path)
        with open(path, "rb") as fh:
            return sealing.load_certificate(fh.read(), source="cert %s" % path)
    if source == "url":
        resp, info = _fetch_url(module, p["cert"])
        if info["status"] != 200:
            module.fail_json(msg="cert: GET %s returned %s" % (p["cert"], info.get("msg", info["status"])))
        return sealing.load_certificate(resp.read(), source="cert %s" % p["cert"])
    try:
        client = client_from_params(p)
        pem = client.controller_cert(p["controller_namespace"], p["controller_name"])
    except KubeError as exc:
        module.fail_json(msg="cannot fetch the controller certificate: %s" % exc)
    return sealing.load_certificate(
        pem, source="controller %s/%s" % (p["controller_namespace"], p["controller_name"])
    )


def _fetch_url(module, url):
    from ansible.module_utils.urls import fetch_url

    return fetch_url(module, url, method="GET")


def _initial_mode(mode):
    """The file mode to create the temp file with: an octal O(mode), else 0644 (a symbolic mode
    is applied afterwards by set_fs_attributes_if_different)."""
    try:
        return int(str(mode), 8) & 0o7777 if not isinstance(mode, int) else mode & 0o7777
    except ValueError:
        return 0o644


def _read_existing(module, dest):
    if not os.path.exists(dest):
        return None
    try:
        with open(dest, "r") as fh:
            obj = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        module.fail_json(
            msg="dest %s exists but is not valid YAML (%s); fix or delete it, or set force=true"
            % (dest, exc.__class__.__name__)
        )
    try:
        sealing.validate_sealed_secret(obj, source="dest %s" % dest)
    except sealing.SealingError as exc:
        module.fail_json(msg="%s; fix or delete it, or set force=true" % exc)
    return obj


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
            scope=dict(type="str", default="strict", choices=list(sealing.SCOPES)),
            data=dict(type="dict", default={}, no_log=True),
            binary_data=dict(type="dict", default={}, no_log=True),
            public_data=dict(type="dict", default={}),
            type=dict(type="str", default="Opaque"),
            labels=dict(type="dict", default={}),
            annotations=dict(type="dict", default={}),
            dest=dict(type="path", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            cert_source=dict(type="str", default="auto", choices=["auto", "file", "content", "url", "cluster"]),
            cert=dict(type="str"),
            cert_content=dict(type="str"),
            controller_namespace=dict(type="str", default="kube-system"),
            controller_name=dict(type="str", default="sealed-secrets-controller"),
            digest_key=dict(type="str", no_log=True),
            private_key=dict(type="str", no_log=True),
            force=dict(type="bool", default=False),
            mode=dict(type="raw", default="0644"),
            allow_empty=dict(type="bool", default=False),
            **AUTH_ARG_SPEC
        ),
        supports_check_mode=True,
    )
    if not sealing.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(sealing.CRYPTOGRAPHY_IMPORT_ERROR))
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    p = module.params
    dest = p["dest"]

    if p["state"] == "absent":
        exists = os.path.exists(dest)
        if exists and not module.check_mode:
            os.unlink(dest)
        diff = {"before_header": dest, "after_header": dest, "before": "present\n" if exists else "", "after": ""}
        module.exit_json(changed=exists, dest=dest, diff=diff)

    data = {}
    for k, v in (p["data"] or {}).items():
        data[k] = to_native(v).encode("utf-8") if v is not None else b""
    for k, v in (p["public_data"] or {}).items():
        if k in data:
            module.fail_json(msg="key %r is in both data and public_data" % k)
        data[k] = to_native(v).encode("utf-8") if v is not None else b""
    for k, v in (p["binary_data"] or {}).items():
        if k in data:
            module.fail_json(msg="key %r is in both data and binary_data" % k)
        try:
            data[k] = base64.b64decode(v or "", validate=True)
        except Exception:
            module.fail_json(msg="binary_data key %r is not valid base64" % k)
    if not data:
        module.fail_json(msg="data/public_data/binary_data: at least one key is required")
    if p["digest_key"] is not None and len(p["digest_key"]) < 16:
        module.fail_json(msg="digest_key must be at least 16 characters")

    try:
        cert = _load_cert(module)
        keys = None
        if p["private_key"]:
            keys = [sealing.load_private_key(p["private_key"], source="private_key")]
        existing = None if p["force"] else _read_existing(module, dest)
        plan = sealing.reconcile_sealed_secret(
            cert,
            p["name"],
            p["namespace"],
            data,
            scope=p["scope"],
            secret_type=p["type"],
            labels=p["labels"] or None,
            annotations=p["annotations"] or None,
            existing=existing,
            digest_key=p["digest_key"].encode("utf-8") if p["digest_key"] else None,
            private_keys=keys,
            allow_empty=p["allow_empty"],
        )
    except ShaiError as exc:  # SealingError, InvalidSecretError (module_utils/secret_rules.py)
        module.fail_json(msg=to_native(exc))
    except Exception as exc:  # unexpected: keep values out of the message
        module.fail_json(msg="sealing failed: %s" % type(exc).__name__, exception=traceback.format_exc(limit=0))

    if p["force"] and os.path.exists(dest):
        # forced: every key counts as modified relative to the file on disk
        plan["modified"] = sorted(set(plan["added"]) | set(plan["modified"]))
        plan["added"] = []
        plan["changed"] = True
    obj = plan["object"]
    text = sealing.dump_yaml(obj)
    changed = plan["changed"]

    status = {}
    for k in plan["added"]:
        status[k] = "added"
    for k in plan["modified"]:
        status[k] = "changed"
    for k in plan["unchanged"]:
        status[k] = "unchanged"
    before_view = sealing.redacted_view(existing, dict((k, "removed") for k in plan["removed"]))
    after_view = sealing.redacted_view(obj, status)
    diff = {
        "before_header": dest,
        "after_header": dest,
        "before": sealing.dump_yaml(before_view) if existing else "",
        "after": sealing.dump_yaml(after_view),
    }

    if changed and not module.check_mode:
        try:
            atomic_write(dest, text, mode=_initial_mode(p["mode"]))
        except OSError as exc:
            module.fail_json(msg="cannot write %s: %s" % (dest, exc.strerror or type(exc).__name__), dest=dest)
    file_args = module.load_file_common_arguments(dict(path=dest, mode=p["mode"]))
    if os.path.exists(dest) and not module.check_mode:
        changed = module.set_fs_attributes_if_different(file_args, changed)

    module.exit_json(
        changed=changed,
        dest=dest,
        added=plan["added"],
        modified=plan["modified"],
        removed=plan["removed"],
        unchanged=plan["unchanged"],
        sealed_secret=obj,
        cert_fingerprint=sealing.cert_fingerprint(cert),
        diff=diff,
    )


if __name__ == "__main__":
    main()
