"""Chart Applications rendered by the real helm as ArgoCD would (gitops_helm, `validate --charts`).

A tiny chart written by the test covers the invocation (release name, namespace, values,
valuesObject over values, skipCrds, parameters, api-versions), the namespace defaulting, the cache
and the findings on rendered objects; the homelab tree with the upstream chart sources
(SHAI_SHARED_CHARTS) covers the real thing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_helm as gh
from gitops_helpers import REPO
from gitops_sealed import add_sealed_secrets
from typer.testing import CliRunner

from shai.gitops import core
from shai.gitops.cli import app

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 1.0.0\n",
    "values.yaml": "image: nginx:1.27.0\nreplicas: 1\n",
    "crds/widget.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
""",
    "templates/deploy.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: tiny}}
  template:
    metadata: {labels: {app: tiny}}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {cpu: 100m, memory: 32Mi}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: 1}
{{- if .Capabilities.APIVersions.Has "other.example.com/v1" }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: seen-other, namespace: {{ .Release.Namespace }}}
{{- end }}
""",
    "templates/test.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations: {helm.sh/hook: test}
spec:
  containers: [{name: t, image: busybox}]
""",
}


SHAI_CACHE = os.environ.get("SHAI_CACHE")  # as the session started, before any fixture
WAVE = "argocd.argoproj.io/sync-wave"
REPO_URL = "https://charts.example"


def _chart(charts: Path) -> Path:
    root = charts / "tiny" / "1.0.0" / "tiny"
    for rel, text in CHART.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _app(name: str, chart: str = "tiny", version: str = "1.0.0", **helm: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "annotations": {WAVE: "2"}},
        "spec": {
            "project": "default",
            "destination": {"namespace": "apps", "server": "https://kubernetes.default.svc"},
            "source": {"repoURL": REPO_URL, "chart": chart, "targetRevision": version, "helm": helm},
        },
    }


def _tree(tmp: Path, *apps: dict[str, Any]) -> Path:
    tree = tmp / "tree"
    (tree / "apps").mkdir(parents=True)
    for a in apps:
        (tree / "apps" / f"{a['metadata']['name']}.yaml").write_text(yaml.safe_dump(a))
    return tree


@pytest.fixture
def helm(peer: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    binary = str(peer("helm"))
    monkeypatch.setenv("SHAI_CACHE", str(tmp_path / "cache"))  # a cold render cache per test
    return binary


def _render(tree: Path, charts: Path, helm: str, **kw: Any) -> dict[str, gh.AppRender]:
    return {r.name: r for r in gh.expand_tree(tree, charts, "v1.37.0+k3s1", helm=helm, **kw)}


def test_template_args_mirror_argocd() -> None:
    args = gh.template_args(
        "rel",
        "/c/x",
        "ns",
        "1.37",
        ["b/v1", "a/v1/K"],
        {
            "skipCrds": True,
            "skipTests": True,
            "valueFiles": ["v.yaml"],
            "parameters": [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "forceString": True}],
        },
    )
    assert args == [
        "template", "rel", "/c/x", "--namespace", "ns", "--kube-version", "1.37",
        "--api-versions", "a/v1/K", "--api-versions", "b/v1", "--skip-tests",
        "-f", "/c/x/v.yaml", "--set", "a=1", "--set-string", "b=2",
    ]  # fmt: skip
    assert gh.helm_values_text({"values": "a: 1\n", "valuesObject": {"b": 2}}) == "b: 2\n"
    assert gh.helm_values_text({"values": "a: 1\n"}) == "a: 1\n"


def test_render_like_argocd(tmp_path: Path, helm: str) -> None:
    charts = tmp_path / "charts"
    _chart(charts)
    tree = _tree(
        tmp_path,
        _app("one", values="replicas: 5\n", valuesObject={"replicas": 2}),
        _app("two", releaseName="custom", skipCrds=True),
    )
    out = _render(tree, charts, helm)
    one, two = out["one"], out["two"]
    assert (one.kind, one.wave, one.namespace, one.unverified, one.error) == ("chart", 2, "apps", None, None)
    idents = sorted(o.ident for o in one.objects)
    # CRD included, test hook dropped, namespace defaulted for namespaced kinds (the CRD's kind too)
    assert idents == ["CustomResourceDefinition widgets.example.com", "Deployment apps/one", "Widget apps/w"]
    deploy = next(o for o in one.objects if o.kind == "Deployment")
    assert deploy.doc["spec"]["replicas"] == 2  # valuesObject wins over values
    assert (deploy.app, deploy.rendered, deploy.file) == ("one", True, "one:tiny/templates/deploy.yaml")
    assert sorted(o.ident for o in two.objects) == ["Deployment apps/custom", "Widget apps/w"]


