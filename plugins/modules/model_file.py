#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_file
short_description: Put one model file (URL or Hugging Face repo file) into a model folder, verified
version_added: "0.1.0"
description:
  - Downloads a file from an http(s) URL or from a Hugging Face repository into a model folder
    (ComfyUI C(checkpoints), C(vae), C(loras), C(upscale_models), a TTS folder, ...).
  - The sha256 is computed while the bytes stream in; a mismatch fails the task and leaves
    nothing in place (the partial file is removed and the destination is untouched).
  - An interrupted download keeps C(<file>.part) next to the destination; the next run resumes it
    with an HTTP C(Range) request and transfers only the rest.
  - The finished file is moved into place atomically.
  - Idempotent - when the file on disk already has the expected digest nothing is transferred and
    the task reports C(changed=false).
  - For Hugging Face files without O(sha256) the expected digest comes from the Hub itself - the
    sha256 of an LFS file (C(X-Linked-Etag)) or the git blob sha1 of a regular file (C(ETag)).
  - Shares its download code (C(module_utils/download.py)) with the C(shai-models) CLI.
author:
  - vectorweight (@vectorweight)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Predicts exactly whether the file would be downloaded or removed; transfers nothing.
  diff_mode:
    support: full
    description: Shows the file's sha256 and size before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the host that holds the model folder (Debian 12, python3.11 or later).
