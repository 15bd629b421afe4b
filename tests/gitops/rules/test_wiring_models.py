"""models: LiteLLM routes only to models the Ollama behind each api_base pulls (issue 13 §3)."""

from __future__ import annotations

import yaml
from rule_fixtures import Doc, findings, obj

ANN = "shai.vectorweight.com/"
GPU = "http://ollama-gpu.gpu-workloads.svc.cluster.local:11434"
CPU = "http://ollama.ai-services.svc.cluster.local:11434"


def _config(routes: list[tuple[str, str, str]], fallbacks: list[Doc] | None = None) -> Doc:
    config = {
        "model_list": [
            {"model_name": group, "litellm_params": {"model": "ollama_chat/" + model, "api_base": base}}
            for group, model, base in routes
        ],
        "router_settings": {"fallbacks": fallbacks or []},
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "litellm-config", "namespace": "ai-services"},
        "data": {"config.yaml": yaml.safe_dump(config)},
    }


def _service(
    name: str, ns: str, models: str | None, url: str | None = None, cluster_ip: str | None = None
) -> Doc:
    ann = {}
    if models is not None:
        ann[ANN + "ollama-models"] = models
    if url is not None:
        ann[ANN + "models-url"] = url
    spec: Doc = {"ports": [{"port": 11434}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "annotations": ann},
        "spec": spec,
    }


def _gpu_slice(address: str) -> Doc:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "ollama-gpu-gpu-host",
            "namespace": "gpu-workloads",
            "labels": {"kubernetes.io/service-name": "ollama-gpu"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address]}],
    }


CM_FILE = "platform/litellm/litellm.yaml"
CM = "ConfigMap ai-services/litellm-config"


def _run(*docs: Doc) -> list[str]:
    return findings(
        "models",
        *(obj(d, CM_FILE if d["kind"] == "ConfigMap" else "platform/x/x.yaml", app="litellm") for d in docs),
    )


def test_good() -> None:
    out = _run(
        _config([("chat", "llama3.1:8b", GPU), ("chat-cpu", "llama3.2:3b", CPU)], [{"chat": ["chat-cpu"]}]),
        _service(
            "ollama-gpu", "gpu-workloads", "llama3.1:8b,nomic-embed-text:latest", "http://10.0.0.20:11434"
        ),
        _gpu_slice("10.0.0.20"),
        _service(
            "ollama", "ai-services", "llama3.2:3b", "http://10.43.114.34:11434", cluster_ip="10.43.114.34"
        ),
    )
    assert out == []


def test_route_to_a_model_the_gpu_host_does_not_pull() -> None:
    """The issue's example: `chat` routes to qwen2.5:14b, akula-prime pulls llama3.1:8b."""
    out = _run(
        _config([("chat", "qwen2.5:14b", GPU)]),
        _service("ollama-gpu", "gpu-workloads", "llama3.1:8b,qwen2.5-coder:14b,nomic-embed-text:latest"),
    )
    assert out == [
        f"{CM_FILE}: {CM}: data[config.yaml].model_list[0].litellm_params.model: model group 'chat' "
        "routes to "
        "qwen2.5:14b on Service gpu-workloads/ollama-gpu, whose Ollama pulls only llama3.1:8b, "
        "nomic-embed-text:latest, qwen2.5-coder:14b [models]"
    ]


def test_cpu_fallback_pulled_by_nothing_and_manifest_on_localhost() -> None:
    out = _run(
        _config([("chat-cpu", "qwen2.5:3b", CPU)]),
        _service("ollama", "ai-services", "llama3.2:3b", "http://127.0.0.1:11434", cluster_ip="10.43.114.34"),
    )
    assert out == [
        f"{CM_FILE}: {CM}: data[config.yaml].model_list[0].litellm_params.model: model group 'chat-cpu' "
        "routes to "
        "qwen2.5:3b on Service ai-services/ollama, whose Ollama pulls only llama3.2:3b [models]",
        "platform/x/x.yaml: Service ai-services/ollama: "
        "metadata.annotations[shai.vectorweight.com/models-url]: the "
        "models manifest pulls these models through http://127.0.0.1:11434, which does not reach Service "
        "ai-services/ollama (point the target's ollama_url at the Service's ClusterIP or endpoint) [models]",
    ]


def test_route_outside_the_tree_and_unannotated_service_and_dangling_fallback() -> None:
    out = _run(
        _config(
            [("chat", "llama3.1:8b", "http://10.0.0.20:11434"), ("code", "x:1", CPU)],
            [{"chat": ["chat-cpu"]}],
        ),
        _service("ollama", "ai-services", None),
    )
    assert [line.split(": ", 3)[2] for line in out] == [
        "data[config.yaml].model_list[0].litellm_params.api_base",
        "data[config.yaml].model_list[1].litellm_params.api_base",
        "data[config.yaml].router_settings.fallbacks[0]",
    ]
    assert "is not an in-cluster Service of the tree" in out[0]
    assert "declares no pulled models" in out[1]
    assert "fallback names model group 'chat-cpu', which no model_list entry serves" in out[2]


def test_findings_name_the_application() -> None:
    from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_rules as rules
    from rule_fixtures import context

    ctx = context(
        obj(_config([("chat", "qwen2.5:14b", GPU)]), CM_FILE, app="litellm"),
        obj(_service("ollama-gpu", "gpu-workloads", "llama3.1:8b"), app="ollama-gpu"),
    )
    [finding] = rules.run(ctx, select=["models"])
    assert (finding.app, finding.obj, finding.field) == (
        "litellm",
        CM,
        "data[config.yaml].model_list[0].litellm_params.model",
    )
