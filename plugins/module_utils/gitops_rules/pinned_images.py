# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pinned-images: every container image carries a tag or a digest, never latest."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule


def image_pinned(image):
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest"


class PinnedImages(Rule):
    id = "pinned-images"
    description = "every container image is pinned (tag or digest, never latest)"

    def check(self, ctx):
        for obj in ctx.workloads():
            for prefix, container in ctx.containers(obj):
                image = container.get("image") or ""
                if not image_pinned(image):
                    yield obj.finding(
                        self.id,
                        prefix + ".image",
                        "container %s: image %r is not pinned (tag or digest, never latest)"
                        % (container.get("name", "?"), image),
                    )


RULE = PinnedImages()
