# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU workstations of the GitOps tree: ``shai_gpu_hosts`` checked and named (ADR 0310).

The inventory builds ``shai_gpu_hosts`` from its ``gpu_workstation`` group (group_vars/all),
one ``{name, address}`` per host: ``name`` the inventory host name, ``address`` where the
cluster reaches its Ollama / ComfyUI (``ansible_host``, else the host name). Every template that
needs "the GPU host" iterates this list; none indexes its first entry.

``check`` refuses an empty list, a bad entry or an address that is neither an IP address nor a
host name, each error naming the variable and the entry, and adds ``slug``: the DNS-1035 label
the per-host objects are named with (``ollama-gpu-<slug>``, ``comfyui-<slug>``), derived from
the inventory host name only, so it is stable while the host keeps its name. Two hosts whose
names give the same label are an error (rename one), never a silent suffix.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

VARIABLE = "shai_gpu_hosts"
# The longest prefix of a per-host object name ("ollama-gpu-"): the Service name stays a
# DNS-1035 label (63 characters).
PREFIX_LEN = len("ollama-gpu-")
MAX_SLUG = 63 - PREFIX_LEN
KEYS = frozenset(["name", "address"])
# The scalar of one GPU host this list replaced: an inventory that still sets only it is told how.
OLD_VARIABLE = "shai_gpu_host"
OLD_MESSAGE = (
    "shai_gpu_host (one GPU workstation) is replaced by shai_gpu_hosts, one {name, address} per host "
    "of the gpu_workstation group (ADR 0310): in group_vars/all set\n"
    "  shai_gpu_hosts: >-\n"
    "    {%- set out = [] -%}\n"
    "    {%- for h in groups['gpu_workstation'] | default([]) -%}\n"
    "    {%- set _ = out.append({'name': h, 'address': hostvars[h]['ansible_host'] | default(h)}) -%}\n"
    "    {%- endfor -%}\n"
    "    {{ out }}\n"
    "and remove shai_gpu_host (inventories/example/group_vars/all/main.yml has it)"
)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.I)


class GpuHostsError(ShaiError, ValueError):
    """shai_gpu_hosts is unusable; the message names the variable and the entry."""


def slug(name):
    """The DNS-1035-safe label of an inventory host name: lower case, every run of other
    characters one '-', at most MAX_SLUG characters, no leading or trailing '-'. '' if nothing
    usable is left."""
    text = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-")


def is_host_name(value):
    """A DNS host name (RFC 1123 labels, at most 253 characters, not all-numeric)."""
    text = str(value).rstrip(".")
    if not text or len(text) > 253 or re.match(r"^[0-9.]+$", text):
        return False
    return all(_LABEL.match(label) for label in text.split("."))


def is_ip(value):
    """True for an IPv4/IPv6 address (the one test of the tree: also Jinja's ``is ip_address``)."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def check(hosts):
    """The checked list (each entry a copy with ``slug``); GpuHostsError names every problem."""
    if not isinstance(hosts, list):
        raise GpuHostsError(
            "%s must be a list of {name, address} (group_vars/all builds it from the gpu_workstation "
            "group), got %s" % (VARIABLE, type(hosts).__name__)
        )
    if not hosts:
        raise GpuHostsError(
            "%s is empty: the inventory's gpu_workstation group holds no host (add one: "
            "gpu_workstation: {hosts: {NAME: {ansible_host: ADDRESS}}})" % VARIABLE
        )
    errors = []
    out = []
    seen = {}
    for i, entry in enumerate(hosts):
        where = "%s[%d]" % (VARIABLE, i)
        if not isinstance(entry, dict):
            errors.append("%s: must be a mapping {name, address}, got %r" % (where, entry))
            continue
        name = entry.get("name")
        where = "%s (%s)" % (where, name) if name else where
        extra = sorted(set(entry) - KEYS, key=str)
        if extra:
            errors.append("%s: unknown key(s) %s (allowed: address, name)" % (where, ", ".join(map(str, extra))))
        if not isinstance(name, str) or not name:
            errors.append("%s: name (the inventory host name) is required" % where)
            continue
        address = entry.get("address")
        if not isinstance(address, str) or not (is_ip(address) or is_host_name(address)):
            errors.append("%s: address %r is not an IP address or a host name" % (where, address))
            continue
        label = slug(name)
        if not label:
            errors.append("%s: the host name gives no DNS label for its Services (use letters or digits)" % where)
            continue
        if label in seen:
            errors.append("%s: its Services would be named like those of %s (-%s); rename one of the hosts"
                          % (where, seen[label], label))
            continue
        seen[label] = name
        if is_ip(address):
            address = str(ipaddress.ip_address(address))
        out.append({"name": name, "address": address, "slug": label})
    if errors:
        raise GpuHostsError("\n  - ".join(["%s: %d problem(s):" % (VARIABLE, len(errors))] + errors))
    return out