def test_api_versions_and_cache(tmp_path: Path, helm: str) -> None:
    charts = tmp_path / "charts"
    _chart(charts)
    tree = _tree(tmp_path, _app("one"))
    cold = _render(tree, charts, helm)["one"]
    assert not cold.cached and "ConfigMap apps/seen-other" not in [o.ident for o in cold.objects]
    seen = _render(tree, charts, helm, api_versions=["other.example.com/v1"])["one"]
    assert "ConfigMap apps/seen-other" in [o.ident for o in seen.objects]
    warm = _render(tree, charts, helm)["one"]
    assert warm.cached and [o.doc for o in warm.objects] == [o.doc for o in cold.objects]


def test_missing_chart_is_unverified_and_helm_errors_are_findings(tmp_path: Path, helm: str) -> None:
    charts = tmp_path / "charts"
    _chart(charts)
    gone = _app("gone", chart="gitlab", version="9.3.2")
    tree = _tree(tmp_path, gone, _app("bad", values="replicas: [1\n"))
    out = _render(tree, charts, helm)
    assert out["gone"].unverified == f"no chart source for gitlab 9.3.2 in {charts}"
    assert out["gone"].objects == [] and out["bad"].error and not out["bad"].objects
    _count, findings, _renders = gh.validate_with_charts(tree, None, "1.37", charts, helm=helm, select=[])
    assert [(f.rule, f.file, f.obj, f.field, f.app) for f in findings] == [
        ("helm-render", "apps/bad.yaml", "Application argocd/bad", "spec.source", "bad")
    ]


def test_rendered_objects_are_validated_naming_app_object_field(tmp_path: Path, helm: str) -> None:
    charts = tmp_path / "charts"
    _chart(charts)
    tree = _tree(tmp_path, _app("one", valuesObject={"image": "nginx:latest", "replicas": "many"}))
    _count, findings, _renders = gh.validate_with_charts(
        tree, core.Layout.default().crds, "1.37", charts, helm=helm, select=["schema", "pinned-images"]
    )
    assert [str(f) for f in findings] == [
        "one:tiny/templates/deploy.yaml: Deployment apps/one: spec.replicas: 'many' is not of type "
        "'integer', 'null' [schema]",
        "one:tiny/templates/deploy.yaml: Deployment apps/one: spec.template.spec.containers[0].image: "
        "container web: image 'nginx:latest' is not pinned (tag or digest, never latest) [pinned-images]",
    ]
    assert {f.app for f in findings} == {"one"}


# The lab's hosts.yml is written by `shai lab up` (git-ignored): the same shape, lab addresses.
LAB_HOSTS = """all:
  children:
    k3s_cluster:
      children:
        k3s_server: {hosts: {homelab: {ansible_host: 10.213.4.10}}}
        k3s_agent: {hosts: {}}
    gpu_workstation: {hosts: {akula-prime: {ansible_host: 10.213.4.11}}}
  vars: {shai_lab_gateway: 10.213.4.1, shai_lab_mirror_url: "http://10.213.4.1:18080"}
"""


def _inventory(name: str, tmp_path: Path) -> Path:
    if name == "homelab":
        return REPO / "inventories" / "homelab"
    inv = tmp_path / "inventory"
    shutil.copytree(REPO / "inventories" / name, inv, ignore=shutil.ignore_patterns("hosts.yml"))
    (inv / "hosts.yml").write_text(LAB_HOSTS)
    return inv


