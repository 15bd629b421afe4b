"""Build hook: ship the vectorweight.shai collection inside the shai wheel (ADR 0006).

``src/shai`` imports the one implementation of each capability from
``ansible_collections.vectorweight.shai.plugins.module_utils`` (ADR 0002). In a checkout that
package is the tree itself, through the ``.cache/collections`` link ``make collection`` makes
(an editable install puts that directory on ``sys.path``). A built wheel cannot rely on a
checkout, so the standard (non-editable) wheel carries the collection's files under
``ansible_collections/vectorweight/shai/`` — copied from the same files at build time, never
edited there. Editable builds get nothing from this hook: the link stays the only copy.
"""

from __future__ import annotations

import os
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PREFIX = "ansible_collections/vectorweight/shai"
# What the collection is at run time (what ansible-galaxy would install), no dev tooling.
CONTENT = ("galaxy.yml", "meta", "plugins", "roles", "playbooks", "site.yml")
# The sample inventory `shai init` copies (src/shai/init.py looks for it here when installed).
EXAMPLE = ("inventories/example", "shai/example_inventory")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class CollectionHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "shai-collection"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version != "standard":
            return
        trees = [(item, f"{PREFIX}/{item}") for item in CONTENT] + [EXAMPLE]
        for item, dest in trees:
            source = os.path.join(self.root, item)
            if os.path.isfile(source):
                build_data["force_include"][source] = dest
                continue
            for directory, dirs, files in os.walk(source):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    if name.endswith((".pyc", ".shai-tmp")):
                        continue
                    path = os.path.join(directory, name)
                    build_data["force_include"][path] = f"{dest}/{os.path.relpath(path, source)}"
