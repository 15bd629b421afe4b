"""pinned-images: a tag or digest on every container image, never latest."""

from __future__ import annotations

import pytest
from rule_fixtures import deployment, findings, obj


@pytest.mark.parametrize("image", ["nginx:1.27.0", "ghcr.io/a/b@sha256:" + "0" * 64, "reg:5000/a/b:1"])
def test_good(image: str) -> None:
    assert findings("pinned-images", obj(deployment(image=image))) == []


@pytest.mark.parametrize("image", ["nginx", "nginx:latest", "reg:5000/a/b", ""])
def test_bad(image: str) -> None:
    assert findings("pinned-images", obj(deployment(image=image))) == [
        "platform/x/x.yaml: Deployment apps/web: spec.template.spec.containers[0].image: "
        f"container web: image {image!r} is not pinned (tag or digest, never latest) [pinned-images]"
    ]


def test_cronjob_init_container_of_a_chart() -> None:
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c", "namespace": "apps"},
        "spec": {
            "schedule": "@daily",
            "jobTemplate": {
                "spec": {"template": {"spec": {"initContainers": [{"name": "i", "image": "busybox"}]}}}
            },
        },
    }
    out = findings("pinned-images", obj(cron, "c:chart/templates/cron.yaml", "c", rendered=True))
    assert out == [
        "c:chart/templates/cron.yaml: CronJob apps/c: spec.jobTemplate.spec.template.spec.initContainers[0]"
        ".image: container i: image 'busybox' is not pinned (tag or digest, never latest) [pinned-images]"
    ]
