"""The LiteLLM image the tree deploys is the release tests/litellm proves (no proxy started here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_tree_image_is_the_tested_release() -> None:
    wanted = re.search(
        r"^litellm\[proxy\]==(\S+)$", (ROOT / "tools/litellm/requirements.in").read_text(), re.M
    )
    assert wanted, "tools/litellm/requirements.in pins no litellm[proxy]==VERSION"
    image = yaml.safe_load((ROOT / "gitops/values.yml").read_text())["gitops_images"]["litellm"]
    tag = image.rsplit(":", 1)[1]
    assert re.fullmatch(rf"(main-)?v{re.escape(wanted.group(1))}(-stable)?", tag), (
        f"gitops_images.litellm is {image}, but tests/litellm prove litellm {wanted.group(1)}: "
        "move both together (docs/litellm.md)"
    )
    assert wanted.group(1) != "1.107.0", "litellm 1.107.0 was withdrawn as compromised"
