#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k3s_kubeconfig
short_description: Merge a k3s kubeconfig into a kubeconfig file without clobbering other contexts
version_added: 0.1.0
description:
  - Takes the kubeconfig a k3s server writes (C(/etc/rancher/k3s/k3s.yaml), one cluster, user and
    context all called C(default)), renames its entries to O(name), rewrites the cluster's
    C(server) to O(server), and merges the result into O(dest).
  - Clusters, users and contexts of other names in O(dest) are kept unchanged and in order; the
    entries called O(name) are replaced in place.
  - The file is written atomically with mode C(0600) (its directory is created C(0700)); the mode
    is enforced even when the content is already right.
  - The diff shows secret values (client keys, certificates, tokens) as fingerprints only.
author:
  - vectorweight (@vectorweight)
options:
  dest:
    description:
      - The kubeconfig file to merge into. C(~) is expanded.
    type: path
    required: true
  content:
    description:
      - The k3s kubeconfig as YAML text. Required when O(state=present).
    type: str
  name:
    description:
      - Name given to the cluster, user and context.
    type: str
    required: true
  server:
    description:
      - URL written as the cluster's C(server), for example C(https://192.168.1.170:6443).
      - Empty keeps the URL of O(content) (C(https://127.0.0.1:6443) on k3s).
    type: str
    default: ""
  set_current_context:
    description:
      - Make O(name) the C(current-context). When false, C(current-context) is only set if the
        file had none.
    type: bool
    default: true
  state:
    description:
      - V(present) merges O(content); V(absent) removes the entries called O(name).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the before and after kubeconfig, secrets redacted.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - "Runs where the kubeconfig lives; for the controller use C(delegate_to: localhost)."
"""

EXAMPLES = r"""
- name: Fetch the k3s kubeconfig
  ansible.builtin.slurp:
    src: /etc/rancher/k3s/k3s.yaml
  register: k3s_yaml
  no_log: true

- name: Merge it into ~/.kube/config as context "homelab"
  vectorweight.shai.k3s_kubeconfig:
    dest: ~/.kube/config
    content: "{{ k3s_yaml.content | b64decode }}"
    name: homelab
    server: https://192.168.1.170:6443
  delegate_to: localhost
  become: false

- name: Forget the context after a reset
  vectorweight.shai.k3s_kubeconfig:
    dest: ~/.kube/config
    name: homelab
    state: absent
  delegate_to: localhost
  become: false
"""

RETURN = r"""
dest:
  description: The kubeconfig path written (expanded).
  returned: always
  type: str
  sample: /home/ops/.kube/config
context:
  description: The context name merged or removed.
  returned: always
  type: str
  sample: homelab
contexts:
  description: Names of all contexts in the file after the change.
  returned: always
  type: list
  elements: str
  sample: [work, homelab]
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.k3s_kubeconfig import (
    KubeconfigError,
    merge,
    redact,
    remove,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False


def _dump(cfg):
    return yaml.safe_dump(cfg, default_flow_style=False, sort_keys=False) if cfg else ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            content=dict(type="str", no_log=True),
            name=dict(type="str", required=True),
            server=dict(type="str", default=""),
            set_current_context=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["content"])],
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))

    dest = module.params["dest"]  # type=path: already user- and variable-expanded
    name = module.params["name"]
    existing = None
    mode_ok = True
    if os.path.exists(dest):
        try:
            with open(dest, "r", encoding="utf-8") as handle:
                existing = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as exc:
            module.fail_json(msg="cannot read the kubeconfig %s: %s" % (dest, to_native(exc)), dest=dest)
        mode_ok = stat.S_IMODE(os.stat(dest).st_mode) == 0o600

    try:
        if module.params["state"] == "present":
            try:
                new = yaml.safe_load(module.params["content"] or "")
            except yaml.YAMLError as exc:
                module.fail_json(msg="content is not valid YAML: %s" % to_native(exc), dest=dest)
            result = merge(
                existing,
                new,
                name,
                server=module.params["server"] or None,
                set_current=module.params["set_current_context"],
            )
        else:
            result = remove(existing, name)
    except KubeconfigError as exc:
        module.fail_json(msg="%s: %s" % (dest, to_native(exc)), dest=dest)

    content_changed = result != existing
    changed = content_changed or (result is not None and existing is not None and not mode_ok)
    contexts = [c.get("name") for c in (result or {}).get("contexts", []) if isinstance(c, dict)]
    diff = {
        "before_header": dest,
        "after_header": dest,
        "before": _dump(redact(existing)) if existing else "",
        "after": _dump(redact(result)) if result else "",
    }

    if changed and not module.check_mode and result is not None:
        directory = os.path.dirname(dest) or "."
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        if content_changed:
            try:
                atomic_write(dest, _dump(result), 0o600)
            except Exception as exc:  # pylint: disable=broad-except
                module.fail_json(msg="cannot write %s: %s" % (dest, to_native(exc)), dest=dest)
        os.chmod(dest, 0o600)

    module.exit_json(changed=changed, dest=dest, context=name, contexts=contexts, diff=diff)


if __name__ == "__main__":
    main()
