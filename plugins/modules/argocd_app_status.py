#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: argocd_app_status
short_description: Read the sync and health status of ArgoCD Applications through the Kubernetes API
version_added: 0.1.0
description:
  - Lists ArgoCD C(Application) objects (C(argoproj.io/v1alpha1)) in every namespace, or in
    O(namespace), and returns for each its C(status.sync.status), C(status.health.status),
    synced revision and last operation phase.
  - Reads only. Never changes anything, so it reports C(changed=false) in every mode; an
    Application that is C(OutOfSync), C(Degraded) or C(Missing) is listed in RV(drifted).
  - Talks to the Kubernetes API with the python C(kubernetes) client (kubeconfig, else in-cluster
    service account); needs no C(argocd) CLI and no ArgoCD API token.
  - The M(vectorweight.shai.drift_report) callback turns the result into the cluster part of the
    drift report and the C(shai_argocd_app_out_of_sync) metric.
author:
  - vectorweight (@vectorweight)
requirements:
  - python C(kubernetes) library on the host running the module (usually the controller).
extends_documentation_fragment:
  - vectorweight.shai.k8s_auth
options:
  namespace:
    description: Only Applications in this namespace. Default all namespaces.
    type: str
  names:
    description: Only Applications with these names. Default all.
    type: list
    elements: str
  fail_on_drift:
    description:
      - Fail when an Application is C(OutOfSync), C(Degraded) or C(Missing). The drift playbook
        leaves this off and lets the report decide the exit code.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Reads only, nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs wherever the kubeconfig and the python C(kubernetes) library are.
notes:
  - "Run it where the kubeconfig is: a play on C(localhost) or C(delegate_to=localhost)."
seealso:
  - name: ArgoCD Application status
    description: The fields C(status.sync) and C(status.health) of an Application.
    link: https://argo-cd.readthedocs.io/en/stable/user-guide/application-specification/
"""

EXAMPLES = r"""
- name: Read every Application's sync and health status
  vectorweight.shai.argocd_app_status:
    kubeconfig: ~/.kube/config
    context: homelab
  register: argocd

- name: Fail when anything in the argocd namespace is out of sync or degraded
  vectorweight.shai.argocd_app_status:
    namespace: argocd
    fail_on_drift: true
"""

RETURN = r"""
applications:
  description: Every Application read, sorted by namespace and name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Application name.
      type: str
      sample: ollama
    namespace:
      description: Namespace of the Application object.
      type: str
      sample: argocd
    project:
      description: ArgoCD project.
      type: str
      sample: default
    sync_status:
      description: C(status.sync.status) (Synced, OutOfSync, Unknown), C(Unknown) when absent.
      type: str
      sample: Synced
    health_status:
      description: C(status.health.status) (Healthy, Progressing, Degraded, Suspended, Missing, Unknown).
      type: str
      sample: Healthy
    health_message:
      description: C(status.health.message) when set.
      type: str
      sample: ""
    revision:
      description: C(status.sync.revision).
      type: str
      sample: 3f2c1a0
    operation_phase:
      description: C(status.operationState.phase) of the last sync operation.
      type: str
      sample: Succeeded
    reconciled_at:
      description: C(status.reconciledAt).
      type: str
      sample: "2026-11-29T10:00:00Z"
    out_of_sync:
      description: Whether the sync status is C(OutOfSync).
      type: bool
      sample: false
    drift:
      description:
        - Whether the Application is C(OutOfSync), C(Degraded) or C(Missing) and was compared with
          its source (an unverified Application is never drift).
      type: bool
      sample: false
    unverified:
      description:
        - ArgoCD did not compare the Application with its source (sync C(Unknown)), or its sync
          failed only because kinds are not served whose CRDs come from an unverified Application
          (annotation C(shai.vectorweight.com/provides-crds)). Not drift; reported with the reason.
      type: bool
      sample: false
    unverified_reason:
      description: Why it is unverified (the condition message, or the unverified CRD provider).
      type: str
      sample: "needs cert-manager.io from cert-manager, which is unverified"
    sync_error:
      description: Messages of C(SyncError) conditions, joined with C(; ).
      type: str
      sample: ""
    provides_crds:
      description: API groups the Application installs CRDs for (annotation C(shai.vectorweight.com/provides-crds)).
      type: list
      elements: str
      sample: [cert-manager.io]
out_of_sync:
  description: Names (C(namespace/name)) of the Applications whose sync status is C(OutOfSync).
  returned: success
  type: list
  elements: str
  sample: [argocd/ollama]
drifted:
  description: Names (C(namespace/name)) of the Applications that drifted (RV(applications[].drift)).
  returned: success
  type: list
  elements: str
  sample: [argocd/ollama]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vectorweight.shai.plugins.module_utils.drift_argocd import list_applications
from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import (
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    AUTH_ARG_SPEC,
    KubeError,
    client_from_params,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            AUTH_ARG_SPEC,
            namespace=dict(type="str"),
            names=dict(type="list", elements="str"),
            fail_on_drift=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))
    params = module.params
    try:
        client = client_from_params(params)
        apps = list_applications(client, namespace=params["namespace"], names=params["names"])
    except KubeError as exc:
        module.fail_json(msg="cannot read ArgoCD Applications: %s" % exc)
    out_of_sync = ["%s/%s" % (a["namespace"], a["name"]) for a in apps if a["out_of_sync"]]
    drifted = ["%s/%s" % (a["namespace"], a["name"]) for a in apps if a["drift"]]
    result = dict(changed=False, applications=apps, out_of_sync=out_of_sync, drifted=drifted)
    if params["fail_on_drift"] and drifted:
        module.fail_json(msg="ArgoCD Applications drifted: %s" % ", ".join(drifted), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
