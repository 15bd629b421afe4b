# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes client of shai's cluster-facing modules and CLIs, on ``kubernetes.dynamic``.

Objects go in and come out as plain dicts (the JSON the API server speaks), never as
kubernetes-client model classes. Resources are found by ``apiVersion`` + ``kind`` through the
``DynamicClient``'s discovery, and every write is a **server-side apply** with field manager
``shai`` (check mode: the same apply with ``dryRun=All``, so what is reported is what the API
server would store). Connection follows kubernetes.core: O(host)/O(api_key)/O(ca_cert)/
O(validate_certs) when given (they override the kubeconfig), else an explicit kubeconfig path
and context, else ``$KUBECONFIG`` / ``~/.kube/config``, else in-cluster.

API (stable; other areas import it)::

    client = KubeClient(kubeconfig=None, context=None, host=None, api_key=None, ca_cert=None,
                        validate_certs=None)
    client = client_from_params(module.params)      # the AUTH_ARG_SPEC options of a module
    client.dynamic                                  -> kubernetes.dynamic.DynamicClient
    client.get_object(api_version, kind, name, namespace=None)           -> dict | None
    client.list_objects(api_version, kind, namespace=None, label_selector=None) -> list[dict]
    client.apply(manifest, check_mode=False)        -> (changed, before: dict | None, after: dict)
    client.ensure_namespace(name, check_mode=False) -> changed: bool
    client.get_secret(namespace, name)              -> dict | None
    client.list_secrets(namespace, label_selector)  -> list[dict]
    client.apply_secret(manifest, check_mode=False) -> (changed: bool, before: dict | None)
    client.request(method, path, body=None, query=None) -> dict ({"_raw": text} for non-JSON)
    client.get(path)                                -> dict | None (404)
    client.controller_cert(namespace="kube-system", service="sealed-secrets-controller",
                           port="")                -> str (PEM via the API service proxy)

