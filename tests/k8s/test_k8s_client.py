"""module_utils/k8s_client.py against the real kube-apiserver (conftest ``kube_apiserver``).

kubernetes.dynamic discovery, server-side apply with field manager ``shai`` (changed only when
the stored object changes; check mode is a dry run that stores nothing), host/token/CA options.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.kube


@pytest.fixture(scope="module")
def cp(kube_apiserver: Any) -> Any:
    return kube_apiserver


@pytest.fixture()
def namespace(cp: Any) -> str:
    name = f"k8s-client-{uuid.uuid4().hex[:8]}"
    cp.create_namespace(name)
    return name


def _client(cp: Any) -> Any:
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeClient

    return KubeClient(kubeconfig=str(cp.kubeconfig))


def _configmap(namespace: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": namespace, "labels": {"app": "shai-test"}},
        "data": {"key": value},
    }


def test_server_side_apply_with_field_manager_shai(cp: Any, namespace: str) -> None:
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import FIELD_MANAGER

    client = _client(cp)
    assert client.get_object("v1", "ConfigMap", "settings", namespace) is None

    changed, before, after = client.apply(_configmap(namespace, "one"))
    assert changed and before is None and after["data"] == {"key": "one"}
    managers = {(m["manager"], m["operation"]) for m in after["metadata"]["managedFields"]}
    assert managers == {(FIELD_MANAGER, "Apply")}

    changed, before, _after = client.apply(_configmap(namespace, "one"))
    assert not changed and before is not None  # same object again: nothing stored

    # a field another manager owns is left alone (apply only claims what the manifest says)
    cp.kubectl("label", "configmap", "settings", "-n", namespace, "other=kept")
    changed, _before, after = client.apply(_configmap(namespace, "one"))
    assert not changed and after["metadata"]["labels"]["other"] == "kept"


def test_check_mode_is_a_dry_run(cp: Any, namespace: str) -> None:
    client = _client(cp)
    changed, before, after = client.apply(_configmap(namespace, "one"), check_mode=True)
    assert changed and before is None and after["data"] == {"key": "one"}
    assert client.get_object("v1", "ConfigMap", "settings", namespace) is None  # nothing created

    client.apply(_configmap(namespace, "one"))
    changed, before, after = client.apply(_configmap(namespace, "two"), check_mode=True)
    assert changed and before["data"] == {"key": "one"} and after["data"] == {"key": "two"}
    stored = client.get_object("v1", "ConfigMap", "settings", namespace)
    assert stored is not None and stored["data"] == {"key": "one"}  # the dry run stored nothing


def test_secrets_namespace_and_listing(cp: Any, namespace: str) -> None:
    client = _client(cp)
    ns = f"{namespace}-new"
    assert client.ensure_namespace(ns, check_mode=True)
    assert client.get_object("v1", "Namespace", ns) is None
    assert client.ensure_namespace(ns) and not client.ensure_namespace(ns)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "token", "namespace": ns, "labels": {"shai.test/key": "yes"}},
        "data": {"token": "c2VjcmV0"},
    }
    assert client.apply_secret(secret) == (True, None)
    changed, before = client.apply_secret(secret)
    assert not changed and before is not None and before["data"] == {"token": "c2VjcmV0"}
    assert [s["metadata"]["name"] for s in client.list_secrets(ns, "shai.test/key=yes")] == ["token"]
    assert client.list_secrets(ns, "shai.test/key=no") == []


def test_unknown_kind_and_missing_object(cp: Any, namespace: str) -> None:
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import KubeError

    client = _client(cp)
    with pytest.raises(KubeError, match=r"no example\.invalid/v1 Widget .*CRD") as exc:
        client.list_objects("example.invalid/v1", "Widget", namespace)
    assert exc.value.status == 404
    assert client.get(f"/api/v1/namespaces/{namespace}/configmaps/absent") is None
    assert client.request("GET", "/readyz") == {"_raw": "ok"}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_host_token_and_ca_options(cp: Any, namespace: str) -> None:
    """host + api_key (a real bound service-account token) + ca_cert, no kubeconfig at all."""
    from ansible_collections.vectorweight.shai.plugins.module_utils.k8s_client import (
        KubeClient,
        KubeError,
        client_from_params,
    )

    # a service account with no permission at all: every answer is a 403 that names who asked
    creds = cp.in_cluster(namespace, "nobody", cluster_role="system:public-info-viewer")
    token = (creds.sa_dir / "token").read_text()
    who = rf"system:serviceaccount:{namespace}:nobody"
    client = client_from_params({"host": cp.server, "api_key": token, "ca_cert": str(cp.pki.ca_cert)})
    with pytest.raises(KubeError, match=who) as exc:
        client.get_secret(namespace, "anything")
    assert exc.value.status == 403  # the token, not the kubeconfig's admin certificate, was used
    # the CA is checked: without it (no kubeconfig to supply one) the TLS handshake fails
    with pytest.raises(KubeError) as exc:
        KubeClient(host=cp.server, api_key=token).get_secret(namespace, "anything")
    assert exc.value.status != 403
    with pytest.raises(KubeError, match=who):
        KubeClient(host=cp.server, api_key=token, validate_certs=False).get_secret(namespace, "anything")
