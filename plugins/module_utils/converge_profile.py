# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aggregate task timings of a playbook run (the ``converge_profile`` callback's data model).

One implementation, used by the callback (which feeds it) and by ``shai lab run-site --profile``
and ``benchmarks/converge.py`` (which read its JSON and print it with :func:`render_summary`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Profile(object):
    """Task durations per (role, task, file:line), summed over hosts; play wall times."""

    def __init__(self):
        self._tasks = {}
        self._plays = []
        self._current = None
        self._start = None
        self._end = None

    def play_start(self, name, now):
        if self._start is None:
            self._start = now
        self._close_play(now)
        self._current = {"play": name, "start": now}

    def _close_play(self, now):
        if self._current is not None:
            self._plays.append({"play": self._current["play"], "seconds": now - self._current["start"]})
            self._current = None

    def add(self, host, role, task, action, path, seconds, status, changed):
        key = (role, task, path)
        entry = self._tasks.get(key)
        if entry is None:
            entry = {
                "role": role,
                "task": task,
                "action": action,
                "path": path,
                "seconds": 0.0,
                "hosts": {},
                "changed": 0,
                "skipped": 0,
            }
            self._tasks[key] = entry
        entry["seconds"] += seconds
        entry["hosts"][host] = entry["hosts"].get(host, 0.0) + seconds
        entry["changed"] += 1 if changed else 0
        entry["skipped"] += 1 if status == "skipped" else 0

    def finish(self, now):
        self._close_play(now)
        self._end = now

    def as_dict(self, top=20):
        tasks = sorted(self._tasks.values(), key=lambda t: -t["seconds"])
        roles = {}
        for t in tasks:
            name = t["role"] or "(play tasks)"
            roles[name] = roles.get(name, 0.0) + t["seconds"]
        wall = (self._end - self._start) if self._start is not None and self._end is not None else 0.0
        return {
            "wall_seconds": round(wall, 3),
            "task_seconds": round(sum(t["seconds"] for t in tasks), 3),
            "tasks_timed": len(tasks),
            "plays": [{"play": p["play"], "seconds": round(p["seconds"], 3)} for p in self._plays],
            "roles": [
                {"role": r, "seconds": round(s, 3)} for r, s in sorted(roles.items(), key=lambda kv: -kv[1])
            ],
            "top_tasks": [
                {
                    "role": t["role"],
                    "task": t["task"],
                    "action": t["action"],
                    "path": t["path"],
                    "seconds": round(t["seconds"], 3),
                    "hosts": sorted(t["hosts"]),
                    "changed": t["changed"],
                    "skipped": t["skipped"],
                }
                for t in tasks[:top]
            ],
        }


def render_summary(data, top=None):
    """Lines of a plain-text table: play wall times, roles and the slowest tasks (summed over hosts)."""
    lines = ["", "CONVERGE PROFILE (task seconds summed over hosts; wall %.1f s)" % data["wall_seconds"]]
    lines.append("plays:")
    for p in data["plays"]:
        lines.append("  %8.1f s  %s" % (p["seconds"], p["play"]))
    roles = data["roles"] if top is None else data["roles"][:top]
    lines.append("roles:")
    for r in roles:
        lines.append("  %8.1f s  %s" % (r["seconds"], r["role"]))
    tasks = data["top_tasks"] if top is None else data["top_tasks"][:top]
    lines.append("slowest tasks:")
    for t in tasks:
        label = "%s : %s" % (t["role"], t["task"]) if t["role"] else t["task"]
        lines.append("  %8.1f s  %s  [%s, %d host(s)]" % (t["seconds"], label, t["action"], len(t["hosts"])))
    return lines