Errors raise ``KubeError`` (a ShaiError) with a message that names the object and the HTTP
status and carries ``.status``. The python ``kubernetes`` library is imported lazily and
guarded (``HAS_KUBERNETES``).
"""

from __future__ import annotations

import copy
import json

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

try:
    from ansible.module_utils.basic import env_fallback
except ImportError:  # pragma: no cover - the CLI always has ansible-core
    env_fallback = None

try:
    from kubernetes import client as _k8s_client
    from kubernetes import config as _k8s_config
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - sanity only
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = _exc

    class ApiException(Exception):  # type: ignore[no-redef]
        status = 0

    class DynamicApiError(ApiException):  # type: ignore[no-redef]
        pass

    class ResourceNotFoundError(Exception):  # type: ignore[no-redef]
        pass


FIELD_MANAGER = "shai"

# Fields the API server owns; ignored when comparing an object before and after an apply.
_SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink")


def _fallback(*names):
    return (env_fallback, list(names)) if env_fallback else None


# The connection options every cluster-facing module takes (doc fragment vectorweight.shai.k8s_auth;
# the modules of action group vectorweight.shai.k8s share them through module_defaults).
AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="path", fallback=_fallback("K8S_AUTH_KUBECONFIG")),
    context=dict(type="str", fallback=_fallback("K8S_AUTH_CONTEXT")),
    host=dict(type="str", fallback=_fallback("K8S_AUTH_HOST")),
    api_key=dict(type="str", no_log=True, fallback=_fallback("K8S_AUTH_API_KEY")),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=_fallback("K8S_AUTH_SSL_CA_CERT")),
    validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=_fallback("K8S_AUTH_VERIFY_SSL")),
)
for _spec in AUTH_ARG_SPEC.values():
    if _spec.get("fallback") is None:
        _spec.pop("fallback", None)


class KubeError(ShaiError):
    """A Kubernetes API call failed; the message is safe to show (no object data)."""

    def __init__(self, msg, status=0):
        super(KubeError, self).__init__(msg)
        self.status = status


def client_from_params(params):
    """A KubeClient from a module's (or CLI's) AUTH_ARG_SPEC options."""
    return KubeClient(**dict((k, params.get(k)) for k in AUTH_ARG_SPEC))


class KubeClient:
    def __init__(self, kubeconfig=None, context=None, host=None, api_key=None, ca_cert=None,
                 validate_certs=None, api_client=None):
        self._dynamic = None
        if api_client is not None:
            self.api = api_client
            return
        if not HAS_KUBERNETES:
            raise KubeError("the python 'kubernetes' library is required: %s" % KUBERNETES_IMPORT_ERROR)
        configuration = _k8s_client.Configuration()
        if kubeconfig or context or not host:
            _load_config(configuration, kubeconfig, context, explicit=bool(kubeconfig or context))
        if host:
            configuration.host = host.rstrip("/")
        if api_key:
            configuration.api_key = {"authorization": "Bearer %s" % api_key}
        if ca_cert:
            configuration.ssl_ca_cert = ca_cert
        if validate_certs is not None:
            configuration.verify_ssl = bool(validate_certs)
        self.api = _k8s_client.ApiClient(configuration)

    @property
    def dynamic(self):
        """The kubernetes.dynamic.DynamicClient (discovery happens on first use)."""
        if self._dynamic is None:
            self._dynamic = _call("API discovery at %s" % self.api.configuration.host,
                                  lambda: DynamicClient(self.api))
        return self._dynamic

    # -- typed access through discovery ------------------------------------------------

    def resource(self, api_version, kind):
        try:
            return _call("discover %s %s" % (api_version, kind),
                         lambda: self.dynamic.resources.get(api_version=api_version, kind=kind))
        except ResourceNotFoundError:
            raise KubeError("the API server has no %s %s (is its CRD installed?)" % (api_version, kind), 404)

    def get_object(self, api_version, kind, name, namespace=None):
        res = self.resource(api_version, kind)
        obj = _call("get %s %s" % (kind, _ref(namespace, name)),
                    lambda: self.dynamic.get(res, name=name, namespace=namespace), missing_ok=True)
        return None if obj is None else obj.to_dict()

    def list_objects(self, api_version, kind, namespace=None, label_selector=None):
        res = self.resource(api_version, kind)
        items, cont = [], None
        while True:
            page = _call("list %s in %s" % (kind, namespace or "all namespaces"),
                         lambda: self.dynamic.get(res, namespace=namespace, label_selector=label_selector,
                                                  limit=500, _continue=cont)).to_dict()
            items.extend(page.get("items") or [])
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                return items

    def apply(self, manifest, check_mode=False):
        """Server-side apply of ``manifest`` (field manager ``shai``, conflicts forced).

        Returns (changed, before, after): ``before`` is the object before (None when it did not
        exist), ``after`` what the API server stored (check mode: what it would store).
        """
        meta = manifest.get("metadata") or {}
        api_version, kind, name = manifest.get("apiVersion"), manifest.get("kind"), meta.get("name")
        if not (api_version and kind and name):
            raise KubeError("a manifest needs apiVersion, kind and metadata.name")
        namespace = meta.get("namespace")
        res = self.resource(api_version, kind)
        if res.namespaced and not namespace:
            raise KubeError("%s %s needs metadata.namespace" % (kind, name))
        before = self.get_object(api_version, kind, name, namespace if res.namespaced else None)
        if check_mode and before is None:
            # nothing to compare with; a dry run would also fail when the namespace is still missing
            return True, None, copy.deepcopy(manifest)
        after = _call("apply %s %s" % (kind, _ref(namespace, name)), lambda: self.dynamic.server_side_apply(
            res, body=manifest, name=name, namespace=namespace if res.namespaced else None,
            field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All" if check_mode else None,
        )).to_dict()
        return before is None or _comparable(before) != _comparable(after), before, after

    def ensure_namespace(self, name, check_mode=False):
        if self.get_object("v1", "Namespace", name) is not None:
            return False
        if not check_mode:
            self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        return True

    # -- raw access (paths discovery does not describe: service proxy, /readyz) --------

    def request(self, method, path, body=None, query=None, content_type="application/json"):
        """Call the API; returns the decoded JSON body (or {"_raw": text} for non-JSON)."""
        resp = _call("%s %s" % (method, path), lambda: self.dynamic.request(
            method, path, body=body, query_params=list((query or {}).items()),
            content_type=content_type, header_params={"Accept": "application/json, */*"},
            serialize=False,
        ))
        data = resp.data
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return {"_raw": text}

    def get(self, path):
        try:
            return self.request("GET", path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    # -- secrets ----------------------------------------------------------------------

    def get_secret(self, namespace, name):
        return self.get_object("v1", "Secret", name, namespace)

    def list_secrets(self, namespace, label_selector=None):
        return self.list_objects("v1", "Secret", namespace, label_selector)

    def apply_secret(self, manifest, check_mode=False):
        """Server-side apply of a Secret. Returns (changed, before) where ``before`` is the
        current object or None."""
        meta = manifest.get("metadata") or {}
        if not meta.get("namespace") or not meta.get("name"):
            raise KubeError("a Secret manifest needs metadata.namespace and metadata.name")
        desired = dict(manifest, apiVersion=manifest.get("apiVersion") or "v1", kind="Secret")
        changed, before, _after = self.apply(desired, check_mode=check_mode)
        return changed, before

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


def _load_config(configuration, kubeconfig, context, explicit):
    try:
        _k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    except Exception as exc:
        if explicit:
            raise KubeError("cannot load kubeconfig %s%s: %s" % (
                kubeconfig or "($KUBECONFIG or ~/.kube/config)", " context %s" % context if context else "", exc))
        try:
            _k8s_config.load_incluster_config(client_configuration=configuration)
        except Exception:
            raise KubeError("no kubeconfig found and not running in a cluster: %s" % exc)


def _call(what, call, missing_ok=False):
    """Run one API call; every failure becomes a KubeError naming ``what`` (404 -> None if asked)."""
    try:
        return call()
    except (DynamicApiError, ApiException) as exc:
        if missing_ok and _status(exc) == 404:
            return None
        raise KubeError("%s: %s" % (what, _describe(exc)), _status(exc))
    except (KubeError, ResourceNotFoundError):
        raise
    except Exception as exc:
        # urllib3 wraps TLS/connection problems; its reason is the useful part
        raise KubeError("%s: %s" % (what, getattr(exc, "reason", None) or exc))


def _comparable(obj):
    out = copy.deepcopy(obj or {})
    meta = out.get("metadata") or {}
    for field in _SERVER_FIELDS:
        meta.pop(field, None)
    return out


def _ref(namespace, name):
    return "%s/%s" % (namespace, name) if namespace else name


def _status(exc):
    try:
        return int(getattr(exc, "status", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _describe(exc):
    """'HTTP <status> <message>' from an API exception, without the response headers."""
    body = getattr(exc, "body", None)
    message = getattr(exc, "reason", "") or ""
    if body:
        try:
            message = json.loads(body).get("message") or message
        except (TypeError, ValueError, AttributeError):
            pass
    return ("HTTP %s %s" % (_status(exc), message)).strip()
