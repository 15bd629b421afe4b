# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed a rendered GitOps tree into the ArgoCD repository (any git URL).

The tree is the source of truth for everything below `path` in the repository: a seed makes
that subtree byte-identical to the rendered tree in ONE commit, and leaves everything else in
the repository alone.

- idempotent: no commit (and no push) when the subtree already matches;
- concurrent pushes: the push is a plain fast-forward; when the remote moved meanwhile the seed
  fetches the new head, re-applies the tree on top of it and pushes again (up to `retries`
  times), then fails with a clear message. It never force-pushes;
- credentials: an https token is handed to git through GIT_ASKPASS (a helper script that reads
  it from the environment of the git child process), never in argv, the URL, logs or the
  repository config; ssh uses the caller's ssh agent / keys (GIT_SSH_COMMAND may be given);
- check mode: clone + compute the diff, no commit, no push.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import subprocess
import tempfile

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops import read_tree, tree_diff
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

_TOKEN_ENV = "SHAI_GITOPS_TOKEN"
_ASKPASS = (
    "#!/bin/sh\n"
    "# Answers git's credential prompts from the environment; holds no secret itself.\n"
    'case "$1" in\n'
    '  Username*) printf "%s\\n" "${SHAI_GITOPS_USER:-oauth2}" ;;\n'
    '  *) printf "%s\\n" "$' + _TOKEN_ENV + '" ;;\n'
    "esac\n"
)


class SeedError(ShaiError):
    """The seed could not complete; the message says why and what to do."""


class SeedResult:
    __slots__ = ("changed", "commit", "diff", "files", "attempts", "pushed", "deleted")

    def __init__(self, changed, commit, diff, files, attempts, pushed, deleted=None):
        self.changed = changed
        self.commit = commit
        self.diff = diff
        self.files = files
        self.attempts = attempts
        self.pushed = pushed
        # files under `path` that the rendered tree does not have (an operator's additions):
        # the seed removes them, and says so file by file
        self.deleted = list(deleted or [])

    def as_dict(self):
        return dict(changed=self.changed, commit=self.commit, files=self.files, attempts=self.attempts,
                    pushed=self.pushed, deleted=self.deleted)


_CHECKED_OUT = ("refusing to update checked out branch", "branch is currently checked out")


def _local_repo_dir(url):
    """The directory of a local repository URL (a path or file://), else None."""
    if url.startswith("file://"):
        return url[len("file://"):]
    if "://" in url or (":" in url.split("/", 1)[0] and not url.startswith("/")):
        return None  # ssh://, https://, git://, user@host:path
    return url


def check_not_checked_out(git, url, branch):
    """Refuse a non-bare local repository that has ``branch`` checked out: git would refuse the
    push (receive.denyCurrentBranch) and nothing could ever be seeded there."""
    path = _local_repo_dir(url)
    if path is None or not os.path.isdir(path):
        return
    bare = git.run(["-C", path, "rev-parse", "--is-bare-repository"], check=False)
    if bare.returncode != 0 or bare.stdout.strip() == "true":
        return
    head = git.run(["-C", path, "symbolic-ref", "--quiet", "HEAD"], check=False).stdout.strip()
    if head == "refs/heads/" + branch:
        raise SeedError(_checked_out_message(url, branch))


def _checked_out_message(url, branch):
    return (
        "%s is a non-bare repository with branch %s checked out: git refuses to push into it. "
        "Seed a bare repository (git clone --bare), or check out another branch there" % (url, branch)
    )


def redact(text, token):
    if token:
        text = text.replace(token, "********")
    return text


