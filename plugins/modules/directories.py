#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: directories
short_description: Make sure several directories exist with their owner, group and mode, in one run
version_added: 0.1.0
description:
  - For each entry of O(paths), what M(ansible.builtin.file) with C(state=directory) does for one
    path, that is, creates it (and its missing parents, which get the same owner, group and mode)
    or corrects its owner, group and mode.
  - One module run for all of them, instead of one per loop item, so on a converged host a
    role's directories cost one round trip.
  - A path that exists and is not a directory (or a link to one) is an error naming it; nothing
    is replaced.
author:
  - vectorweight (@vectorweight)
options:
  paths:
    description:
      - The directories. Each is a path (string) or a dictionary with C(path) and optionally
        C(owner), C(group) and C(mode), which override the module-level defaults below.
      - Absolute paths only. Must not be empty.
    type: list
    elements: raw
    required: true
  owner:
    description: Owner of every entry that does not name one. Unset leaves the owner as it is.
    type: str
  group:
    description: Group of every entry that does not name one. Unset leaves the group as it is.
    type: str
  mode:
    description:
      - Mode of every entry that does not name one, as for M(ansible.builtin.file) (quote octal
        modes, e.g. C("0755")). Unset leaves the mode as it is (new directories get the umask's).
    type: raw
attributes:
  check_mode:
    support: full
    description: Reports what would be created or corrected; changes nothing.
  diff_mode:
    support: full
    description: Before and after state, owner, group and mode of every directory it changes.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with Python.
notes:
  - Symbolic links to directories are accepted as they are (like M(ansible.builtin.file) with its
    default C(follow=true)); the attributes are applied to the directory they point to.
seealso:
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Create the service's state directories
  vectorweight.shai.directories:
    owner: root
    group: root
    mode: "0755"
    paths:
      - /var/cache/shai
      - /opt/ollama
      - {path: /srv/ollama/models, owner: ollama, group: ollama, mode: "0750"}
"""

RETURN = r"""
changed_paths:
  description: The directories created or corrected (or that would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [/srv/ollama/models]
created:
  description: The directories (including parents) created (or that would be).
  returned: always
  type: list
  elements: str
  sample: [/srv/ollama, /srv/ollama/models]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vectorweight.shai.plugins.module_utils.fs_dirs import ensure_directory


def _entries(module):
    """Normalised entries: dicts with path, owner, group, mode (None when not set)."""
    out = []
    for i, raw in enumerate(module.params["paths"]):
        entry = {"path": raw} if isinstance(raw, str) else raw
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            module.fail_json(msg="directories: paths[%d] must be a path or a dict with 'path' (got %r)" % (i, raw))
        unknown = set(entry) - {"path", "owner", "group", "mode"}
        if unknown:
            module.fail_json(msg="directories: paths[%d] has unknown keys %s" % (i, ", ".join(sorted(unknown))))
        path = entry["path"]
        if not os.path.isabs(path):
            module.fail_json(msg="directories: paths[%d] is not an absolute path: %s" % (i, path))
        out.append(
            {
                "path": os.path.normpath(path),
                "owner": entry.get("owner", module.params["owner"]),
                "group": entry.get("group", module.params["group"]),
                "mode": entry.get("mode", module.params["mode"]),
            }
        )
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="raw", required=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
        ),
        supports_check_mode=True,
    )
    entries = _entries(module)
    if not entries:
        module.fail_json(msg="directories: paths is empty (nothing to create or check)")
    diffs, created, changed_paths = [], [], []
    for entry in entries:
        if ensure_directory(module, entry["path"], entry["owner"], entry["group"], entry["mode"], diffs, created):
            changed_paths.append(entry["path"])
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths, "created": created}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
