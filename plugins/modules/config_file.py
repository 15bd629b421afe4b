#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: config_file
short_description: Write a configuration file from content in one module run
version_added: 0.1.0
description:
  - Makes O(dest) hold exactly O(content) with the given owner, group and mode, like
    M(ansible.builtin.copy) with C(content) or M(ansible.builtin.template) with the template
    rendered on the controller first (C(lookup('ansible.builtin.template', 'name.j2')), which
    renders exactly what the template module would, C(ansible_managed) included).
  - One module run whether or not the file changes. The built-in modules run a C(stat) and then
    the C(file) module on every unchanged file, plus a transfer and C(copy) on a changed one;
    on a converged host this module reads the file, compares, and returns.
  - A changed file is written atomically (a temporary file in the destination directory with its
    owner, group and mode, fsynced, optionally validated, then renamed over O(dest)); a failed
    validation leaves the old file as it was.
author:
  - vectorweight (@vectorweight)
options:
  dest:
    description:
      - Absolute path of the file. Its directory must exist (in check mode a missing directory
        means the file would be new).
    type: path
    required: true
  content:
    description:
      - The whole content of the file (UTF-8 text).
      - Never logged on the host (syslog) nor echoed in the result. The diff of a changed file
        shows it, as M(ansible.builtin.template) does (the action plugin builds the diff on the
        controller); content that carries a secret belongs in a task with C(diff=false) and
        C(no_log=true).
    type: str
    required: true
  owner:
    description: Owner of the file. Unset leaves it (a new file gets the user running the module).
    type: str
  group:
    description: Group of the file. Unset leaves it.
    type: str
  mode:
    description: Mode of the file, as for M(ansible.builtin.file) (quote octal modes).
    type: raw
  directory_mode:
    description:
      - When set, the directory of O(dest) (and its missing parents) is created or corrected with
        this mode and O(directory_owner)/O(directory_group) in the same run, as a
        M(ansible.builtin.file) C(state=directory) task before it would. Unset, the directory
        must exist.
    type: raw
  directory_owner:
    description: Owner of the directory (with O(directory_mode)). Unset leaves it.
    type: str
  directory_group:
    description: Group of the directory (with O(directory_mode)). Unset leaves it.
    type: str
  validate:
    description:
      - Command run on the temporary file before it replaces O(dest); C(%s) is the temporary path
        and must appear. Non-zero exit fails the task and keeps the old file.
    type: str
attributes:
  action:
    support: full
    description: The controller-side action plugin builds the content diff.
  check_mode:
    support: full
    description: Reports whether the content or the attributes would change; writes nothing.
  diff_mode:
    support: full
    description: The old and new content (and attributes) of a file that changes.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with Python.
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Write the kernel parameters drop-in
  vectorweight.shai.config_file:
    content: "{{ lookup('ansible.builtin.template', 'sysctl.conf.j2') }}"
    dest: /etc/sysctl.d/90-shai.conf
    owner: root
    group: root
    mode: "0644"
  notify: Apply sysctl settings

- name: sudoers drop-in, checked by visudo before it is put in place
  vectorweight.shai.config_file:
    content: "{{ lookup('ansible.builtin.template', 'sudoers.j2') }}"
    dest: /etc/sudoers.d/admin
    owner: root
    group: root
    mode: "0440"
    validate: /usr/sbin/visudo -cf %s
"""

RETURN = r"""
dest:
  description: The file.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-shai.conf
content_changed:
  description: Whether the content differed (or the file did not exist).
  returned: always
  type: bool
  sample: false
checksum:
  description: SHA1 of the wanted content (the same checksum M(ansible.builtin.copy) reports).
  returned: always
  type: str
  sample: 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed
"""

import base64
import hashlib
import os
import shlex
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import PreparedWrite
from ansible_collections.vectorweight.shai.plugins.module_utils.fs_dirs import ensure_directory

# The built-in modules' limit for showing content in a diff (DEFAULT max_diff_size is 100 KiB).
MAX_DIFF = 104448


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _b64(text):
    # The old content travels base64-encoded: the module's no_log masking replaces every
    # occurrence of the new content in its result, and an old file that contains it (a line
    # appended by hand) would come back as "********<the line>".
    return base64.b64encode(text.encode("utf-8", "surrogateescape")).decode("ascii")


def _diff_text(data):
    if data is None:
        return ""
    if len(data) > MAX_DIFF or b"\x00" in data:
        return "(%d bytes, not shown)\n" % len(data)
    return to_text(data, errors="surrogate_or_strict")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
            validate=dict(type="str"),
            directory_mode=dict(type="raw"),
            directory_owner=dict(type="str"),
            directory_group=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    dest = p["dest"]
    if not os.path.isabs(dest):
        module.fail_json(msg="config_file: dest must be an absolute path: %s" % dest)
    if p["validate"] is not None and "%s" not in p["validate"]:
        module.fail_json(msg="config_file: validate must contain %%s (the file to check): %s" % p["validate"])
    wanted = to_bytes(p["content"], errors="surrogate_or_strict")
    result = {"dest": dest, "checksum": hashlib.sha1(wanted).hexdigest()}
    directory = os.path.dirname(dest)
    dir_changed, dir_diffs = False, []
    if p["directory_mode"] is not None:
        dir_changed = ensure_directory(
            module, directory, p["directory_owner"], p["directory_group"], p["directory_mode"], dir_diffs, []
        )
    if not os.path.isdir(directory):
        if module.check_mode:  # created by an earlier task (or above) in a real run: the file would be new
            result.update(changed=True, content_changed=True)
            if module._diff:
                result.update(diff=dir_diffs, diff_before_b64="")
            module.exit_json(**result)
        module.fail_json(msg="config_file: the directory of %s does not exist" % dest)
    if os.path.isdir(dest):
        module.fail_json(msg="config_file: %s is a directory" % dest)
    current = _read(dest)
    content_changed = current != wanted
    result["content_changed"] = content_changed
    file_args = module.load_file_common_arguments(
        {"path": dest, "owner": p["owner"], "group": p["group"], "mode": p["mode"]}
    )
    if not content_changed:
        attr_diff = {"before": {"path": dest}, "after": {"path": dest}}
        changed = module.set_fs_attributes_if_different(file_args, False, diff=attr_diff, expand=False)
        result["changed"] = changed or dir_changed
        if module._diff and (changed or dir_changed):
            result["diff"] = dir_diffs + ([attr_diff] if changed else [])
        module.exit_json(**result)
    result["changed"] = True
    if module._diff:  # the action plugin adds the content's diff on the controller
        result["diff_before_b64"] = _b64(_diff_text(current))
        if dir_diffs:
            result["diff"] = dir_diffs
    if module.check_mode:
        module.exit_json(**result)
    # A replaced file keeps its owner, group and mode unless the task sets them (as copy does);
    # a new one is root-readable 0644 unless the task says otherwise.
    before = os.stat(dest) if current is not None else None
    prepared = PreparedWrite(dest, wanted, mode=stat.S_IMODE(before.st_mode) if before else 0o644, makedirs=False)
    try:
        if before is not None:
            os.chown(prepared.tmp, before.st_uid, before.st_gid)
        module.set_fs_attributes_if_different(dict(file_args, path=prepared.tmp), True, expand=False)
        if p["validate"]:
            argv = [a.replace("%s", prepared.tmp) for a in shlex.split(p["validate"])]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(
                    msg="config_file: %s failed validation (%s), the old file is kept: %s"
                    % (dest, p["validate"], (err or out).strip()),
                    rc=rc,
                )
        prepared.commit()
    finally:
        prepared.abort()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