class _Git:
    def __init__(self, workdir, token=None, username=None, ssh_command=None, timeout=120):
        self.workdir = workdir
        self.token = token
        self.timeout = timeout
        self.env = dict(os.environ)
        self.env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME=self.env.get("GIT_AUTHOR_NAME", "shai gitops"),
            GIT_AUTHOR_EMAIL=self.env.get("GIT_AUTHOR_EMAIL", "shai-gitops@localhost"),
            GIT_COMMITTER_NAME=self.env.get("GIT_COMMITTER_NAME", "shai gitops"),
            GIT_COMMITTER_EMAIL=self.env.get("GIT_COMMITTER_EMAIL", "shai-gitops@localhost"),
            LC_ALL="C",
        )
        if token:
            helper = os.path.join(workdir, "askpass.sh")
            with open(helper, "w") as handle:
                handle.write(_ASKPASS)
            os.chmod(helper, stat.S_IRWXU)
            self.env["GIT_ASKPASS"] = helper
            self.env[_TOKEN_ENV] = token
            if username:
                self.env["SHAI_GITOPS_USER"] = username
        if ssh_command:
            self.env["GIT_SSH_COMMAND"] = ssh_command

    def run(self, args, cwd=None, check=True):
        cmd = ["git", "-c", "credential.helper=", "-c", "core.hooksPath=/dev/null"] + list(args)
        try:
            # Shared with the CLI (no AnsibleModule there), hence subprocess and not run_command.
            proc = subprocess.run(  # pylint: disable=ansible-bad-function
                cmd, cwd=cwd or self.workdir, env=self.env, capture_output=True, text=True, timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SeedError("git %s timed out after %ss" % (args[0], self.timeout))
        if check and proc.returncode != 0:
            raise SeedError(
                "git %s failed (exit %d): %s" % (args[0], proc.returncode, redact(proc.stderr.strip(), self.token))
            )
        return proc


def _remote_head(git, url, branch):
    proc = git.run(["ls-remote", "--heads", url, branch], check=False)
    if proc.returncode != 0:
        raise SeedError("cannot reach %s: %s" % (url, redact(proc.stderr.strip(), git.token)))
    for line in proc.stdout.splitlines():
        sha, ref = line.split("\t", 1)
        if ref == "refs/heads/" + branch:
            return sha
    return None


def _apply_tree(repo, path, files):
    """Make repo/path hold exactly `files`; return the {path: bytes} before."""
    base = os.path.join(repo, path) if path else repo
    before = {}
    if os.path.isdir(base):
        before = read_tree(base)
        for rel in before:
            if rel not in files:
                os.unlink(os.path.join(base, rel))
    for rel, data in files.items():
        full = os.path.join(base, rel)
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full))
        with open(full, "wb") as handle:
            handle.write(data)
    return before


def seed(files, url, branch="main", path="", message="shai gitops: seed rendered tree", token=None,
         username=None, ssh_command=None, check_mode=False, retries=3, want_diff=True, timeout=120):
    """Commit `files` ({relative path: bytes}) below `path` of `url`@`branch`. Returns SeedResult."""
    path = (path or "").strip("/")
    if path and (path.startswith(".") or ".." in path.split("/")):
        raise SeedError("path %r must be a plain relative directory" % path)
    tmp = tempfile.mkdtemp(prefix="shai-gitops-seed-")
    try:
        os.chmod(tmp, stat.S_IRWXU)
        git = _Git(tmp, token=token, username=username, ssh_command=ssh_command, timeout=timeout)
        check_not_checked_out(git, url, branch)
        repo = os.path.join(tmp, "repo")
        diff = ""
        changed_files = []
        for attempt in range(1, retries + 2):
            if os.path.isdir(repo):
                shutil.rmtree(repo)
            head = _remote_head(git, url, branch)
            if head:
                git.run(["clone", "--quiet", "--no-tags", "--single-branch", "--branch", branch, url, repo])
            else:
                git.run(["init", "--quiet", "--initial-branch", branch, repo])
                git.run(["remote", "add", "origin", url], cwd=repo)
            before = _apply_tree(repo, path, files)
            prefix = (path + "/") if path else ""
            changed_files = sorted(
                prefix + rel for rel in set(before) | set(files) if before.get(rel) != files.get(rel)
            )
            deleted = sorted(prefix + rel for rel in before if rel not in files)
            if want_diff:
                diff = tree_diff(
                    dict((prefix + k, v) for k, v in before.items()), dict((prefix + k, v) for k, v in files.items())
                )
            if not changed_files:
                return SeedResult(False, head, "", [], attempt, False)
            if check_mode:
                return SeedResult(True, head, diff, changed_files, attempt, False, deleted)
            git.run(["add", "--all", "--", path or "."], cwd=repo)
            git.run(["commit", "--quiet", "--no-verify", "-m", message], cwd=repo)
            commit = git.run(["rev-parse", "HEAD"], cwd=repo).stdout.strip()
            push = git.run(["push", "--porcelain", "origin", "HEAD:refs/heads/" + branch], cwd=repo, check=False)
            if push.returncode == 0:
                return SeedResult(True, commit, diff, changed_files, attempt, True, deleted)
            err = redact(push.stderr + push.stdout, token)
            if any(marker in err for marker in _CHECKED_OUT):
                raise SeedError(_checked_out_message(url, branch))
            if "rejected" not in err and "fetch first" not in err and "non-fast-forward" not in err:
                raise SeedError("git push to %s failed: %s" % (url, err.strip()))
            # Someone pushed meanwhile: start again from the new remote head.
        raise SeedError(
            "the remote branch %s of %s kept moving: gave up after %d attempts (no force push); "
            "run the seed again" % (branch, url, retries + 1)
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
