"""LiteLLM routing proven with the real proxy (issue 16 §1, ADR 0311, docs/litellm.md).

The proxy runs the config the GitOps tree renders for a two-GPU-workstation inventory; every
backend is a real Ollama holding the tiny test model under the names its deployments call.
Which backend served a request is read twice: from LiteLLM's own answer (x-litellm-model-api-base,
model group and name) and from the Ollamas' access logs (the request really arrived there).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import litellm_harness as h

CHAT = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}


def _chat(topo: h.Topology, group: str = "chat", **extra: Any) -> h.Answer:
    return h.post(
        topo.proxy.url + "/v1/chat/completions", {"model": group, **CHAT, **extra}, topo.proxy.master_key
    )


def _embed(topo: h.Topology) -> h.Answer:
    group = topo.values["gitops_litellm_embedding_group"]
    return h.post(
        topo.proxy.url + "/v1/embeddings", {"model": group, "input": "hello"}, topo.proxy.master_key
    )


def _cpu_group(topo: h.Topology, group: str) -> str:
    return group + topo.values["gitops_litellm_targets"]["cpu_ollama"]["suffix"]


def _arrived(topo: h.Topology, path: str) -> dict[str, int]:
    return {name: o.requests(path) for name, o in topo.ollamas.items()}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_the_proxy_runs_the_rendered_config(topology: h.Topology) -> None:
    """Only api_base differs from the rendered ConfigMap; each maps to one inventory host, and
    every GPU workstation of the inventory has its own deployment of the chat group."""
    rendered, mapped = topology.config, topology.mapped
    assert {k: v for k, v in rendered.items() if k != "model_list"} == {
        k: v for k, v in mapped.items() if k != "model_list"
    }
    for before, after in zip(rendered["model_list"], mapped["model_list"], strict=True):
        assert {**before, "litellm_params": {**before["litellm_params"], "api_base": None}} == {
            **after,
            "litellm_params": {**after["litellm_params"], "api_base": None},
        }
    chat_hosts = {
        topology.owner[m["litellm_params"]["api_base"]]
        for m in mapped["model_list"]
        if m["model_name"] == "chat"
    }
    assert chat_hosts == {hst.name for hst in topology.hosts if hst.kind == "gpu"}
    assert len(chat_hosts) == 2
    assert mapped["router_settings"]["enable_weighted_failover"] is True
    assert {"chat": ["chat-cpu"]} in mapped["router_settings"]["fallbacks"]


def test_master_key_required(topo: h.Topology) -> None:
    url = topo.proxy.url + "/v1/chat/completions"
    before = _arrived(topo, "/api/chat")
    no_key = h.post(url, {"model": "chat", **CHAT}, None)
    assert no_key.status == 401, no_key.body
    # A wrong key is refused too; without the in-cluster database the proxy says so with a 400
    # ("No connected db"), with it a 401: either way nothing reaches a backend.
    wrong = h.post(url, {"model": "chat", **CHAT}, "sk-not-the-master-key")
    assert wrong.status in (400, 401), wrong.body
    assert _arrived(topo, "/api/chat") == before


def test_chat_reaches_a_gpu_workstation(topo: h.Topology) -> None:
    before = _arrived(topo, "/api/chat")
    a = _chat(topo)
    assert a.status == 200, a.body
    assert a.body["choices"][0]["message"]["role"] == "assistant"
    host = topo.served_by(a)
    assert topo.kind(host) == "gpu"
    assert a.headers["x-litellm-model-group"] == "chat"
    assert _delta(before, _arrived(topo, "/api/chat")) == {host: 1}


def test_embedding_reaches_a_gpu_workstation(topo: h.Topology) -> None:
    before = _arrived(topo, "/api/embed")
    a = _embed(topo)
    assert a.status == 200, a.body
    vec = a.body["data"][0]["embedding"]
    assert len(vec) > 0 and all(isinstance(x, float) for x in vec)
    host = topo.served_by(a)
    assert topo.kind(host) == "gpu"
    assert _delta(before, _arrived(topo, "/api/embed")) == {host: 1}


def test_streaming_through_the_proxy(topo: h.Topology) -> None:
    status, headers, events = h.stream(
        topo.proxy.url + "/v1/chat/completions", {"model": "chat", **CHAT}, topo.proxy.master_key
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "[DONE]"
    chunks = [e for e in events if isinstance(e, dict)]
    assert chunks and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] is not None
    assert topo.kind(topo.owner.get(headers.get("x-litellm-model-api-base", ""), "?")) == "gpu"


def test_requests_spread_over_both_gpu_workstations(topo: h.Topology) -> None:
    before = _arrived(topo, "/api/chat")
    served = Counter(topo.served_by(_chat(topo)) for _ in range(12))
    gpus = {o.name for o in topo.gpu}
    # simple-shuffle: 12 requests all on one of two hosts has probability 2 * 2**-12.
    assert set(served) == gpus, served
    assert _delta(before, _arrived(topo, "/api/chat")) == dict(served)


def test_one_gpu_down_the_other_serves(topo: h.Topology) -> None:
    dead, alive = topo.gpu
    dead.stop()
    before = _arrived(topo, "/api/chat")
    answers = [_chat(topo) for _ in range(8)]
    assert [a.status for a in answers] == [200] * 8, [a.body for a in answers if a.status != 200]
    # Weighted failover: every request lands on the live GPU host, never on the CPU group.
    assert {topo.served_by(a) for a in answers} == {alive.name}
    assert {a.headers["x-litellm-model-group"] for a in answers} == {"chat"}
    assert _delta(before, _arrived(topo, "/api/chat")) == {alive.name: 8}
    # Embeddings have no weighted failover in LiteLLM 1.108 (ADR 0311): retries re-pick at
    # random, the CPU group catches the rest. They all succeed; most stay on the live GPU.
    embeds = [_embed(topo) for _ in range(4)]
    assert [a.status for a in embeds] == [200] * 4
    assert {topo.served_by(a) for a in embeds} <= {alive.name, topo.cpu.name}


def test_both_gpus_down_the_cpu_fallback_answers_then_traffic_returns(topo: h.Topology) -> None:
    for o in topo.gpu:
        o.stop()
    before = _arrived(topo, "/api/chat")
    a = _chat(topo)
    assert a.status == 200, a.body
    assert topo.served_by(a) == topo.cpu.name
    # The answer names what served it: the CPU group and its model (the architecture's fallback).
    cpu_models = {
        m["litellm_params"]["model"]
        for m in topo.mapped["model_list"]
        if m["model_name"] == _cpu_group(topo, "chat")
    }
    assert a.headers["x-litellm-model-group"] == _cpu_group(topo, "chat")
    assert a.headers["x-litellm-model-name"] in cpu_models
    assert int(a.headers["x-litellm-attempted-fallbacks"]) >= 1
    assert _delta(before, _arrived(topo, "/api/chat")) == {topo.cpu.name: 1}
    e = _embed(topo)
    assert e.status == 200 and topo.served_by(e) == topo.cpu.name
    s_status, _headers, s_events = h.stream(
        topo.proxy.url + "/v1/chat/completions", {"model": "chat", **CHAT}, topo.proxy.master_key
    )
    assert s_status == 200 and s_events[-1] == "[DONE]"

    # Bring them back: a refused connection never cools a deployment down, so the next requests
    # go to the GPU workstations again.
    topo.up()
    before = _arrived(topo, "/api/chat")
    served = [topo.served_by(_chat(topo)) for _ in range(6)]
    assert {topo.kind(s) for s in served} == {"gpu"}, served
    assert topo.cpu.name not in _delta(before, _arrived(topo, "/api/chat"))


def test_litellm_does_not_phone_home(topo: h.Topology) -> None:
    """Nothing the proxy did in this suite tried a non-loopback address or a DNS lookup
    (netguard/sitecustomize.py records and refuses any such attempt)."""
    assert topo.proxy.proc is not None and topo.proxy.proc.poll() is None
    attempts = topo.proxy.guard_log.read_text() if topo.proxy.guard_log.exists() else ""
    assert attempts == "", attempts


def test_the_network_guard_is_active(topology: h.Topology, tmp_path: Path) -> None:
    """The guard the proxy runs under really refuses and records (else the test above proves
    nothing): the proxy's own interpreter, with the proxy's environment, tries a documentation
    address (TEST-NET-1, refused before any packet) and a DNS name."""
    env = {**topology.proxy.env(), "SHAI_NETGUARD_LOG": str(tmp_path / "guard.log")}
    code = (
        "import socket\n"
        "for target in [('192.0.2.1', 9), ('example.invalid', 443)]:\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=1)\n"
        "    except OSError as exc:\n"
        "        print('refused', exc)\n"
    )
    out = subprocess.run(
        [str(topology.proxy.venv / "bin" / "python"), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.count("refused") == 2, out
    log = (tmp_path / "guard.log").read_text()
    assert "192.0.2.1" in log and "example.invalid" in log
