#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gitops_render
short_description: Render (and validate) the platform's GitOps tree from inventory variables
version_added: "0.1.0"
description:
  - Renders the Jinja2 templates of the collection's C(gitops/templates) with the defaults of
    C(gitops/values.yml) overridden by O(values) (the inventory's C(gitops_*) and C(shai_*)
    variables) into O(dest), and carries the SealedSecrets of O(secrets_dir) along.
  - Deterministic; the output directory is replaced atomically and only when its content changes.
  - With O(validate=true) (default) the result is checked against the Kubernetes schemas, the
    CRD schemas of C(gitops/crds) and the policy checks (waves vs CRDs, quotas and LimitRanges,
    requests/limits, pinned images and charts, no plaintext Secret); any finding fails the task
    and nothing is written.
  - A passing validation is kept beside O(dest) (C(<dest>.validated.json), keyed by a hash of the
    rendered files, the CRDs, the Kubernetes version, the chart sources, the helm binary and the
    validator's code); while that key is unchanged (a no-op converge, a drift check) its result is
    reported again (RV(validation=cached)) instead of validating again. Check mode reads it, never
    writes it.
  - The same code as C(shai gitops render) / C(shai gitops validate). Runs on the controller.
author:
  - vectorweight (@vectorweight)
requirements:
  - python PyYAML
  - python Jinja2
  - python jsonschema
  - python kubernetes-validate (for O(validate=true))
attributes:
  check_mode:
    support: full
    description: Renders and validates in memory and reports which files would change; writes nothing.
  diff_mode:
    support: full
    description: Unified diff of every changed file of the tree.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (C(delegate_to=localhost)) where the tree lives.
options:
  dest:
    description: Output directory (replaced as a whole).
    type: path
    required: true
  values:
    description:
      - Variables for the templates (override C(gitops/values.yml) key by key; dicts merged).
      - Must include C(shai_domain), C(shai_gpu_hosts), C(shai_k3s_api_host) and C(gitops_repo_url).
      - C(shai_gpu_hosts) is a non-empty list of C({name, address}), one per host of the inventory's
        C(gpu_workstation) group (the inventories build it in C(group_vars/all)); each host gets its
        own Services, LiteLLM deployments and NetworkPolicy egress. An empty list, or an address that
        is neither an IP address nor a host name, fails the task naming the variable and the entry.
    type: dict
    required: true
  gitops_dir:
    description:
      - Directory with C(templates/), C(values.yml), C(secrets/) and C(crds/) on the host running
        the module, normally the collection's C(gitops/) (C(playbook_dir ~ '/../gitops') in the
        collection's playbooks).
    type: path
    required: true
  secrets_dir:
    description: Directory of C(<namespace>/<name>.sealedsecret.yaml) files. Default O(gitops_dir)/secrets.
    type: path
  validate:
    description: Validate the rendered tree; fail (writing nothing) on any finding.
    type: bool
    default: true
  kube_version:
    description:
      - Kubernetes version of the core schemas and of C(helm template --kube-version).
      - Default C(gitops_kubernetes_version) of the values, else the k3s pin (C(k3s_version) of the k3s role defaults).
    type: str
  charts_dir:
    description:
      - Directory of unpacked chart sources, C(<chart>/<version>/<chart>/) (the layout of
        C(helm pull --untar --untardir <chart>/<version>)). When set, every chart Application is
        rendered with the real Helm as ArgoCD would and its objects are validated too.
      - Default C(gitops_charts_dir) of the values; unset means chart Applications are not rendered.
      - A chart whose source is missing is returned in RV(unverified) and warned about, never passed silently.
    type: path
  helm:
    description: The helm binary for O(charts_dir). Default C($SHAI_HELM), C(~/.cache/shai/bin/helm), then C(PATH).
    type: path
"""

EXAMPLES = r"""
- name: Render the GitOps tree
  vectorweight.shai.gitops_render:
    dest: "{{ playbook_dir }}/../.cache/gitops/{{ shai_environment }}"
    values: "{{ dict(__names | zip(query('ansible.builtin.vars', *__names))) }}"
    gitops_dir: "{{ playbook_dir }}/../gitops"
  vars:
    __names: "{{ query('ansible.builtin.varnames', '^(shai|gitops)_') }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dest:
  description: The output directory.
  returned: always
  type: str
files:
  description: Number of files in the rendered tree.
  returned: always
  type: int
objects:
  description: Number of Kubernetes objects validated.
  returned: when O(validate=true)
  type: int
changed_files:
  description: Files created, changed or removed.
  returned: always
  type: list
  elements: str
findings:
  description: Validation findings (file, object, field, message, check); the task fails when not empty.
  returned: on validation failure
  type: list
  elements: dict
rendered:
  description: With O(charts_dir), one entry per Application (name, wave, kind, chart, version, objects, unverified, error).
  returned: when O(validate=true) and a charts dir is set
  type: list
  elements: dict
unverified:
  description: Applications whose chart source is not in O(charts_dir) (name -> reason); their objects were not checked.
  returned: when O(validate=true) and a charts dir is set
  type: dict
validation:
  description: >-
    V(done) when the tree was validated in this run, V(cached) when the rendered files, CRDs,
    Kubernetes version, chart sources, helm binary and validator code are all unchanged since the
    last passing validation (kept beside O(dest) as C(<dest>.validated.json)), whose result is
    reported again.
  returned: when O(validate=true)
  type: str
  sample: cached
audit:
  description: Audit-mode results (severity audit, e.g. Kyverno's restricted policy); reported, never a failure.
  returned: when O(validate=true)
  type: list
  elements: dict
"""

import os
import shutil
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_validate_cache
from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules import _schemas


# The parts of a passing validation result that are reported again while its inputs are unchanged.
_KEPT = ("objects", "audit", "rendered", "unverified", "warnings")


def _validate(module, files, crd_dir, kube, charts, helm, result):
    """Validate the rendered files in a staging copy; fail the module on a finding."""
    staging = tempfile.mkdtemp(prefix="shai-gitops-validate-")
    warnings = []
    try:
        gitops.write_tree(files, os.path.join(staging, "tree"))
        count, findings, renders = gitops_helm.validate_with_charts(os.path.join(staging, "tree"), crd_dir, kube, charts, helm=helm)
        if charts:
            result["rendered"] = [r.as_dict() for r in renders]
            result["unverified"] = gitops_helm.unverified_apps(renders)
            for name, why in sorted(result["unverified"].items()):
                warnings.append("Application %s not rendered, its objects are unverified: %s" % (name, why))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result["objects"] = count
    result["audit"] = [f.as_dict() for f in findings if f.severity != "error"]  # reported, not failures
    # Rendered before anything is sealed (first run, the lab): say so, do not fail the render.
    for f in findings:
        if f.rule == "secrets-sealed":
            warnings.append(str(f))
    for text in warnings:
        module.warn(text)
    result["validation"] = "done"
    result["warnings"] = warnings
    findings = [f for f in gitops_rules.failures(findings) if f.rule != "secrets-sealed"]
    if findings:
        result.pop("warnings", None)
        module.fail_json(
            msg="%d validation finding(s); nothing written:\n%s" % (len(findings), "\n".join(str(f) for f in findings[:50])),
            findings=[f.as_dict() for f in findings],
            **result
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            values=dict(type="dict", required=True),
            gitops_dir=dict(type="path", required=True),
            secrets_dir=dict(type="path"),
            validate=dict(type="bool", default=True),
            kube_version=dict(type="str"),
            charts_dir=dict(type="path"),
            helm=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if not gitops.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if not gitops.HAS_JINJA2:
        module.fail_json(msg=missing_required_lib("Jinja2"))
    p = module.params
    base = p["gitops_dir"]
    if not os.path.isfile(os.path.join(base, "values.yml")):
        module.fail_json(msg="gitops_dir %s holds no values.yml (expected the collection's gitops/ directory)" % base)
    secrets_dir = p["secrets_dir"] or os.path.join(base, "secrets")
    dest = p["dest"]
    result = dict(changed=False, dest=dest, changed_files=[])
    try:
        values = gitops.load_values(os.path.join(base, "values.yml"), p["values"])
        files = gitops.render_tree(os.path.join(base, "templates"), values, secrets_dir)
        result["files"] = len(files)
        if p["validate"]:
            if not (_schemas.HAS_JSONSCHEMA and _schemas.HAS_KUBERNETES_VALIDATE):
                module.fail_json(msg=missing_required_lib("jsonschema and kubernetes-validate"))
            kube = p["kube_version"] or str(values.get("gitops_kubernetes_version") or gitops.k3s_version(os.path.join(base, "..")))
            charts = p["charts_dir"] or values.get("gitops_charts_dir") or None
            crd_dir = os.path.join(base, "crds")
            helm = None
            if charts:
                try:
                    helm = gitops_helm.find_helm(p["helm"])
                except gitops.GitopsError:
                    helm = None  # no key: validate_with_charts reports the missing helm itself
            key = gitops_validate_cache.inputs_key(files, crd_dir, kube, charts, helm)
            kept = gitops_validate_cache.load(dest, key)
            if kept is not None:
                # Same rendered files, CRDs, Kubernetes version, charts, helm and validator code
                # as the last passing validation: its result stands (gitops_validate_cache).
                warnings = kept.pop("warnings", [])
                result.update(kept)
                result["validation"] = "cached"
                for text in warnings:
                    module.warn(text)
            else:
                _validate(module, files, crd_dir, kube, charts, helm, result)
                if not module.check_mode:
                    gitops_validate_cache.store(dest, key, {k: v for k, v in result.items() if k in _KEPT})
                result.pop("warnings", None)
        before = gitops.read_tree(dest) if os.path.isdir(dest) else {}
        changed_files = sorted(set(k for k in set(before) | set(files) if before.get(k) != files.get(k)))
        result["changed_files"] = changed_files
        result["changed"] = bool(changed_files)
        if module._diff and changed_files:
            result["diff"] = dict(prepared=gitops.tree_diff(before, files))
        if changed_files and not module.check_mode:
            gitops.write_tree(files, dest)
    except gitops.GitopsError as exc:
        module.fail_json(msg=str(exc), **result)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="rendering into %s failed: %s" % (dest, exc), exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
