# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""models: every model a LiteLLM route names is pulled by the Ollama its api_base points at.

LiteLLM's config is any ConfigMap value that parses as YAML with a ``model_list``. Each Ollama
route (``ollama/`` or ``ollama_chat/``) must name an in-cluster Service (``svc.ns.svc...``) whose
``shai.vectorweight.com/ollama-models`` annotation (generated from the models manifest, ADR 0306)
lists the model. ``shai.vectorweight.com/models-url`` (where the manifest's target pulls) must
reach that same Service: its ClusterIP or DNS name, or, for a selector-less Service, one of its
endpoint addresses — never 127.0.0.1. Fallback groups must exist.

The per-host Services of the GPU workstations (``ollama-gpu-<host>``, ADR 0310) carry the pulled
models but no ``models-url``: the manifest's URL for them is templated on each host by the model
sync, not in the render. Each route is still checked against its host's Service.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit  # type: ignore[no-redef]

try:
    import yaml
except ImportError:  # pragma: no cover - the validate path requires PyYAML; importable without it
    yaml = None

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule

MODELS_ANNOTATION = "shai.vectorweight.com/ollama-models"
URL_ANNOTATION = "shai.vectorweight.com/models-url"
OLLAMA_PREFIXES = ("ollama/", "ollama_chat/")


def normalise(model):
    """An Ollama model name with its tag (``nomic-embed-text`` -> ``nomic-embed-text:latest``)."""
    return model if ":" in model.rsplit("/", 1)[-1] else model + ":latest"


def litellm_configs(ctx):
    """(ConfigMap Obj, data key, parsed config) of every LiteLLM config in the tree."""
    out = []
    if yaml is None:  # pragma: no cover
        return out
    for obj in ctx.by_kind("ConfigMap"):
        for key, text in sorted((obj.doc.get("data") or {}).items()):
            if not isinstance(text, str) or "model_list" not in text:
                continue
            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(config, dict) and isinstance(config.get("model_list"), list):
                out.append((obj, key, config))
    return out


def service_of_host(ctx, host, default_ns):
    """The Service an in-cluster host name (svc, svc.ns, svc.ns.svc[.cluster.local]) names."""
    parts = host.split(".")
    if len(parts) == 1:
        return ctx.get("Service", default_ns, parts[0])
    if len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        return ctx.get("Service", parts[1], parts[0])
    return None


def service_addresses(ctx, svc):
    """Every address that reaches this Service: its names, ClusterIP, endpoints, ExternalName."""
    ns, name = svc.namespace, svc.name
    spec = svc.doc.get("spec") or {}
    out = set(["%s.%s" % (name, ns), "%s.%s.svc" % (name, ns), "%s.%s.svc.cluster.local" % (name, ns)])
    for key in ("clusterIP", "externalName"):
        if spec.get(key) and spec.get(key) != "None":
            out.add(str(spec[key]))
    for eps in ctx.by_kind("EndpointSlice"):
        labels = eps.meta.get("labels") or {}
        if eps.namespace == ns and labels.get("kubernetes.io/service-name") == name:
            for endpoint in eps.doc.get("endpoints") or []:
                out.update(str(a) for a in endpoint.get("addresses") or [])
    return out


class Models(Rule):
    id = "models"
    description = "LiteLLM routes only to models the Ollama behind each api_base pulls"

    def check(self, ctx):
        checked = set()
        for cm, key, config in litellm_configs(ctx):
            groups = set()
            for i, entry in enumerate(config.get("model_list") or []):
                if not isinstance(entry, dict):
                    continue
                groups.add(entry.get("model_name"))
                field = "data[%s].model_list[%d]" % (key, i)
                yield from self._route(ctx, cm, field, entry, checked)
            fallbacks = (config.get("router_settings") or {}).get("fallbacks") or []
            for i, item in enumerate(fallbacks):
                for group, targets in (item or {}).items() if isinstance(item, dict) else []:
                    for target in [group] + list(targets or []):
                        if target not in groups:
                            yield cm.finding(
                                self.id,
                                "data[%s].router_settings.fallbacks[%d]" % (key, i),
                                "fallback names model group %r, which no model_list entry serves" % target,
                            )

    def _route(self, ctx, cm, field, entry, checked):
        params = entry.get("litellm_params") or {}
        model = str(params.get("model") or "")
        prefix = next((p for p in OLLAMA_PREFIXES if model.startswith(p)), None)
        if prefix is None:
            return
        wanted = normalise(model[len(prefix):])
        group = entry.get("model_name")
        base = str(params.get("api_base") or "")
        host = urlsplit(base).hostname if base else None
        if not host:
            yield cm.finding(self.id, field + ".litellm_params.api_base",
                             "model group %r (%s) has no api_base: LiteLLM would call localhost" % (group, wanted))
            return
        svc = service_of_host(ctx, host, cm.namespace)
        if svc is None:
            yield cm.finding(self.id, field + ".litellm_params.api_base",
                             "model group %r: api_base %s is not an in-cluster Service of the tree, so nothing says "
                             "what its Ollama pulls (route through the Service the models manifest annotates)"
                             % (group, base))
            return
        annotations = svc.meta.get("annotations") or {}
        if MODELS_ANNOTATION not in annotations:
            yield cm.finding(self.id, field + ".litellm_params.api_base",
                             "model group %r: %s (api_base %s) declares no pulled models (annotation %s from the "
                             "models manifest)" % (group, svc.ident, base, MODELS_ANNOTATION))
            return
        pulled = set(normalise(m.strip()) for m in str(annotations[MODELS_ANNOTATION]).split(",") if m.strip())
        if wanted not in pulled:
            yield cm.finding(self.id, field + ".litellm_params.model",
                             "model group %r routes to %s on %s, whose Ollama pulls only %s"
                             % (group, wanted, svc.ident, ", ".join(sorted(pulled)) or "nothing"))
        url = annotations.get(URL_ANNOTATION)
        if url is not None and svc.ident not in checked:
            checked.add(svc.ident)
            url_host = urlsplit(str(url)).hostname or ""
            if url_host not in service_addresses(ctx, svc):
                yield svc.finding(self.id, "metadata.annotations[%s]" % URL_ANNOTATION,
                                  "the models manifest pulls these models through %s, which does not reach %s "
                                  "(point the target's ollama_url at the Service's ClusterIP or endpoint)"
                                  % (url, svc.ident))


RULE = Models()
