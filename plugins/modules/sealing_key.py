#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sealing_key
short_description: Install a sealed-secrets controller key pair as its kubernetes.io/tls Secret
version_added: "0.1.0"
description:
  - Creates (or updates) the C(kubernetes.io/tls) Secret labelled
    C(sealedsecrets.bitnami.com/sealed-secrets-key=active) from which the Bitnami
    sealed-secrets controller loads its sealing keys.
  - Run it B(before) the controller starts (bootstrap) so a rebuilt cluster decrypts every
    SealedSecret already in git; the key pair comes from C(shai-secrets keygen) via the vault.
  - Validates the pair first (PEM, RSA, certificate not expired, key matches certificate).
  - The controller only reads keys at start-up; RV(restart_needed) says when an already
    running controller must be restarted to pick up a changed key.
author:
  - vectorweight (@vectorweight)
requirements:
  - python kubernetes
  - python cryptography
attributes:
  check_mode:
    support: full
    description: Reports whether the Secret (and namespace) would be created or updated.
  diff_mode:
    support: full
    description: Shows the Secret's name, labels and certificate fingerprint; never the key.
  platform:
    support: full
    platforms: posix
    description: Runs wherever python cryptography is available, usually the controller.
options:
  private_key:
    description: PEM RSA private key (for example C(vault_sealed_secrets_private_key)). Never logged.
    type: str
    required: true
  certificate:
    description: PEM certificate for O(private_key) (for example C(vault_sealed_secrets_certificate)).
    type: str
    required: true
  name:
    description:
      - Name of the Secret. Default C(sealed-secrets-key) + the first 5 hex digits of the
        key's fingerprint, so the same key always lands in the same Secret.
    type: str
  namespace:
    description: Namespace of the controller.
    type: str
    default: kube-system
  create_namespace:
    description: Create O(namespace) when it does not exist.
    type: bool
    default: true
extends_documentation_fragment:
  - vectorweight.shai.k8s_auth
notes:
  - O(private_key) is C(no_log).
  - Writes with server-side apply (field manager C(shai)); check mode asks the API server for a dry run.
seealso:
  - module: vectorweight.shai.sealed_secret
"""

EXAMPLES = r"""
- name: Install the bootstrap sealing key before the sealed-secrets controller starts
  vectorweight.shai.sealing_key:
    private_key: "{{ vault_sealed_secrets_private_key }}"
    certificate: "{{ vault_sealed_secrets_certificate }}"
    kubeconfig: /etc/rancher/k3s/k3s.yaml
"""

RETURN = r"""
name:
  description: Name of the key Secret.
  returned: always
  type: str
namespace:
  description: Its namespace.
  returned: always
  type: str
fingerprint:
  description: SHA-256 of the certificate's public key (hex).
  returned: always
  type: str
not_after:
  description: Certificate expiry (ISO 8601).
  returned: always
  type: str
restart_needed:
  description: True when the Secret existed and was changed (a running controller must restart).
  returned: always
  type: bool
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vectorweight.shai.plugins.module_utils import sealing
from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import (
    AUTH_ARG_SPEC,
    HAS_KUBERNETES,
    KubeError,
    client_from_params,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            private_key=dict(type="str", required=True, no_log=True),
            certificate=dict(type="str", required=True),
            name=dict(type="str"),
            namespace=dict(type="str", default="kube-system"),
            create_namespace=dict(type="bool", default=True),
            **AUTH_ARG_SPEC
        ),
        supports_check_mode=True,
    )
    if not sealing.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    p = module.params
    try:
        cert = sealing.load_certificate(p["certificate"], source="certificate")
        key = sealing.load_private_key(p["private_key"], source="private_key")
    except sealing.SealingError as exc:
        module.fail_json(msg=to_native(exc))
    if not sealing.key_matches_cert(key, cert):
        module.fail_json(msg="private_key does not belong to certificate (fingerprints differ)")
    fingerprint = sealing.cert_fingerprint(cert)
    name = p["name"] or "sealed-secrets-key" + fingerprint[:5]
    manifest = sealing.key_secret_manifest(name, p["private_key"].strip() + "\n", p["certificate"].strip() + "\n",
                                           namespace=p["namespace"])
    result = dict(
        name=name,
        namespace=p["namespace"],
        fingerprint=fingerprint,
        not_after=sealing.cert_not_after(cert).isoformat(),
        restart_needed=False,
    )
    try:
        client = client_from_params(p)
        ns_changed = False
        if p["create_namespace"]:
            ns_changed = client.ensure_namespace(p["namespace"], check_mode=module.check_mode)
        changed, before = client.apply_secret(manifest, check_mode=module.check_mode)
    except KubeError as exc:
        module.fail_json(msg=to_native(exc), **result)
    except Exception as exc:
        module.fail_json(msg="installing the sealing key failed: %s" % type(exc).__name__,
                         exception=traceback.format_exc(limit=0), **result)
    result["restart_needed"] = bool(changed and before is not None)
    before_txt = ""
    if before is not None:
        before_txt = "Secret %s/%s (kubernetes.io/tls), labels %s\n" % (
            p["namespace"], name, (before.get("metadata") or {}).get("labels") or {})
    after_txt = "Secret %s/%s (kubernetes.io/tls), labels %s, certificate %s\n" % (
        p["namespace"], name, manifest["metadata"]["labels"], fingerprint[:16])
    module.exit_json(changed=changed or ns_changed, diff=dict(before=before_txt, after=after_txt), **result)


if __name__ == "__main__":
    main()
