# -*- coding: utf-8 -*-
# Copyright: vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the k3s role: release version parsing/comparison and sha256sum files."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# v1.31.4+k3s1, v1.32.0-rc2+k3s1
K3S_VERSION_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?\+k3s(\d+)$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def k3s_version_parse(version):
    """Return (major, minor, patch, rc_order, k3s) for a k3s release tag; raise on bad format.

    A release without -rcN sorts after all of its release candidates.
    """
    match = K3S_VERSION_RE.match(str(version).strip())
    if not match:
        raise AnsibleFilterError(
            "'%s' is not a k3s release version; expected the form v1.31.4+k3s1 (or v1.32.0-rc1+k3s1)"
            % version
        )
    major, minor, patch, rc, k3s = match.groups()
    rc_order = int(rc) if rc is not None else 1_000_000
    return (int(major), int(minor), int(patch), rc_order, int(k3s))


def k3s_version_compare(left, right):
    """-1, 0 or 1 as k3s release ``left`` is older, equal or newer than ``right``."""
    a = k3s_version_parse(left)
    b = k3s_version_parse(right)
    return (a > b) - (a < b)


def k3s_version_from_output(text):
    """The release tag in ``k3s --version`` output ('k3s version v1.31.4+k3s1 (abc)'), else ''."""
    match = re.search(r"\bk3s version (v\S+)", str(text))
    return match.group(1) if match else ""


def k3s_sha256_from_sums(text, filename):
    """The sha256 of ``filename`` in a ``sha256sum``-format release file; raise if absent."""
    for line in str(text).splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        digest, name = parts
        if name.lstrip("*") == filename:
            digest = digest.lower()
            if not _SHA256_RE.match(digest):
                raise AnsibleFilterError("the sha256 listed for '%s' is malformed: '%s'" % (filename, digest))
            return digest
    raise AnsibleFilterError("'%s' is not listed in the release's sha256sum file" % filename)


class FilterModule:
    """k3s filters."""

    def filters(self):
        return {
            "k3s_version_parse": k3s_version_parse,
            "k3s_version_compare": k3s_version_compare,
            "k3s_version_from_output": k3s_version_from_output,
            "k3s_sha256_from_sums": k3s_sha256_from_sums,
        }
