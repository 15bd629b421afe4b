# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of vectorweight.shai.config_file: runs the module, builds the content diff here.

The module never echoes its content (a no_log option: it may carry a secret, and module arguments
would otherwise reach the host's syslog), so the new side of the diff is added on the controller
from the task's own argument, as ansible.builtin.copy builds its diff.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64

from ansible import constants as C
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        applied = self._execute_module(
            module_name="vectorweight.shai.config_file", module_args=dict(self._task.args), task_vars=task_vars
        )
        encoded = applied.pop("diff_before_b64", None)
        before = None if encoded is None else base64.b64decode(encoded).decode("utf-8", "surrogateescape")
        result.update(applied)
        if before is not None and self._task.diff and not applied.get("failed"):
            content = self._task.args.get("content") or ""
            after = content if len(content) <= C.MAX_FILE_SIZE_FOR_DIFF else "(%d characters, not shown)\n" % len(content)
            dest = applied.get("dest", self._task.args.get("dest"))
            content_diff = {"before_header": dest, "after_header": dest, "before": before, "after": after}
            earlier = applied.get("diff") or []  # the directory's, when the module created it
            result["diff"] = (earlier if isinstance(earlier, list) else [earlier]) + [content_diff]
        return result
