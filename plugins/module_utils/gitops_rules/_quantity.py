# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities ("250m", "2", "512Mi", "2.5G") as exact fractions, and the
pod-level figures admission computes (what the quota-at-max rule adds up)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from fractions import Fraction

_SUFFIX = {
    "": 1, "m": Fraction(1, 1000), "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
    "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")


def parse(value):
    """A quantity as a Fraction; None when it does not parse."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return Fraction(value).limit_denominator(10 ** 9)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    number = Fraction(match.group(1))
    if match.group(2):
        number *= Fraction(10) ** int(match.group(2))
    return number * _SUFFIX[match.group(3) or ""]


def show(resource, amount):
    """Readable amount: cores for cpu (trailing zeros dropped), Gi for memory."""
    if resource.endswith("cpu") or resource == "cpu":
        text = "%.3f" % float(amount)
    elif amount < 2 ** 30:
        return "%gMi" % round(float(amount) / 2 ** 20, 2)
    else:
        text = "%.2fGi" % (float(amount) / 2 ** 30)
        return text.replace(".00Gi", "Gi")
    return text.rstrip("0").rstrip(".")


RESOURCES = ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory")


def container_ranges(ctx):
    """{namespace: (LimitRange Obj, {"default"|"defaultRequest"|"min"|"max": {res: Fraction}})}
    of the Container limits of the tree's LimitRanges."""
    out = {}
    for lr in ctx.by_kind("LimitRange"):
        for item in (lr.doc.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            sections = {}
            for section in ("default", "defaultRequest", "min", "max"):
                parsed = dict((r, parse(v)) for r, v in (item.get(section) or {}).items())
                sections[section] = dict((r, v) for r, v in parsed.items() if v is not None)
            out[lr.namespace] = (lr, sections)
    return out


def limitrange_defaults(ctx):
    """{namespace: {"requests.cpu": Fraction, ...}}: what admission fills in for a container that
    sets none (defaultRequest / default of the Container LimitRange)."""
    out = {}
    for ns, (_lr, sections) in container_ranges(ctx).items():
        d = out.setdefault(ns, {})
        for section, key in (("defaultRequest", "requests"), ("default", "limits")):
            for res, amount in sections[section].items():
                d["%s.%s" % (key, res)] = amount
    return out


def container_amounts(container, defaults):
    """{"requests.cpu": Fraction, ...} of one container after LimitRange defaulting (a request
    defaults to the limit when only the limit is set, as the API server does)."""
    resources = container.get("resources") or {}
    out = {}
    for res in ("cpu", "memory"):
        limit = parse((resources.get("limits") or {}).get(res))
        if limit is None:
            limit = defaults.get("limits." + res)
        request = parse((resources.get("requests") or {}).get(res))
        if request is None:
            request = parse((resources.get("limits") or {}).get(res)) or defaults.get("requests." + res)
        out["requests." + res] = request or Fraction(0)
        out["limits." + res] = limit or Fraction(0)
    return out


def pod_amounts(pod, defaults):
    """The pod's effective figures: max(largest init container, sum of containers)."""
    total = dict((r, Fraction(0)) for r in RESOURCES)
    for container in pod.get("containers") or []:
        for r, v in container_amounts(container, defaults).items():
            total[r] += v
    for container in pod.get("initContainers") or []:
        for r, v in container_amounts(container, defaults).items():
            total[r] = max(total[r], v)
    return total
