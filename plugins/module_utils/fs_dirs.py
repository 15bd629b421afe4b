# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make sure a directory exists with its owner, group and mode (what ``file: state=directory`` does).

One implementation for the ``directories`` module and ``config_file``'s ``directory_*`` options.
Missing parents are created with the same attributes; check mode reports without creating
(``planned`` remembers what an earlier call would have created); a path that exists and is not a
directory is an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def _missing_chain(path, planned):
    """The path and its missing parents, outermost first (``planned``: created in check mode)."""
    chain = []
    while not os.path.lexists(path) and path not in planned:
        chain.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return list(reversed(chain))


def ensure_directory(module, path, owner, group, mode, diffs, created):
    """True when ``path`` was (or would be) created or its attributes corrected.

    ``diffs`` receives one before/after entry per change; ``created`` every directory created
    (parents included), also in check mode.
    """
    if module.check_mode and path in created:
        # an earlier entry would have created it as a parent (with that entry's attributes):
        # the real run creates it, then applies this entry's owner, group and mode
        return True
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg="%s exists and is not a directory; nothing was changed for it" % path)
    file_args = module.load_file_common_arguments(
        {"path": path, "owner": owner, "group": group, "mode": mode, "follow": True}
    )
    chain = _missing_chain(path, set(created))
    if chain:
        diffs.append({"before": {"path": path, "state": "absent"}, "after": {"path": path, "state": "directory"}})
        created.extend(chain)
        if module.check_mode:
            return True
        for new in chain:
            try:
                os.mkdir(new)
            except OSError as exc:
                module.fail_json(msg="cannot create %s: %s" % (new, exc))
            module.set_fs_attributes_if_different(dict(file_args, path=new), True, expand=False)
        return True
    diff = {"before": {"path": path}, "after": {"path": path}}
    changed = module.set_fs_attributes_if_different(file_args, False, diff=diff, expand=False)
    if changed:
        diffs.append(diff)
    return changed
