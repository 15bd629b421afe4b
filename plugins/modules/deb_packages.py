#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: deb_packages
short_description: Make sure Debian packages are installed, asking dpkg before apt
version_added: 0.1.0
description:
  - Installs the packages in O(name) with M(ansible.builtin.apt) (C(state=present)) when any of
    them is missing, and only then. Whether a package is installed is first read from dpkg's
    database (C(dpkg-query --show), milliseconds); a converged host never opens apt's package
    cache (python3-apt), which costs about a second per task.
  - Entries dpkg cannot judge alone (a version pin C(name=1.2), a wildcard, an architecture
    qualifier C(name:amd64), a C(.deb) path) always go to M(ansible.builtin.apt), as do names dpkg
    does not know as installed (virtual packages included) go to apt too, which stays the judge
    of everything but the plain "installed already" answer.
  - Check mode reports what M(ansible.builtin.apt) reports in check mode for the missing packages
    (the query itself only reads).
  - An action plugin of the same name does the orchestration on the controller; the module run on
    the host is the read-only query.
author:
  - vectorweight (@vectorweight)
options:
  name:
    description: Package names (C(apt) syntax). Must not be empty.
    type: list
    elements: str
    required: true
  update_cache:
    description: Passed to M(ansible.builtin.apt) when it runs.
    type: bool
    default: false
  cache_valid_time:
    description: Passed to M(ansible.builtin.apt) when it runs (seconds).
    type: int
    default: 0
  install_recommends:
    description: Passed to M(ansible.builtin.apt) when it runs; unset leaves apt's default.
    type: bool
attributes:
  action:
    support: full
    description: The controller-side action plugin decides whether M(ansible.builtin.apt) runs.
  check_mode:
    support: full
    description: The dpkg query reads only; M(ansible.builtin.apt) runs in check mode when needed.
  diff_mode:
    support: none
    description: M(ansible.builtin.apt) has no diff for installs either.
  platform:
    support: full
    platforms: debian
    description: Debian and derivatives (dpkg and apt).
notes:
  - The same result keys as M(ansible.builtin.apt) when apt ran, plus RV(missing) and RV(apt_ran).
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install nftables
  vectorweight.shai.deb_packages:
    name: [nftables]
    update_cache: true
    cache_valid_time: 3600

- name: A pinned version always goes to apt
  vectorweight.shai.deb_packages:
    name: [zstd, "curl=7.88.1-10+deb12u8"]
"""

RETURN = r"""
installed:
  description: The requested plain names dpkg reports installed before anything ran.
  returned: always
  type: list
  elements: str
  sample: [ca-certificates]
missing:
  description: The requested entries apt was asked about (not installed, or not judged by dpkg).
  returned: always
  type: list
  elements: str
  sample: [zstd]
apt_ran:
  description: Whether M(ansible.builtin.apt) ran.
  returned: always
  type: bool
  sample: false
"""

import re

from ansible.module_utils.basic import AnsibleModule

# A package name dpkg can answer for on its own (Debian policy 5.6.1: lower case, digits, + - .).
PLAIN = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def query(module, names):
    """(installed, missing) for the plain names; every other entry is missing (apt decides)."""
    plain = [n for n in names if PLAIN.match(n)]
    installed = set()
    if plain:
        rc, out, err = module.run_command(
            ["dpkg-query", "--show", "--showformat=${db:Status-Status} ${Package}\\n"] + plain
        )
        if rc not in (0, 1):  # 1: some name is unknown to dpkg
            module.fail_json(msg="dpkg-query failed (rc %d): %s" % (rc, err.strip()))
        installed = parse(out)
    return [n for n in names if n in installed], [n for n in names if n not in installed]


def parse(out):
    """The package names dpkg-query's output lists as installed (multi-arch names without arch)."""
    found = set()
    for line in out.splitlines():
        status, _sep, package = line.strip().partition(" ")
        if status == "installed" and package:
            found.add(package.split(":", 1)[0])
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True),
            update_cache=dict(type="bool", default=False),
            cache_valid_time=dict(type="int", default=0),
            install_recommends=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    names = module.params["name"]
    if not names:
        module.fail_json(msg="deb_packages: name is empty (nothing to install or check)")
    installed, missing = query(module, names)
    module.exit_json(changed=False, installed=installed, missing=missing, apt_ran=False)


if __name__ == "__main__":
    main()
