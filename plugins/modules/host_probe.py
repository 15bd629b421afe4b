#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_probe
short_description: Read the host facts a preflight checks, in one module run
version_added: 0.1.0
description:
  - Reads, without changing anything, what a role's preflight needs to judge a host, namely the
    state of a systemd service, which kernel modules are loaded (and whether the missing ones could
    be), the current value of kernel parameters, the listening TCP/UDP ports, whether the clock is
    NTP-synchronised and the free space for a directory.
  - One module run instead of one per probe (and per loop item); every probe is optional.
author:
  - vectorweight (@vectorweight)
options:
  service:
    description: A systemd unit name; RV(service_state) is what C(systemctl is-active) prints.
    type: str
  kernel_modules:
    description: Kernel module names; loaded means C(/sys/module/NAME) exists.
    type: list
    elements: str
    default: []
  modules_loadable:
    description: For each module not loaded, ask C(modinfo -n) whether the running kernel has it.
    type: bool
    default: false
  sysctls:
    description: Kernel parameter names (C(net.ipv4.ip_forward)), read from C(/proc/sys).
    type: list
    elements: str
    default: []
  listening:
    description: List the listening TCP and UDP ports (C(ss -Hlntu)).
    type: bool
    default: false
  time_sync:
    description: Ask C(timedatectl) whether the clock is NTP-synchronised.
    type: bool
    default: false
  paths:
    description:
      - Paths to describe (symbolic links followed, as a process traversing them would); see
        RV(paths).
    type: list
    elements: path
    default: []
  read_files:
    description:
      - Small files to read (as M(ansible.builtin.slurp) does, but several in one run); see
        RV(files). A file larger than 1 MiB is an error.
    type: list
    elements: path
    default: []
  free_space:
    description:
      - A directory whose filesystem's free space to report; when it does not exist yet, its
        deepest existing parent (where it would be created) is measured.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Reads only, nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Linux (C(/proc/sys), C(/sys/module), systemd, iproute2).
"""

EXAMPLES = r"""
- name: Probe the host for the k3s preflight
  vectorweight.shai.host_probe:
    service: k3s.service
    kernel_modules: [overlay, br_netfilter]
    modules_loadable: true
    sysctls: [net.ipv4.ip_forward]
    listening: true
    time_sync: true
    free_space: /var/lib/rancher/k3s
  register: probe
"""

RETURN = r"""
service_state:
  description: C(systemctl is-active) output (C(active), C(inactive), C(failed), C(unknown)...); empty without O(service).
  returned: always
  type: str
  sample: active
modules:
  description: Per module, C(loaded) and C(loadable) (null unless O(modules_loadable) and not loaded).
  returned: always
  type: dict
  sample: {overlay: {loaded: true, loadable: null}}
sysctls:
  description: Current value per parameter (as C(sysctl -n) prints it); null when the kernel has no such parameter.
  returned: always
  type: dict
  sample: {net.ipv4.ip_forward: "1"}
listening:
  description: Listening ports as C(PORT/PROTO) (C(6443/tcp)), without duplicates; empty unless O(listening).
  returned: always
  type: list
  elements: str
  sample: [22/tcp, 6443/tcp]
ntp_synchronized:
  description: C(yes) or C(no) from timedatectl, or its error text; empty unless O(time_sync).
  returned: always
  type: str
  sample: "yes"
paths:
  description:
    - Per path of O(paths), C(exists), C(isdir), C(mode) (octal string), C(xoth) (others may
      traverse or execute) and C(pw_name) (owner; the uid as a string when it has no name).
  returned: always
  type: dict
  sample: {/var/lib: {exists: true, isdir: true, mode: "0755", xoth: true, pw_name: root}}
files:
  description:
    - Per file of O(read_files), C(exists) and, when it exists, C(content) (base64, as
      M(ansible.builtin.slurp) returns it).
  returned: always
  type: dict
  sample: {/opt/comfyui/venv/.shai-deps.sha256: {exists: true, content: "YWJjCg=="}}
free_kb:
  description: KiB available to unprivileged users on the filesystem of O(free_space) (as C(df -P -k)); -1 when unknown.
  returned: always
  type: int
  sample: 52428800
free_path:
  description: The existing directory that was measured for O(free_space).
  returned: always
  type: str
  sample: /var/lib
