# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: converge_profile
type: aggregate
short_description: Where a converge spends its time, per task and per role, summed over hosts
version_added: 0.1.0
author:
  - vectorweight (@vectorweight)
description:
  - Times every task result (from the moment a host starts the task to its result, loop items
    included) and, at the end of the run, prints the slowest tasks and roles, summed over hosts,
    and the wall time of each play.
  - Optionally writes the whole profile as JSON to O(output) (atomically), which
    C(shai lab run-site --profile) and C(benchmarks/converge.py) read.
  - Summing over hosts shows the work a task costs; the play wall times show what the operator
    waits for (hosts run in parallel up to C(forks)).
requirements:
  - enable in configuration, e.g. C(ANSIBLE_CALLBACKS_ENABLED=vectorweight.shai.converge_profile)
options:
  output:
    description: File receiving the profile as JSON. Empty writes no file.
    type: path
    env:
      - name: SHAI_PROFILE_OUTPUT
    ini:
      - section: callback_converge_profile
        key: output
  top:
    description: How many tasks and roles the printed summary lists (the JSON of O(output) keeps every task).
    type: int
    default: 20
    env:
      - name: SHAI_PROFILE_TOP
    ini:
      - section: callback_converge_profile
        key: top
"""

import json
import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.converge_profile import (
    Profile,
    render_summary,
)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vectorweight.shai.converge_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._profile = Profile()
        self._started = {}

    # --- timing -------------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play):
        self._profile.play_start(play.get_name(), time.monotonic())

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _finish(self, result, status):
        host = result._host.get_name()
        task = result._task
        started = self._started.pop((host, task._uuid), None)
        if started is None:
            return
        role = task._role.get_name() if task._role else ""
        path = task.get_path() or ""
        self._profile.add(
            host=host,
            role=role,
            task=task.name or task.action,
            action=task.action,
            path=path,
            seconds=time.monotonic() - started,
            status=status,
            changed=bool(result._result.get("changed")),
        )

    def v2_runner_on_ok(self, result):
        self._finish(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    # --- report -------------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        self._profile.finish(time.monotonic())
        # The JSON keeps every task (top_tasks is sorted, slowest first); the printout the top N.
        data = self._profile.as_dict(top=None)
        for line in render_summary(data, top=self.get_option("top")):
            self._display.display(line)
        output = self.get_option("output")
        if output:
            atomic_write(output, json.dumps(data, indent=2, sort_keys=True) + "\n")
