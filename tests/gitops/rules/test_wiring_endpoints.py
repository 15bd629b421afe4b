"""endpoints: in-cluster URLs reach a Service port the NetworkPolicies let through; every ingress
host has a backend Service and a certificate."""

from __future__ import annotations

from rule_fixtures import Doc, deployment, findings, obj


def _app(name: str, ns: str, port: int, **container: object) -> Doc:
    doc = deployment(name, ns, ports=[{"name": "http", "containerPort": port}], **container)
    doc["spec"]["template"]["metadata"]["labels"] = {"app": name}
    return doc


def _svc(name: str, ns: str, port: int, selector: bool = True) -> Doc:
    spec: Doc = {"ports": [{"name": "http", "port": port, "targetPort": "http" if selector else port}]}
    if selector:
        spec["selector"] = {"app": name}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _policy(name: str, ns: str, spec: Doc) -> Doc:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


DENY = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
WEB_ENV = [{"name": "API", "value": "http://api.back.svc.cluster.local:4000/v1"}]


def _allow_web_to_api(port: int = 4000) -> list[Doc]:
    return [
        _policy(
            "to-api",
            "front",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "back"}}}
                        ],
                        "ports": [{"protocol": "TCP", "port": port}],
                    }
                ],
            },
        ),
        _policy(
            "from-front",
            "back",
            {
                "podSelector": {"matchLabels": {"app": "api"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "front"}}}
                        ],
                        "ports": [{"protocol": "TCP", "port": port}],
                    }
                ],
            },
        ),
    ]


def _tree(*extra: Doc, env: list[Doc] = WEB_ENV) -> list[Doc]:
    return [
        _app("web", "front", 8080, env=env),
        _app("api", "back", 4000),
        _svc("api", "back", 4000),
        _policy("default-deny", "front", DENY),
        _policy("default-deny", "back", DENY),
        *extra,
    ]


def _run(docs: list[Doc]) -> list[str]:
    return findings("endpoints", *(obj(d, f"platform/{d['metadata']['name']}.yaml") for d in docs))


def test_good() -> None:
    assert _run(_tree(*_allow_web_to_api())) == []


def test_policy_blocks_the_flow() -> None:
    out = _run(_tree(_allow_web_to_api()[0]))  # egress allowed, the receiver's ingress is not
    assert out == [
        "platform/web.yaml: Deployment front/web: spec.template.spec.containers[0].env[0].value: "
        "http://api.back.svc.cluster.local:4000: the NetworkPolicies block Deployment front/web -> "
        "Deployment "
        "back/api port 4000 (ingress): no ingress rule of the NetworkPolicies of back (default-deny) "
        "allows it "
        "[endpoints]"
    ]


def test_missing_service_and_port() -> None:
    env = [
        {"name": "A", "value": "http://nope.back.svc:80"},
        {"name": "B", "value": "redis://:x@api.back.svc.cluster.local:6379"},
    ]
    out = _run(_tree(*_allow_web_to_api(), env=env))
    assert [line.split(": ", 3)[2:] for line in out] == [
        [
            "spec.template.spec.containers[0].env[0].value",
            "http://nope.back.svc:80: Service back/nope is not in the tree [endpoints]",
        ],
        [
            "spec.template.spec.containers[0].env[1].value",
            "redis://:x@api.back.svc.cluster.local:6379: Service back/api has no port 6379 (ports: 4000) "
            "[endpoints]",
        ],
    ]


def test_selectorless_service_checked_against_its_endpoint_address() -> None:
    gpu = _svc("gpu", "back", 11434, selector=False)
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "gpu-host",
            "namespace": "back",
            "labels": {"kubernetes.io/service-name": "gpu"},
        },
        "endpoints": [{"addresses": ["10.0.0.20"]}],
    }
    env = [{"name": "OLLAMA", "value": "http://gpu.back.svc.cluster.local:11434"}]
    out = _run(_tree(gpu, slice_, *_allow_web_to_api(), env=env))
    assert len(out) == 1 and "cannot reach 10.0.0.20 port 11434: no egress rule" in out[0]
    allow = _policy(
        "gpu",
        "front",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"ipBlock": {"cidr": "10.0.0.20/32"}}], "ports": [{"protocol": "TCP", "port": 11434}]}
            ],
        },
    )
    assert _run(_tree(gpu, slice_, allow, *_allow_web_to_api(), env=env)) == []


def test_ingress_route_host_needs_a_backend_and_a_certificate() -> None:
    route = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "chat", "namespace": "back"},
        "spec": {
            "routes": [
                {
                    "kind": "Rule",
                    "match": "Host(`chat.example.test`)",
                    "services": [{"name": "gone", "port": 80}],
                }
            ],
            "tls": {"secretName": "chat-tls"},
        },
    }
    cert = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "chat-tls", "namespace": "back"},
        "spec": {"secretName": "chat-tls", "dnsNames": ["other.example.test"]},
    }
    out = _run([route, cert])
    assert out == [
        "platform/chat.yaml: IngressRoute back/chat: spec.tls.secretName: host chat.example.test is not "
        "among the "
        "dnsNames of the Certificate for chat-tls (other.example.test) [endpoints]",
        "platform/chat.yaml: IngressRoute back/chat: spec.routes[0].services[0]: backend Service "
        "back/gone is not in "
        "the tree [endpoints]",
    ]


def test_argocd_repo_url_reachable_from_the_repo_server() -> None:
    from rule_fixtures import application

    app = application("apps", path="apps", dest="argocd")
    app["spec"]["source"]["repoURL"] = "git://10.0.0.10/platform.git"
    deny = _policy("default-deny", "argocd", DENY)
    out = findings("endpoints", obj(app, "bootstrap/root.yaml"), obj(deny))
    assert out == [
        "bootstrap/root.yaml: Application argocd/apps: spec.source.repoURL: ArgoCD's repo-server cannot "
        "reach 10.0.0.10:9418: no egress rule of the NetworkPolicies of argocd (default-deny) allows it "
        "[endpoints]"
    ]
    egress = {"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 9418}]}
    git = _policy("git", "argocd", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [egress]})
    assert findings("endpoints", obj(app), obj(deny), obj(git)) == []
