# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deliberately small Kubernetes client for shai's cluster-facing modules and CLIs.

Objects go in and come out as plain dicts (the JSON the API server speaks), never as
kubernetes-client model classes.  Authentication follows kubernetes.core: an explicit
kubeconfig path and context, else ``$KUBECONFIG`` / ``~/.kube/config``, else in-cluster.

API (stable; other areas import it)::

    client = KubeClient(kubeconfig=None, context=None)
    client.get(path)                               -> dict | None (404)
    client.request(method, path, body=None)        -> dict
    client.get_secret(namespace, name)             -> dict | None
    client.list_secrets(namespace, label_selector) -> list[dict]
    client.apply_secret(manifest, check_mode=False)-> (changed: bool, before: dict | None)
    client.ensure_namespace(name, check_mode=False)-> changed: bool
    client.controller_cert(namespace="kube-system", service="sealed-secrets-controller",
                           port="")               -> str (PEM via the API service proxy)

Errors raise ``KubeError`` with a message that names the object and the HTTP status.
The python ``kubernetes`` library is imported lazily and guarded (``HAS_KUBERNETES``).
"""

from __future__ import annotations

import json

try:
    from kubernetes import client as _k8s_client
    from kubernetes import config as _k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - sanity only
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = _exc

    class ApiException(Exception):  # type: ignore[no-redef]
        status = 0


class KubeError(Exception):
    """A Kubernetes API call failed; the message is safe to show (no object data)."""


# Fields the API server owns; ignored when comparing desired and current objects.
_SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink")


class KubeClient:
    def __init__(self, kubeconfig=None, context=None, api_client=None):
        if api_client is not None:
            self.api = api_client
            return
        if not HAS_KUBERNETES:
            raise KubeError("the python 'kubernetes' library is required: %s" % KUBERNETES_IMPORT_ERROR)
        configuration = _k8s_client.Configuration()
        try:
            _k8s_config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
        except Exception as exc:
            if kubeconfig:
                raise KubeError("cannot load kubeconfig %s: %s" % (kubeconfig, exc))
            try:
                _k8s_config.load_incluster_config(client_configuration=configuration)
            except Exception:
                raise KubeError("no kubeconfig found and not running in a cluster: %s" % exc)
        self.api = _k8s_client.ApiClient(configuration)

    # -- raw access -------------------------------------------------------------------

    def request(self, method, path, body=None, query=None, content_type="application/json"):
        """Call the API; returns the decoded JSON body (or {"_raw": text} for non-JSON)."""
        headers = {"Accept": "application/json, */*"}
        if body is not None:
            headers["Content-Type"] = content_type
        query_params = list((query or {}).items())
        try:
            if hasattr(self.api, "param_serialize"):
                # kubernetes >= 32 (new generator): serialize, call, check the status ourselves
                m, url, hdrs, ser_body, post = self.api.param_serialize(
                    method=method,
                    resource_path=path,
                    query_params=query_params,
                    header_params=headers,
                    body=body,
                    auth_settings=["BearerToken"],
                )
                resp = self.api.call_api(m, url, header_params=hdrs, body=ser_body, post_params=post)
                data = resp.read()
                status = resp.status
            else:  # older clients raise ApiException on non-2xx
                resp = self.api.call_api(
                    path,
                    method,
                    query_params=query_params,
                    header_params=headers,
                    body=body,
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _return_http_data_only=True,
                )
                data = resp.data
                status = resp.status
        except ApiException as exc:
            raise KubeError("%s %s: HTTP %s %s" % (method, path, exc.status, _reason(exc.body, exc.reason)))
        except Exception as exc:
            raise KubeError("%s %s: %s" % (method, path, exc))
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
        if not 200 <= int(status) < 300:
            raise KubeError("%s %s: HTTP %s %s" % (method, path, status, _reason(text, "")))
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return {"_raw": text}

    def get(self, path):
        try:
            return self.request("GET", path)
        except KubeError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise

    # -- secrets ----------------------------------------------------------------------

    def get_secret(self, namespace, name):
        return self.get("/api/v1/namespaces/%s/secrets/%s" % (namespace, name))

    def list_secrets(self, namespace, label_selector=None):
        query = {"labelSelector": label_selector} if label_selector else None
        doc = self.request("GET", "/api/v1/namespaces/%s/secrets" % namespace, query=query)
        return list(doc.get("items") or [])

    def apply_secret(self, manifest, check_mode=False):
        """Create the Secret or replace data/type/labels/annotations when they differ.

        Returns (changed, before) where ``before`` is the current object or None.
        """
        meta = manifest.get("metadata") or {}
        namespace, name = meta.get("namespace"), meta.get("name")
        if not namespace or not name:
            raise KubeError("a Secret manifest needs metadata.namespace and metadata.name")
        before = self.get_secret(namespace, name)
        if before is None:
            if not check_mode:
                self.request("POST", "/api/v1/namespaces/%s/secrets" % namespace, body=manifest)
            return True, None
        if not secret_differs(before, manifest):
            return False, before
        if not check_mode:
            desired = json.loads(json.dumps(manifest))
            desired.setdefault("metadata", {})["resourceVersion"] = before["metadata"].get("resourceVersion")
            self.request("PUT", "/api/v1/namespaces/%s/secrets/%s" % (namespace, name), body=desired)
        return True, before

    def ensure_namespace(self, name, check_mode=False):
        if self.get("/api/v1/namespaces/%s" % name) is not None:
            return False
        if not check_mode:
            self.request(
                "POST",
                "/api/v1/namespaces",
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
        return True

    # -- sealed-secrets controller ----------------------------------------------------

    def controller_cert(self, namespace="kube-system", service="sealed-secrets-controller", port=""):
        """The controller's public certificate through the API service proxy (like kubeseal --fetch-cert)."""
        path = "/api/v1/namespaces/%s/services/http:%s:%s/proxy/v1/cert.pem" % (namespace, service, port)
        doc = self.request("GET", path)
        text = doc.get("_raw", "") if isinstance(doc, dict) else ""
        if "BEGIN CERTIFICATE" not in text:
            raise KubeError("%s did not return a PEM certificate" % path)
        return text


def secret_differs(current, desired):
    """True when data/stringData/type/labels/annotations of ``desired`` are not all in ``current``."""
    cur_meta = current.get("metadata") or {}
    des_meta = desired.get("metadata") or {}
    if (current.get("type") or "Opaque") != (desired.get("type") or "Opaque"):
        return True
    if (current.get("data") or {}) != (desired.get("data") or {}):
        return True
    for field in ("labels", "annotations"):
        want = des_meta.get(field) or {}
        have = cur_meta.get(field) or {}
        if any(have.get(k) != v for k, v in want.items()):
            return True
    return False


def _reason(body, default):
    try:
        return json.loads(body).get("message", default)
    except Exception:
        return default or ""
