# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the modules that talk to a Kubernetes API (module_utils/k8s_client.py).

They are the modules of action group C(vectorweight.shai.k8s): one C(module_defaults) entry
C(group/vectorweight.shai.k8s) sets them for all of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig. Default C($KUBECONFIG), then C(~/.kube/config), then the in-cluster
        service account (unless O(host) is given).
      - Falls back to the environment variable E(K8S_AUTH_KUBECONFIG).
    type: path
  context:
    description:
      - Kubeconfig context. Default the kubeconfig's current context.
      - Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server (for example C(https://k3s.example.com:6443)); overrides the
        kubeconfig's. With O(host) and no O(kubeconfig)/O(context), no kubeconfig is read.
      - Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server (a service account token); overrides the kubeconfig's
        credentials. Never logged.
      - Falls back to E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
      - Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Verify the API server's certificate. Default the kubeconfig's setting (verify).
      - Falls back to E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
"""