@pytest.mark.slow
@pytest.mark.parametrize("inventory", ["homelab", "lab"])
def test_inventory_tree_with_the_upstream_charts(
    tmp_path: Path, helm: str, layout: core.Layout, monkeypatch: pytest.MonkeyPatch, inventory: str
) -> None:
    shared = os.environ.get("SHAI_SHARED_CHARTS")
    if not shared or not Path(shared, "index.json").is_file():
        pytest.skip("SHAI_SHARED_CHARTS (the upstream chart sources) is not set")
    # the shared render cache (not the fixture's cold one): warm runs are fast
    if SHAI_CACHE:
        monkeypatch.setenv("SHAI_CACHE", SHAI_CACHE)
    else:
        monkeypatch.delenv("SHAI_CACHE")
    tree = tmp_path / "tree"
    values = core.load_values(layout, core.inventory_vars(_inventory(inventory, tmp_path)))
    core.write(core.render(layout, values), tree)
    assert add_sealed_secrets(tree) > 0  # the catalog's SealedSecrets, as `shai-secrets seal` writes them
    args = ["validate", str(tree), "--charts", shared, "--json"]
    res = CliRunner().invoke(app, args, env={"SHAI_HELM": helm})
    report = json.loads(res.stdout)
    rendered = {r["name"]: r for r in report["rendered"]}
    assert sorted(report["unverified"]) == ["gitlab", "gitlab-runners"], report["unverified"]
    ok = sorted(n for n, r in rendered.items() if not r["unverified"] and not r["error"] and r["objects"])
    assert len({rendered[n]["chart"] for n in ok}) == 14, ok  # every chart with a source here
    for f in report["findings"]:
        assert f["file"] and f["object"] and f["rule"], f
    assert report["findings"] == [] and res.exit_code == 0, report["findings"]  # issue 13: done when


def test_cli_names_unverified_apps_and_refuses_to_check_nothing(tmp_path: Path, helm: str) -> None:
    charts = tmp_path / "charts"
    _chart(charts)
    tree = _tree(tmp_path, _app("one"), _app("gone", chart="gitlab", version="9.3.2"))
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(tree), "--charts", str(charts)], env={"SHAI_HELM": helm})
    assert f"unverified: Application gone: no chart source for gitlab 9.3.2 in {charts}" in res.output
    assert "tiny" in res.output and res.exit_code == 1  # the bare Applications have findings
    args = ["validate", str(tree), "--charts", str(charts), "--json"]
    report = json.loads(runner.invoke(app, args, env={"SHAI_HELM": helm}).stdout)
    assert report["unverified"] == {"gone": f"no chart source for gitlab 9.3.2 in {charts}"}
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["validate", str(empty)])
    assert res.exit_code == 1 and "nothing checked" in res.output


def test_module_reports_unverified_charts(tmp_path: Path, helm: str) -> None:
    """The Ansible path: gitops_charts_dir set in the inventory variables -> gitops_render renders
    the chart Applications; with no chart source there, every one is unverified, by name."""
    from gitops_helpers import HERE, INVENTORY

    charts = tmp_path / "charts"
    charts.mkdir()
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0"}
    env["SHAI_HELM"] = helm
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(INVENTORY), "-c", "local"]
    argv += ["-e", f"tree_dir={tmp_path / 'tree'}", "-e", f"gitops_charts_dir={charts}"]
    argv.append(str(HERE / "playbooks" / "render_charts.yml"))
    res = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    line = next(ln for ln in res.stdout.splitlines() if "RESULT unverified=" in ln)
    unverified = line.split("RESULT unverified=", 1)[1].split(" ")[0].split(",")
    assert {"cert-manager", "argocd", "gitlab", "traefik"} <= set(unverified), line
    warning = "not rendered, its objects are unverified: no chart source for cert-manager"
    assert warning in res.stdout + res.stderr


def test_without_a_charts_dir_every_chart_is_unverified(tmp_path: Path) -> None:
    """No helm needed: nothing is rendered, and every chart Application says so."""
    tree = _tree(tmp_path, _app("one"))
    (one,) = gh.expand_tree(tree, None, "1.37")
    assert (one.kind, one.objects) == ("chart", [])
    assert one.unverified == "no charts directory given: tiny 1.0.0 not rendered"
