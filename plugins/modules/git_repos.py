#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: git_repos
short_description: Shared bare git repositories served by git daemon, in one module run
version_added: 0.1.0
description:
  - Makes sure the repository root and every repository of O(names) exist as group-shared bare
    repositories (C(git init --bare --shared=group)) owned by O(owner) and O(group), that each
    one has the O(receive_settings) set, carries C(git-daemon-export-ok) when O(export=true),
    and is listed in git's system-wide C(safe.directory) when O(safe_directory=true).
  - An existing repository is never re-initialised, and its history is never touched.
  - One module run for what is otherwise a dozen. The git user and group are not created here
    (M(ansible.builtin.group), M(ansible.builtin.user)).
author:
  - vectorweight (@vectorweight)
options:
  root:
    description: The directory holding the repositories (C(NAME.git) below it). Absolute path.
    type: path
    required: true
  names:
    description:
      - The repositories, without C(.git). Plain names (letters, digits, C(.), C(_), C(-));
        no C(/) and no C(..), so every repository stays below O(root). Must not be empty.
    type: list
    elements: str
    required: true
  owner:
    description: Owner of the root, every repository directory and every export marker.
    type: str
    required: true
  group:
    description: Group of the same; the group the repositories are shared with.
    type: str
    required: true
  mode:
    description: Mode of the root and of every repository directory (setgid keeps the group).
    type: raw
    default: "02775"
  default_branch:
    description: The initial branch of a repository created by this module.
    type: str
    default: main
  receive_settings:
    description:
      - git config keys set to C(true) in every repository (e.g. C(receive.denyNonFastForwards)).
    type: list
    elements: str
    default: []
  export:
    description: Whether every repository carries an empty C(git-daemon-export-ok) (mode 0644).
    type: bool
    default: true
  safe_directory:
    description:
      - Whether every repository is listed in C(git config --system safe.directory) (git refuses
        "dubious ownership" to the push users otherwise). The system config is git's, so
        C(GIT_CONFIG_SYSTEM) in the task's environment points it elsewhere.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports every repository it would create and every setting it would change.
  diff_mode:
    support: full
    description: One before/after entry per repository or setting it changes.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with git and Python.
requirements:
  - git
seealso:
  - module: ansible.builtin.git
"""

EXAMPLES = r"""
- name: The repositories ArgoCD reads
  vectorweight.shai.git_repos:
    root: /srv/git
    names: [platform]
    owner: git
    group: git
    receive_settings: [receive.denyNonFastForwards, receive.denyDeletes]
"""

RETURN = r"""
created:
  description: The repositories created (or that would be), as paths.
  returned: always
  type: list
  elements: str
  sample: [/srv/git/platform.git]
changes:
  description: Every change made (or that would be), one line each.
  returned: always
  type: list
  elements: str
  sample: ["/srv/git/platform.git: receive.denyDeletes=true"]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.fs_dirs import ensure_directory

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# `git init --shared` sets these itself: check mode predicts them as a real run would find them.
_SET_BY_SHARED = {"receive.denynonfastforwards": "true"}


class _Run(object):
    """The module, its result lists, and git."""

    def __init__(self, module):
        self.module = module
        self.git = module.get_bin_path("git", required=True)
        self.created, self.changes, self.diffs = [], [], []

    def change(self, what, before, after, header=None):
        self.changes.append(what)
        header = header or what
        self.diffs.append({"before": before + "\n", "after": after + "\n", "before_header": header, "after_header": header})

    def git_out(self, argv, ok=(0,)):
        rc, out, err = self.module.run_command([self.git] + argv)
        if rc not in ok:
            self.module.fail_json(msg="git %s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
        return rc, out

    def directory(self, path, what):
        """The root or a repository directory: created (the root) or corrected, as ``directories`` does."""
        p, diffs = self.module.params, []
        if ensure_directory(self.module, path, p["owner"], p["group"], p["mode"], diffs, []):
            self.changes.append("%s: %s" % (path, what))
            self.diffs.extend(diffs)

    def file_attrs(self, path, mode):
        p = self.module.params
        diff = {"before": {"path": path}, "after": {"path": path}}
        args = self.module.load_file_common_arguments(
            {"path": path, "owner": p["owner"], "group": p["group"], "mode": mode, "follow": True}
        )
        if self.module.set_fs_attributes_if_different(args, False, diff=diff, expand=False):
            self.changes.append("%s: owner/group/mode" % path)
            self.diffs.append(diff)


def _repository(run, path, existing):
    p, check = run.module.params, run.module.check_mode
    made = existing or not check  # the repository is there to read (check mode creates nothing)
    if not existing:
        run.created.append(path)
        run.change("%s: created" % path, "absent", "bare repository, shared=group, branch %s" % p["default_branch"])
        if not check:
            run.git_out(["init", "--quiet", "--bare", "--shared=group", "--initial-branch=" + p["default_branch"], path])
    if made:
        run.directory(path, "owner/group/mode")
    config = os.path.join(path, "config")
    for key in p["receive_settings"]:
        if made:
            now = run.git_out(["config", "--file", config, "--get", key], ok=(0, 1))[1].strip()
        else:
            now = _SET_BY_SHARED.get(key.lower(), "")
        if now != "true":
            run.change("%s: %s=true" % (path, key), "%s=%s" % (key, now or "unset"), "%s=true" % key, "%s/config" % path)
            if not check:
                run.git_out(["config", "--file", config, key, "true"])
    if p["export"]:
        marker = os.path.join(path, "git-daemon-export-ok")
        present = os.path.isfile(marker) and os.path.getsize(marker) == 0
        if not present:
            run.change("%s: git-daemon-export-ok" % path, "absent" if not os.path.lexists(marker) else "not empty", "empty")
            if not check:
                atomic_write(marker, b"")
        if present or not check:
            run.file_attrs(marker, "0644")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            names=dict(type="list", elements="str", required=True),
            owner=dict(type="str", required=True),
            group=dict(type="str", required=True),
            mode=dict(type="raw", default="02775"),
            default_branch=dict(type="str", default="main"),
            receive_settings=dict(type="list", elements="str", default=[]),
            export=dict(type="bool", default=True),
            safe_directory=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not os.path.isabs(p["root"]):
        module.fail_json(msg="git_repos: root is not an absolute path: %s" % p["root"])
    if not p["names"]:
        module.fail_json(msg="git_repos: names is empty (no repository to create or check)")
    bad = [n for n in p["names"] if not _NAME.match(n) or ".." in n or n.endswith(".git")]
    if bad:
        module.fail_json(msg="git_repos: names must be plain names without .git, '/' or '..': %s" % ", ".join(bad))
    run = _Run(module)
    root = os.path.normpath(p["root"])
    run.directory(root, "repository root")
    paths = [os.path.join(root, n + ".git") for n in p["names"]]
    for path in paths:
        _repository(run, path, os.path.isfile(os.path.join(path, "HEAD")))
    if p["safe_directory"]:
        listed = run.git_out(["config", "--system", "--get-all", "safe.directory"], ok=(0, 1))[1].splitlines()
        for path in paths:
            if path not in listed:
                run.change("safe.directory %s" % path, "not listed", "listed")
                if not module.check_mode:
                    run.git_out(["config", "--system", "--add", "safe.directory", path])
    result = {"changed": bool(run.changes), "created": run.created, "changes": run.changes}
    if module._diff:
        result["diff"] = run.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