"""

import base64
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def read_sysctl(name, root="/proc/sys"):
    """The value of a kernel parameter as ``sysctl -n`` prints it, or None when there is none."""
    if not name or ".." in name.split(".") or "/" in name:
        return None
    try:
        with open(os.path.join(root, *name.split(".")), "r") as handle:
            return handle.read().strip("\n").strip()
    except (IOError, OSError):
        return None


def parse_ss(out):
    """``PORT/PROTO`` of each listening socket in ``ss -Hlntu`` output, in order, without repeats."""
    seen = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 5 or ":" not in parts[4]:
            continue
        port = parts[4].rsplit(":", 1)[1]
        if port.isdigit():
            entry = "%s/%s" % (port, parts[0])
            if entry not in seen:
                seen.append(entry)
    return seen


def describe(path):
    """exists/isdir/mode/xoth/pw_name of a path, following symbolic links."""
    try:
        st = os.stat(path)
    except OSError:
        return {"exists": False, "isdir": False, "mode": None, "xoth": False, "pw_name": None}
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    return {
        "exists": True,
        "isdir": stat.S_ISDIR(st.st_mode),
        "mode": "%04o" % stat.S_IMODE(st.st_mode),
        "xoth": bool(st.st_mode & stat.S_IXOTH),
        "pw_name": owner,
    }


MAX_READ = 1024 * 1024


def read_small(module, path):
    """{exists, content (base64)} of a small file; a missing one is {exists: false}."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_READ + 1)
    except (IOError, OSError):
        return {"exists": False}
    if len(data) > MAX_READ:
        module.fail_json(msg="host_probe: %s is larger than 1 MiB (read_files is for small files)" % path)
    return {"exists": True, "content": base64.b64encode(data).decode("ascii")}


def existing_ancestor(path):
    path = os.path.abspath(path)
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _run(module, argv):
    """run_command that reports a missing program as rc 127 instead of failing the module."""
    try:
        return module.run_command(argv, handle_exceptions=False)
    except OSError as exc:
        return 127, "", "%s: %s" % (argv[0], exc.strerror or exc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str"),
            kernel_modules=dict(type="list", elements="str", default=[]),
            modules_loadable=dict(type="bool", default=False),
            sysctls=dict(type="list", elements="str", default=[]),
            listening=dict(type="bool", default=False),
            time_sync=dict(type="bool", default=False),
            free_space=dict(type="path"),
            paths=dict(type="list", elements="path", default=[]),
            read_files=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = {
        "changed": False,
        "service_state": "",
        "modules": {},
        "sysctls": {},
        "listening": [],
        "ntp_synchronized": "",
        "free_kb": -1,
        "free_path": "",
        "paths": {},
        "files": {},
    }
    if p["service"]:
        _rc, out, err = _run(module, ["systemctl", "is-active", p["service"]])
        result["service_state"] = (out or err).strip()
    for name in p["kernel_modules"]:
        loaded = os.path.isdir(os.path.join("/sys/module", name)) if "/" not in name else False
        loadable = None
        if not loaded and p["modules_loadable"]:
            rc, _out, _err = _run(module, ["modinfo", "-n", name])
            loadable = rc == 0
        result["modules"][name] = {"loaded": loaded, "loadable": loadable}
    for name in p["sysctls"]:
        result["sysctls"][name] = read_sysctl(name)
    if p["listening"]:
        rc, out, err = _run(module, ["ss", "-Hlntu"])
        if rc != 0:
            module.fail_json(msg="host_probe: ss -Hlntu failed (rc %d): %s" % (rc, err.strip()))
        result["listening"] = parse_ss(out)
    if p["time_sync"]:
        _rc, out, err = _run(module, ["timedatectl", "show", "--property=NTPSynchronized", "--value"])
        result["ntp_synchronized"] = (out.strip() or err.strip())
    for path in p["paths"]:
        result["paths"][path] = describe(path)
    for path in p["read_files"]:
        result["files"][path] = read_small(module, path)
    if p["free_space"]:
        where = existing_ancestor(p["free_space"])
        result["free_path"] = where
        try:
            st = os.statvfs(where)
            result["free_kb"] = st.f_bavail * st.f_frsize // 1024
        except OSError:
            result["free_kb"] = -1
    module.exit_json(**result)


if __name__ == "__main__":
    main()