options:
  dest:
    description: Folder the file goes into. It must exist (create it with M(ansible.builtin.file)).
    type: path
    required: true
  filename:
    description:
      - Name of the file inside O(dest).
      - Defaults to the last component of O(url) or of O(hf_path).
      - Exactly one path component (no C(/), C(..)); the resolved path must stay under O(dest).
    type: str
  url:
    description: http(s) URL of the file. Mutually exclusive with O(hf_repo).
    type: str
  sha256:
    description:
      - Expected sha256 (64 hex characters) of the file.
      - Required with O(url); optional with O(hf_repo) (the Hub supplies it).
    type: str
  hf_repo:
    description: Hugging Face repository id (C(org/name)). Mutually exclusive with O(url).
    type: str
  hf_path:
    description: Path of the file inside O(hf_repo). Required with O(hf_repo).
    type: str
  hf_revision:
    description: Revision of O(hf_repo) - pin a 40-hex commit id for reproducible hosts.
    type: str
    default: main
  hf_repo_type:
    description: Kind of Hugging Face repository.
    type: str
    choices: [model, dataset, space]
    default: model
  hf_endpoint:
    description:
      - Base URL of the Hub or of a mirror.
      - Defaults to the E(HF_ENDPOINT) environment variable of the target, then C(https://huggingface.co).
    type: str
  token:
    description:
      - Hugging Face read token for gated or private repos.
      - Sent only to the Hugging Face endpoint's host (O(hf_endpoint)), never to another O(url)
        host, never on a redirect to another host (CDN), and never over plain http unless
        O(token_over_http=true).
      - Never logged.
    type: str
  token_over_http:
    description:
      - Send O(token) to the Hugging Face endpoint even over plain http (a lab mirror without TLS).
      - An explicit, per-file choice; the default never lets the token travel in clear text.
    type: bool
    default: false
  state:
    description: V(present) puts the file in place, V(absent) removes it (and any C(.part)).
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description: Socket timeout in seconds.
    type: int
    default: 60
  retries:
    description: How many times a cut connection is resumed within one run before failing.
    type: int
    default: 2
notes:
  - A missing or refused token on a gated repository fails with a message naming the repository.
"""

EXAMPLES = r"""
- name: Install an upscaler from a URL, pinned by sha256
  vectorweight.shai.model_file:
    url: https://example.org/models/4x-UltraSharp.pth
    sha256: a5812231fc936b42af08a5edba784195495d303d5b3248c24489ef0c4021fe01
    dest: /opt/comfyui/models/upscale_models
    owner: comfyui
    group: comfyui
    mode: "0644"

- name: Install the SDXL VAE from Hugging Face (digest from the Hub), token from the vault
  vectorweight.shai.model_file:
    hf_repo: stabilityai/sdxl-vae
    hf_path: sdxl_vae.safetensors
    hf_revision: 6f5909a7e596173e25d4e97b07fd19cdf9611c76
    dest: /opt/comfyui/models/vae
    token: "{{ vault_hf_token | default(omit, true) }}"

- name: Remove a checkpoint the manifest no longer lists
  vectorweight.shai.model_file:
    dest: /opt/comfyui/models/checkpoints
    filename: old-model.safetensors
    state: absent
"""

RETURN = r"""
path:
  description: Full path of the file.
  returned: always
  type: str
  sample: /opt/comfyui/models/vae/sdxl_vae.safetensors
sha256:
  description: sha256 of the file in place (the expected digest in check mode, when known).
  returned: when state is present
  type: str
size:
  description: Size of the file in bytes.
  returned: when state is present and known
  type: int
url:
  description: URL the file comes from (the Hub resolve URL for O(hf_repo)).
  returned: when state is present
  type: str
commit:
  description: Commit id the Hub resolved O(hf_revision) to.
  returned: when O(hf_repo) is used
  type: str
bytes_transferred:
  description: Bytes received over the network by this run (0 when unchanged).
  returned: when state is present
  type: int
resumed_from:
  description: Offset a previous partial download was resumed from, or null.
  returned: when a download happened
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vectorweight.shai.plugins.module_utils.download import (
    PART_SUFFIX,
    DownloadError,
    download,
    git_blob_sha1_file,
    hf_file_metadata,
    hf_resolve_url,
    sha256_file,
    token_for,
)
from ansible_collections.vectorweight.shai.plugins.module_utils.models_manifest import (
    ManifestError,
    contained_path,
)


def _describe(path, sha, size):
    if sha is None:
        return "absent\n"
    return "path: %s\nsha256: %s\nsize: %s\n" % (path, sha, size)


def _with_reason(exc, withheld):
    """The error, plus why the token was not sent when that may be the cause (401/403)."""
    if withheld and exc.status in (401, 403):
        return "%s (%s)" % (exc, withheld)
    return str(exc)


def _is_hex(value, length):
    return len(value) == length and all(c in "0123456789abcdef" for c in value)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            filename=dict(type="str"),
            url=dict(type="str"),
            sha256=dict(type="str"),
            hf_repo=dict(type="str"),
            hf_path=dict(type="str"),
            hf_revision=dict(type="str", default="main"),
            hf_repo_type=dict(type="str", default="model", choices=["model", "dataset", "space"]),
            hf_endpoint=dict(type="str"),
            token=dict(type="str", no_log=True),
            token_over_http=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            timeout=dict(type="int", default=60),
            retries=dict(type="int", default=2),
        ),
        mutually_exclusive=[("url", "hf_repo")],
        required_together=[("hf_repo", "hf_path")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    dest_dir = p["dest"]
    if p["url"]:
        source_name = p["url"].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    else:
        source_name = (p["hf_path"] or "").rsplit("/", 1)[-1]
    filename = p["filename"] or source_name
    if not filename:
        module.fail_json(msg="model_file: filename is required when neither url nor hf_path gives one")
    try:
        path = contained_path(dest_dir, filename)
    except ManifestError as exc:
        module.fail_json(msg="model_file: %s" % "; ".join(exc.errors), path=os.path.join(dest_dir, filename))
    part = path + PART_SUFFIX
    result = dict(changed=False, path=path)

    if p["state"] == "absent":
        exists = os.path.lexists(path)
        if exists or os.path.exists(part):
            result["changed"] = True
            if module._diff:
                before = sha256_file(path) if os.path.isfile(path) else "(partial download only)"
                result["diff"] = dict(before_header=path, before=_describe(path, before, "-"), after="absent\n")
            if not module.check_mode:
                for victim in (path, part):
                    if os.path.lexists(victim):
                        os.unlink(victim)
        module.exit_json(**result)

    if not p["url"] and not p["hf_repo"]:
        module.fail_json(msg="model_file: one of url or hf_repo is required with state=present")
    sha = (p["sha256"] or "").lower() or None
    if sha is not None and not _is_hex(sha, 64):
        module.fail_json(msg="model_file: sha256 must be 64 hex characters, got %r" % p["sha256"])
    if not os.path.isdir(dest_dir):
        if module.check_mode:
            # a task before this one creates the folder in a real run: predict the download
            result.update(changed=True, url=p["url"], sha256=sha, bytes_transferred=0)
            if module._diff:
                result["diff"] = dict(before="absent\n", after=_describe(path, sha or "(from the Hub)", None))
            module.exit_json(**result)
        module.fail_json(msg="model_file: destination folder %s does not exist" % dest_dir)

    git_sha1 = None
    size = None
    if p["url"]:
        if sha is None:
            module.fail_json(msg="model_file: sha256 is required with url (%s)" % p["url"])
        url = p["url"]
    else:
        url = hf_resolve_url(p["hf_repo"], p["hf_path"], p["hf_revision"], p["hf_endpoint"], p["hf_repo_type"])
    # the token belongs to the Hub endpoint, over https (or where the operator said token_over_http)
    token, withheld = token_for(url, p["token"] or None, p["hf_endpoint"], p["token_over_http"])
    if not p["url"]:
        try:
            meta = hf_file_metadata(
                p["hf_repo"], p["hf_path"], p["hf_revision"], p["hf_endpoint"], token, p["hf_repo_type"]
            )
        except DownloadError as exc:
            module.fail_json(
                msg="model_file: %s" % _with_reason(exc, withheld),
                status=exc.status,
                error_code=exc.error_code,
                **result
            )
        result["commit"] = meta["commit"]
        size = meta["size"]
        if sha is None:
            sha = meta["sha256"]
            git_sha1 = meta["git_sha1"]
        if sha is None and git_sha1 is None:
            module.fail_json(
                msg="model_file: the Hub gave no digest for %s/%s; pass sha256" % (p["hf_repo"], p["hf_path"])
            )
    result["url"] = url

    before_sha = None
    present = os.path.isfile(path)
    matches = False
    if present:
        before_sha = sha256_file(path)
        if size is not None and os.path.getsize(path) != size:
            matches = False
        elif sha is not None:
            matches = before_sha == sha
        else:
            matches = git_blob_sha1_file(path) == git_sha1
    if matches:
        result.update(sha256=before_sha, size=os.path.getsize(path), bytes_transferred=0)
        file_args = module.load_file_common_arguments(p, path=path)
        result["changed"] = module.set_fs_attributes_if_different(file_args, False)
        module.exit_json(**result)

    result["changed"] = True
    if module._diff:
        result["diff"] = dict(
            before_header=path,
            after_header=url,
            before=_describe(path, before_sha, os.path.getsize(path) if present else None),
            after=_describe(path, sha or ("(git blob sha1 %s)" % git_sha1), size),
        )
    if module.check_mode:
        result.update(sha256=sha, size=size, bytes_transferred=0)
        module.exit_json(**result)

    try:
        got = download(
            url,
            path,
            sha256=sha,
            size=size,
            git_sha1=None if sha else git_sha1,
            token=token,
            timeout=p["timeout"],
            retries=p["retries"],
            finalize=module.atomic_move,
        )
    except DownloadError as exc:
        module.fail_json(
            msg="model_file: %s" % _with_reason(exc, withheld),
            status=exc.status,
            error_code=exc.error_code,
            resumable=exc.resumable,
            **result
        )
    result.update(
        sha256=got["sha256"],
        size=got["size"],
        bytes_transferred=got["bytes_transferred"],
        resumed_from=got["resumed_from"],
    )
    file_args = module.load_file_common_arguments(p, path=path)
    module.set_fs_attributes_if_different(file_args, True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
