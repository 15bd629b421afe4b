"""schema: strict core and CRD schemas (unknown fields are errors), unknown API groups."""

from __future__ import annotations

from rule_fixtures import deployment, findings, obj


def test_good_deployment_has_no_finding() -> None:
    assert findings("schema", obj(deployment())) == []


def test_core_type_error_and_unknown_field() -> None:
    bad = deployment()
    bad["spec"]["replicas"] = "three"
    bad["spec"]["replica"] = 1
    out = findings("schema", obj(bad))
    assert (
        "platform/x/x.yaml: Deployment apps/web: spec.replicas: 'three' is not of type 'integer', 'null' "
        "[schema]" in out
    )
    assert any("'replica' was unexpected" in f for f in out), out


def test_crd_schema_typo() -> None:
    route = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "r", "namespace": "apps"},
        "spec": {"entrypoints": ["websecure"], "routes": []},
    }
    assert findings("schema", obj(route)) == [
        "platform/x/x.yaml: IngressRoute apps/r: spec: Additional properties are not allowed "
        "('entrypoints' was unexpected) [crd-schema]"
    ]


def test_rendered_crd_gives_its_custom_resources_a_schema() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                            },
                        }
                    },
                }
            ],
        },
    }
    meta = {"name": "w", "namespace": "apps"}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta}
    good = dict(widget, spec={"size": 1})
    bad = dict(widget, spec={"size": "big"})
    c = obj(crd, "w:widgets/crds/crd.yaml", "w", rendered=True)
    assert findings("schema", c, obj(good, "w:widgets/templates/w.yaml", "w", True)) == []
    assert findings("schema", c, obj(bad, "w:widgets/templates/w.yaml", "w", True)) == [
        "w:widgets/templates/w.yaml: Widget apps/w: spec.size: 'big' is not of type 'integer' [crd-schema]"
    ]


def test_unknown_group_and_missing_name() -> None:
    thing = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}}
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    assert findings("schema", obj(thing), obj(nameless)) == [
        "platform/x/x.yaml: Thing t: apiVersion: no schema for API group 'example.com' "
        "(add its CRD to gitops/crds) [crd-schema]",
        "platform/x/x.yaml: ConfigMap ?: metadata.name: missing [schema]",
    ]
