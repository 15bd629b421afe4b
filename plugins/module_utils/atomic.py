# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic file write of the project (modules, CLIs, reports, pins).

A write goes to a fresh temporary file created with ``tempfile.mkstemp`` in the destination's
own directory (``O_CREAT|O_EXCL``: a file or symlink already at that name is never opened or
followed), gets its mode before any byte is written, is fsynced, then ``os.replace``-d over the
destination (which replaces a symlink at the destination instead of writing through it), and the
directory is fsynced. On any failure the temporary file is removed; a reader sees the old file or
the new one, never half of one.

Temporary names are ``.<name>.<random>.shai-tmp``: one pattern, gitignored (``*.shai-tmp``), so
a file left behind by a SIGKILL is never committed, and :func:`leftover_temps` finds it for
clean-up.

Two-phase use (a transaction over several files): :func:`prepare_write` writes and fsyncs every
temporary file first; :meth:`PreparedWrite.commit` renames them into place in the caller's order;
:meth:`PreparedWrite.abort` removes the ones not committed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fnmatch
import os
import tempfile

TEMP_SUFFIX = ".shai-tmp"
TEMP_PATTERN = ".*" + TEMP_SUFFIX


def fsync_dir(directory):
    # type: (str) -> None
    """fsync a directory so a rename in it survives a power cut (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # pragma: no cover - filesystems without directory fsync
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


class PreparedWrite:
    """A temporary file holding the new content of ``path``, written and fsynced, not yet in place."""

    def __init__(self, path, data, mode=0o644, makedirs=True, dir_mode=0o755):
        # type: (str, bytes | str, int, bool, int) -> None
        self.path = os.fspath(path)
        if not isinstance(data, bytes):
            data = data.encode("utf-8")
        directory = os.path.dirname(os.path.abspath(self.path))
        if makedirs and not os.path.isdir(directory):
            os.makedirs(directory, dir_mode)
        self.directory = directory
        try:
            fd, self.tmp = tempfile.mkstemp(
                prefix="." + os.path.basename(self.path) + ".", suffix=TEMP_SUFFIX, dir=directory
            )
        except OSError as exc:  # name the file the caller asked for, not the temporary name
            raise OSError(exc.errno, exc.strerror, self.path) from exc
        self.done = False
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            self.abort()
            raise

    def commit(self):
        # type: () -> None
        """Rename the temporary file over the destination and fsync the directory."""
        try:
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.done = True
        fsync_dir(self.directory)

    def abort(self):
        # type: () -> None
        """Remove the temporary file (no-op once committed or removed)."""
        if self.done:
            return
        self.done = True
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


def prepare_write(path, data, mode=0o644, makedirs=True):
    # type: (str, bytes | str, int, bool) -> PreparedWrite
    return PreparedWrite(path, data, mode=mode, makedirs=makedirs)


def atomic_write(path, data, mode=0o644, makedirs=True):
    # type: (str, bytes | str, int, bool) -> None
    """Replace ``path`` with ``data`` atomically (see the module docstring); ``mode`` from the start."""
    PreparedWrite(path, data, mode=mode, makedirs=makedirs).commit()


def is_temp_name(name):
    # type: (str) -> bool
    return fnmatch.fnmatchcase(os.path.basename(name), TEMP_PATTERN)


def leftover_temps(directory, recursive=False):
    # type: (str, bool) -> list[str]
    """Temporary files of :func:`atomic_write` left in ``directory`` (e.g. after a SIGKILL)."""
    found = []  # type: list[str]
    if not os.path.isdir(directory):
        return found
    if recursive:
        for root, _dirs, files in os.walk(directory):
            found.extend(os.path.join(root, f) for f in files if is_temp_name(f))
    else:
        found = [os.path.join(directory, f) for f in os.listdir(directory) if is_temp_name(f)]
    return sorted(found)


def remove_leftover_temps(directory, recursive=False):
    # type: (str, bool) -> list[str]
    """Remove the leftovers :func:`leftover_temps` finds; returns what was removed."""
    removed = []
    for path in leftover_temps(directory, recursive=recursive):
        try:
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed
