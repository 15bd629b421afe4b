# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one base class for problems with the user's input or environment.

Every capability's error (GitopsError, ManifestError, SealingError, ...) derives from
``ShaiError``: a module turns it into ``fail_json(msg=str(exc))`` and the CLIs print it as one
line and exit 1 (docs/cli.md, ADR 0005). Anything that is *not* a ShaiError is a bug and keeps
its traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ShaiError(Exception):
    """A user-facing error: the message names the file, variable or value that is wrong."""
