#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ollama_model
short_description: Ollama models present or absent, through the Ollama HTTP API
version_added: "0.1.0"
description:
  - Makes a list of Ollama models present (streaming C(/api/pull)) or absent (C(/api/delete)),
    reading what is installed from C(/api/tags).
  - Idempotent - a model already listed by C(/api/tags) is not pulled again (and, with O(digest),
    only when its digest matches).
  - "Errors reported inside the pull stream (an C(error) line sent with HTTP 200) fail the
    task with Ollama's message."
  - Optionally prunes every installed model that is not in O(name).
  - O(registry) rewrites library model names to another registry (a homelab mirror), so air-gapped
    hosts pull from it; O(insecure) allows a plain-http mirror.
author:
  - vectorweight (@vectorweight)
attributes:
  check_mode:
    support: full
    description: Reports exactly which models would be pulled or deleted; changes nothing.
  diff_mode:
    support: full
    description: The sorted list of installed models before and after.
  platform:
    support: full
    platforms: posix
    description: Runs anywhere that reaches the Ollama API (usually the Ollama host itself).
options:
  name:
    description:
      - Model names (C(model[:tag]), C(namespace/model:tag) or C(host/namespace/model:tag)).
      - The tag defaults to C(latest).
    type: list
    elements: str
    required: true
    aliases: [models]
  state:
    description: Whether the models must be installed or removed.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - With O(state=present), delete every installed model not listed in O(name).
    type: bool
    default: false
  pull:
    description:
      - With V(false), models missing from O(name) are not pulled (use with O(prune) to only remove).
    type: bool
    default: true
  digest:
    description:
      - Expected digest (C(sha256:...) or 64 hex) of the model when O(name) holds one model.
        An installed model with another digest is pulled again.
    type: str
  api_url:
    description: Base URL of the Ollama API.
    type: str
    default: http://127.0.0.1:11434
  registry:
    description:
      - Registry host (C(host[:port])) to pull library models from instead of registry.ollama.ai,
        for example a homelab mirror. Names that already carry a host are left alone.
    type: str
  insecure:
    description: Allow pulling over plain http / unverified TLS (a private mirror).
    type: bool
    default: false
  timeout:
    description: Seconds allowed for one model pull stream; other API calls use 30s.
    type: int
    default: 3600
notes:
  - The API must be reachable from where the module runs (usually the Ollama host itself).
"""

EXAMPLES = r"""
- name: GPU models in place
  vectorweight.shai.ollama_model:
    name:
      - llama3.1:8b
      - qwen2.5-coder:14b
    api_url: http://192.0.2.10:11434

- name: Pull from the homelab mirror and remove everything else
  vectorweight.shai.ollama_model:
    name: [llama3.2:3b]
    registry: mirror.example.lan:5000
    insecure: true
    prune: true

- name: A model we no longer want
  vectorweight.shai.ollama_model:
    name: mistral:7b
    state: absent
"""

RETURN = r"""
pulled:
  description: Models pulled (or that would be pulled in check mode), as requested.
  returned: always
  type: list
  elements: str
removed:
  description: Models deleted (or that would be), in Ollama's short form.
  returned: always
  type: list
  elements: str
models:
  description: Installed models after the run (short form; predicted in check mode).
  returned: always
  type: list
  elements: str
progress:
  description:
    - Per pulled model, a summary of the pull stream - the statuses seen, each layer's digest
      and bytes, the totals.
  returned: when a model was pulled
  type: dict
  sample:
    llama3.2:3b:
      statuses: [pulling manifest, verifying sha256 digest, writing manifest, success]
      total_bytes: 2019393189
      completed_bytes: 2019393189
      layers: [{digest: "sha256:dde5...", total: 2019377376, completed: 2019377376}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vectorweight.shai.plugins.module_utils.models_manifest import OLLAMA_NAME
from ansible_collections.vectorweight.shai.plugins.module_utils.ollama_api import (
    OllamaClient,
    OllamaError,
    canonical,
    short,
    summarize_pull,
    with_registry,
)


def _norm_digest(value):
    return (value or "").lower().replace("sha256:", "")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True, aliases=["models"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            prune=dict(type="bool", default=False),
            pull=dict(type="bool", default=True),
            digest=dict(type="str"),
            api_url=dict(type="str", default="http://127.0.0.1:11434"),
            registry=dict(type="str"),
            insecure=dict(type="bool", default=False),
            timeout=dict(type="int", default=3600),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["digest"] and len(p["name"]) != 1:
        module.fail_json(msg="ollama_model: digest needs exactly one name, got %d" % len(p["name"]))
    if p["prune"] and p["state"] != "present":
        module.fail_json(msg="ollama_model: prune only makes sense with state=present")
    bad = [n for n in p["name"] if not OLLAMA_NAME.match(n or "")]
    if bad:  # before any request: a typo is not a reason to talk to the server
        module.fail_json(msg="ollama_model: invalid Ollama model name(s) %s (like llama3.1:8b)" % ", ".join(
            repr(n) for n in bad))
    client = OllamaClient(p["api_url"])
    try:
        wanted = [(n, with_registry(n, p["registry"])) for n in p["name"]]
        wanted_canon = dict((canonical(full), full) for dummy, full in wanted)
        installed = client.installed()
    except OllamaError as exc:
        module.fail_json(msg="ollama_model: %s" % exc)

    before = sorted(short(c) for c in installed)
    to_pull = []
    to_remove = []
    if p["state"] == "present":
        for canon, full in wanted_canon.items():
            have = installed.get(canon)
            if not p["pull"]:
                continue
            if have is None:
                to_pull.append(full)
            elif p["digest"] and _norm_digest(have.get("digest")) != _norm_digest(p["digest"]):
                to_pull.append(full)
        if p["prune"]:
            to_remove = [c for c in installed if c not in wanted_canon]
    else:
        to_remove = [c for c in wanted_canon if c in installed]

    after_set = (set(installed) | set(canonical(n) for n in to_pull)) - set(to_remove)
    result = dict(
        changed=bool(to_pull or to_remove),
        pulled=[short(n) for n in to_pull],
        removed=sorted(short(c) for c in to_remove),
        models=sorted(short(c) for c in after_set),
    )
    if module._diff:
        result["diff"] = dict(
            before_header="ollama models at %s" % p["api_url"],
            after_header="ollama models at %s" % p["api_url"],
            before="".join("%s\n" % m for m in before),
            after="".join("%s\n" % m for m in result["models"]),
        )
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    progress = {}
    try:
        for full in to_pull:
            lines = list(client.pull(full, insecure=p["insecure"], timeout=p["timeout"]))
            progress[short(full)] = summarize_pull(lines)
        for canon in to_remove:
            client.delete(installed[canon].get("model") or installed[canon]["name"])
        now = client.installed()
    except OllamaError as exc:
        result["progress"] = progress
        module.fail_json(msg="ollama_model: %s" % exc, **result)
    if p["digest"]:
        got = _norm_digest(now.get(canonical(to_pull[0] if to_pull else wanted[0][1]), {}).get("digest"))
        if got != _norm_digest(p["digest"]):
            module.fail_json(
                msg="ollama_model: %s has digest %s after the pull, expected %s" % (p["name"][0], got, p["digest"]),
                **result
            )
    result["models"] = sorted(short(c) for c in now)
    if progress:
        result["progress"] = progress
    module.exit_json(**result)


if __name__ == "__main__":
    main()
