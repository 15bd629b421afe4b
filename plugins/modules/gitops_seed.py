#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gitops_seed
short_description: Commit a rendered GitOps tree into the ArgoCD git repository
version_added: "0.1.0"
description:
  - Makes O(path) of O(repo_url)@O(branch) hold exactly the files of O(src) (a tree rendered by
    M(vectorweight.shai.gitops_render) or C(shai gitops render)) in one commit, and pushes it.
  - Idempotent; no commit and no push when the repository already holds the tree.
  - Safe against a concurrent push; a plain fast-forward push, and when the branch moved
    meanwhile the module fetches the new head, re-applies the tree and pushes again (up to
    O(retries) times), then fails clearly. Never force-pushes. Files outside O(path) are kept.
  - Any git URL; a local path, C(file://), C(git://), C(ssh://) (keys of the user running the
    module, or O(ssh_command)), or C(https://) with O(token), given to git through
    C(GIT_ASKPASS) and the child environment, never in argv, the URL, logs or the repo config.
  - Usually runs on the controller (C(delegate_to=localhost)) where the tree was rendered.
author:
  - vectorweight (@vectorweight)
requirements:
  - git >= 2.28 on the host running the module
attributes:
  check_mode:
    support: full
    description: Clones and computes the would-be commit (file list and diff); commits and pushes nothing.
  diff_mode:
    support: full
    description: Unified diff of the commit (the tree holds no plaintext secret, only SealedSecrets).
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (C(delegate_to=localhost)) where the tree lives.
options:
  src:
    description:
      - Directory of a rendered tree. Mutually exclusive with O(values).
    type: path
  values:
    description:
      - Render the tree in memory from these variables (as M(vectorweight.shai.gitops_render)
        does) instead of reading O(src); keeps check mode truthful when the render task itself
        ran in check mode and wrote nothing.
    type: dict
  gitops_dir:
    description: The collection's C(gitops/) directory; required with O(values).
    type: path
  repo_url:
    description: Git URL to push to.
    type: str
    required: true
  branch:
    description: Branch ArgoCD tracks (created when missing).
    type: str
    default: main
  path:
    description: Directory of the repository that holds the tree (empty = the repository root).
    type: str
    default: ''
  token:
    description: Token for https URLs (for example C(vault_gitops_repo_token)). Never logged.
    type: str
  username:
    description: Username sent with O(token).
    type: str
    default: oauth2
  ssh_command:
    description: C(GIT_SSH_COMMAND) for ssh URLs (for example to pick a key or a known_hosts file).
    type: str
  commit_message:
    description: Commit message.
    type: str
    default: "shai gitops: seed rendered tree"
  retries:
    description: How many times to re-apply on a moved branch before failing.
    type: int
    default: 3
  timeout:
    description: Seconds allowed for each git command.
    type: int
    default: 120
"""

EXAMPLES = r"""
- name: Seed the ArgoCD repository, rendering in memory (truthful in check mode)
  vectorweight.shai.gitops_seed:
    values: "{{ dict(__names | zip(query('ansible.builtin.vars', *__names))) }}"
    gitops_dir: "{{ playbook_dir }}/../gitops"
    repo_url: "{{ gitops_seed_url }}"
  vars:
    __names: "{{ query('ansible.builtin.varnames', '^(shai|gitops)_') }}"
  delegate_to: localhost
  run_once: true

- name: Seed the ArgoCD repository from a rendered directory
  vectorweight.shai.gitops_seed:
    src: "{{ __gitops_tree }}"
    repo_url: "{{ gitops_seed_url }}"
    branch: "{{ gitops_repo_revision }}"
    token: "{{ vault_gitops_repo_token | default(omit, true) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
commit:
  description: Commit the branch points at afterwards (or before, in check mode / when unchanged).
  returned: always
  type: str
files:
  description: Paths (relative to the repository root) the commit adds, changes or removes.
  returned: always
  type: list
  elements: str
attempts:
  description: Attempts needed (more than 1 when a concurrent push happened).
  returned: always
  type: int
pushed:
  description: Whether a commit was pushed.
  returned: always
  type: bool
deleted:
  description:
    - Paths (relative to the repository root) under O(path) that the rendered tree does not have
      and the commit removes (for example files an operator added by hand).
    - Each one is also reported as a warning.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vectorweight.shai.plugins.module_utils import gitops
from ansible_collections.vectorweight.shai.plugins.module_utils import gitops_seed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path"),
            values=dict(type="dict"),
            gitops_dir=dict(type="path"),
            repo_url=dict(type="str", required=True),
            branch=dict(type="str", default="main"),
            path=dict(type="str", default=""),
            token=dict(type="str", no_log=True),
            username=dict(type="str", default="oauth2"),
            ssh_command=dict(type="str"),
            commit_message=dict(type="str", default="shai gitops: seed rendered tree"),
            retries=dict(type="int", default=3),
            timeout=dict(type="int", default=120),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("src", "values")],
        required_one_of=[("src", "values")],
        required_together=[("values", "gitops_dir")],
    )
    p = module.params
    if module.get_bin_path("git") is None:
        module.fail_json(msg="git is not installed on the host running gitops_seed")
    if p["values"] is not None:
        try:
            values = gitops.load_values(os.path.join(p["gitops_dir"], "values.yml"), p["values"])
            files = gitops.render_tree(
                os.path.join(p["gitops_dir"], "templates"), values, os.path.join(p["gitops_dir"], "secrets")
            )
        except (gitops.GitopsError, OSError) as exc:
            module.fail_json(msg="rendering the tree failed: %s" % exc)
    else:
        if not os.path.isdir(p["src"]):
            module.fail_json(msg="src %s is not a directory (render the tree first)" % p["src"])
        files = gitops.read_tree(p["src"])
    if not files:
        module.fail_json(msg="the tree is empty: refusing to seed it")
    try:
        res = gitops_seed.seed(
            files, p["repo_url"], branch=p["branch"], path=p["path"], message=p["commit_message"], token=p["token"],
            username=p["username"], ssh_command=p["ssh_command"], check_mode=module.check_mode,
            retries=p["retries"], want_diff=module._diff, timeout=p["timeout"],
        )
    except gitops_seed.SeedError as exc:
        module.fail_json(msg=gitops_seed.redact(str(exc), p["token"]))
    result = res.as_dict()
    for victim in res.deleted:
        module.warn("gitops_seed %s %s: %s (not in the rendered tree)" % (
            p["repo_url"], "would remove" if module.check_mode else "removed", victim))
    if module._diff and res.diff:
        result["diff"] = dict(prepared=res.diff)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
