"""The LiteLLM routing harness: the real LiteLLM proxy (tools/litellm venv) in front of real Ollama
servers on loopback, configured with the config the GitOps tree renders.

Only the in-cluster addresses are mapped, by the tree and the inventory, never by hand:
``ClusterNet`` resolves an api_base (``http://<svc>.<ns>.svc.cluster.local:<port>``) the way
cluster DNS + kube-proxy would, through the rendered tree's own Service (its EndpointSlice
endpoints for the selector-less GPU Services, its fixed ClusterIP for the CPU Ollama), to the
address a packet would reach; the inventory says which host owns that address
(``shai_gpu_hosts`` addresses: the GPU workstations, ``gitops_ollama_cluster_ip``: the CPU Ollama),
and each host is one real Ollama on a loopback port here. Everything else in the config (model
list, groups, router_settings, fallbacks, telemetry) is passed through unchanged.

Shared by tests/litellm and benchmarks/litellm.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "models"))

from tiny_gguf import write_tiny_gguf  # noqa: E402  (tests/models: the tiny llama GGUF)

LOCK = ROOT / "tools" / "litellm" / "requirements.lock"
CONFIG_PATH = "platform/litellm/litellm.yaml"  # the rendered file holding the litellm-config ConfigMap
TINY = "shai-tiny"
GUARD_DIR = Path(__file__).resolve().parent / "netguard"


# ---------------------------------------------------------------------------------------------
# The isolated LiteLLM environment (tools/litellm/build.sh)


def cache_dir() -> Path:
    env = os.environ.get("SHAI_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "shai"


def litellm_venv() -> Path:
    """The venv tools/litellm/build.sh builds for the current lock; FileNotFoundError if not built."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    venv = cache_dir() / "litellm" / digest
    if not (venv / ".shai-built").is_file() or not (venv / "bin" / "litellm").is_file():
        raise FileNotFoundError(
            f"the LiteLLM venv for {LOCK.relative_to(ROOT)} is not built ({venv}): run "
            "tools/litellm/build.sh (or tools/build.sh litellm)"
        )
    return venv


def litellm_version(venv: Path) -> str:
    for line in LOCK.read_text().splitlines():
        if line.startswith("litellm=="):
            return line.split("==", 1)[1].split()[0]
    return "?"


# ---------------------------------------------------------------------------------------------
# The cluster network double: Service URL -> address, from the rendered tree


def _docs(files: Mapping[str, bytes]) -> Iterator[dict[str, Any]]:
    for name, data in files.items():
        if not name.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(data):
            if isinstance(doc, dict) and "kind" in doc:
                yield doc


class ClusterNet:
    """What an in-cluster Service URL reaches, read from the rendered tree's own objects."""

    SVC = re.compile(r"^(?P<name>[a-z0-9-]+)\.(?P<ns>[a-z0-9-]+)\.svc(\.cluster\.local)?\.?$")

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        self.slices: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for doc in _docs(files):
            meta = doc.get("metadata") or {}
            key = (meta.get("namespace", ""), meta.get("name", ""))
            if doc["kind"] == "Service":
                self.services[key] = doc
            elif doc["kind"] == "EndpointSlice":
                svc = (meta.get("labels") or {}).get("kubernetes.io/service-name", "")
                self.slices.setdefault((key[0], svc), []).append(doc)

    def resolve(self, url: str) -> list[tuple[str, int]]:
        """The (address, port) pairs a connection to `url` can land on (kube-proxy's choice)."""
        parts = urlsplit(url)
        m = self.SVC.match(parts.hostname or "")
        if not m:
            raise LookupError(f"{url}: not an in-cluster Service name")
        key = (m["ns"], m["name"])
        svc = self.services.get(key)
        if svc is None:
            raise LookupError(f"{url}: the tree has no Service {key[1]} in namespace {key[0]}")
        spec = svc.get("spec") or {}
        port = parts.port or 80
        sport = next((p for p in spec.get("ports", []) if p.get("port") == port), None)
        if sport is None:
            raise LookupError(f"{url}: Service {key[1]} has no port {port}")
        if spec.get("type") == "ExternalName":
            return [(spec["externalName"], port)]
        if spec.get("selector"):
            # A Service with Pods behind it: the tree pins its ClusterIP (the CPU Ollama's).
            cip = spec.get("clusterIP")
            if not cip:
                raise LookupError(f"{url}: Service {key[1]} has Pods but no fixed clusterIP")
            return [(cip, port)]
        out = []
        for sl in self.slices.get(key, []):
            target = next(
                (p["port"] for p in sl.get("ports", []) if p.get("name") == sport.get("name")), None
            )
            for ep in sl.get("endpoints", []):
                for addr in ep.get("addresses", []):
                    out.append((addr, target or sport.get("targetPort", port)))
        if not out:
            raise LookupError(f"{url}: Service {key[1]} has no EndpointSlice endpoints in the tree")
        return out


@dataclass(frozen=True)
class Host:
    """One inventory host that serves Ollama: `kind` gpu (a GPU workstation) or cpu (in-cluster)."""

    name: str
    kind: str
    address: str


def inventory_hosts(values: Mapping[str, Any]) -> list[Host]:
    """The Ollama hosts of an inventory's values: each shai_gpu_hosts entry, and the CPU Ollama's
    fixed ClusterIP (gitops_ollama_cluster_ip)."""
    hosts = [Host(str(h["name"]), "gpu", str(h["address"])) for h in values.get("shai_gpu_hosts") or []]
    hosts.append(Host("cpu-ollama", "cpu", str(values["gitops_ollama_cluster_ip"])))
    return hosts


def rendered_config(files: Mapping[str, bytes]) -> dict[str, Any]:
    """LiteLLM's config.yaml from the tree's litellm-config ConfigMap."""
    for doc in yaml.safe_load_all(files[CONFIG_PATH]):
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            cfg: dict[str, Any] = yaml.safe_load(doc["data"]["config.yaml"])
            return cfg
    raise LookupError(f"{CONFIG_PATH} holds no ConfigMap")


def map_config(
    config: Mapping[str, Any], net: ClusterNet, hosts: list[Host], urls: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The config with every api_base replaced by the loopback URL of the host it reaches.

    `urls`: host name -> its Ollama's loopback URL. Returns (config, {loopback URL: host name}).
    """
    by_addr = {h.address: h for h in hosts}
    out = json.loads(json.dumps(config))
    owner: dict[str, str] = {}
    for item in out.get("model_list", []):
        params = item["litellm_params"]
        targets = net.resolve(params["api_base"])
        names = {by_addr[a].name for a, _ in targets if a in by_addr}
        if len(names) != 1 or len(targets) != 1:
            raise LookupError(f"{params['api_base']} reaches {targets}: expected exactly one inventory host")
        name = names.pop()
        params["api_base"] = urls[name]
        owner[urls[name]] = name
    return out, owner


# ---------------------------------------------------------------------------------------------
# Real Ollama servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def offline_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment with no proxy and loopback exempt from any proxy."""
    env = dict(base if base is not None else os.environ)
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del env[k]
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


# The harness's own client never uses a proxy, whatever the environment says (loopback only).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout: float = 1.0) -> bytes:
    with _OPENER.open(url, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data


@dataclass
class Ollama:
    """One real `ollama serve` on a fixed loopback port; stop() and start() keep the port and models."""

    exe: Path
    name: str
    work: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.work / "serve.log"

    def env(self) -> dict[str, str]:
        return offline_env(
            dict(
                os.environ,
                OLLAMA_HOST=f"127.0.0.1:{self.port}",
                OLLAMA_MODELS=str(self.work / "models"),
                HOME=str(self.work),
                OLLAMA_NOPRUNE="1",
                OLLAMA_KEEP_ALIVE="-1",  # the tiny model stays loaded: no reload between requests
                OLLAMA_NO_CLOUD="1",  # no cloud models or remotes
            )
        )

    def start(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.work.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(self.exe), "serve"], env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                _get(self.url + "/api/version")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"ollama {self.name} did not come up: {self.log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ollama(self, *args: str) -> None:
        subprocess.run([str(self.exe), *args], env=self.env(), check=True, capture_output=True)

    def hold(self, models: list[str]) -> None:
        """Create the tiny test model and name it as every model in `models` (as model sync would
        pull them): the backend then answers exactly the names its deployments use."""
        gguf = write_tiny_gguf(self.work / "tiny.gguf", byte_tokens=True)
        (self.work / "Modelfile").write_text(f"FROM {gguf}\n")
        self.ollama("create", TINY, "-f", str(self.work / "Modelfile"))
        for m in models:
            self.ollama("cp", TINY, m)

    def requests(self, path: str) -> int:
        """How many requests for `path` this Ollama has logged (its own access log, all runs)."""
        pat = re.compile(r'\|\s*(POST|GET)\s+"' + re.escape(path) + r'"')
        return sum(1 for line in self.log.read_text(errors="replace").splitlines() if pat.search(line))


# ---------------------------------------------------------------------------------------------
# The real LiteLLM proxy


@dataclass
class Proxy:
    venv: Path
    config: dict[str, Any]
    work: Path
    port: int = field(default_factory=free_port)
    master_key: str = field(default_factory=lambda: "sk-" + secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0
    _t0: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.work / "litellm.log"

    @property
    def guard_log(self) -> Path:
        return self.work / "netguard.log"

    def env(self) -> dict[str, str]:
        """The proxy's environment: offline, the master key, the network guard."""
        env = offline_env()
        for k in list(env):
            # The in-cluster Deployment's Redis/PostgreSQL are not part of this topology (one
            # replica, no database): their variables stay unset, the config is unchanged.
            if k.startswith(("REDIS_", "DATABASE_URL", "LITELLM_", "PYTHONDONTWRITEBYTECODE")):
                del env[k]
        env.update(
            HOME=str(self.work),
            LITELLM_MASTER_KEY=self.master_key,  # from the environment, never argv
            LITELLM_TELEMETRY="False",  # as the rendered Deployment sets it
            LITELLM_LOCAL_MODEL_COST_MAP="True",  # no cost-map download at import
            PYTHONPATH=str(GUARD_DIR),  # sitecustomize: refuses and logs any non-loopback connection
            SHAI_NETGUARD_LOG=str(self.guard_log),
        )
        return env

    def launch(self) -> None:
        """Start the proxy (not waiting for it: its start-up is slow, the caller may work meanwhile)."""
        self.work.mkdir(parents=True, exist_ok=True)
        cfg = self.work / "config.yaml"
        cfg.write_text(yaml.safe_dump(self.config, sort_keys=False))
        env = self.env()
        exe = self.venv / "bin" / "litellm"
        self._t0 = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work,
            )

    def wait_ready(self, timeout: float = 300.0) -> None:
        assert self.proc is not None, "launch() first"
        deadline = self._t0 + timeout
        while True:
            try:
                _get(self.url + "/health/liveliness")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"litellm did not come up: {self.log.read_text()[-3000:]}") from None
                time.sleep(0.2)
        self.startup_seconds = time.monotonic() - self._t0

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    seconds: float


def post(url: str, payload: Mapping[str, Any], key: str | None, timeout: float = 60.0) -> Answer:
    data = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    start = time.monotonic()
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
            headers = {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
        headers = {k.lower(): v for k, v in exc.headers.items()}
    secs = time.monotonic() - start
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"raw": raw.decode(errors="replace")}
    return Answer(status, headers, body, secs)


def stream(
    url: str, payload: Mapping[str, Any], key: str, timeout: float = 60.0
) -> tuple[int, dict[str, str], list[Any]]:
    """POST with stream=true; returns (status, headers, the parsed `data:` events, '[DONE]' as a str)."""
    data = json.dumps({**payload, "stream": True}).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    events: list[Any] = []
    with _OPENER.open(req, timeout=timeout) as resp:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        for line in resp:
            text = line.decode().strip()
            if not text.startswith("data:"):
                continue
            item = text[5:].strip()
            events.append(item if item == "[DONE]" else json.loads(item))
        return resp.status, headers, events


# ---------------------------------------------------------------------------------------------
# The whole topology: the tree rendered from an inventory, one Ollama per inventory host, the proxy


GPU2_INVENTORY = ROOT / "tests" / "gitops" / "inventory" / "hosts-gpu2.yml"


def render(inventory: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(values, rendered files) of the GitOps tree for `inventory`, as `shai gitops render` makes them."""
    from shai.gitops import core

    layout = core.Layout.default(ROOT)
    values = core.load_values(layout, core.inventory_vars(inventory))
    return values, core.render(layout, values)


@dataclass
class Topology:
    values: dict[str, Any]
    config: dict[str, Any]  # as rendered
    mapped: dict[str, Any]  # api_base mapped to loopback
    hosts: list[Host]
    ollamas: dict[str, Ollama]  # host name -> its Ollama
    owner: dict[str, str]  # loopback api_base -> host name
    proxy: Proxy

    @property
    def gpu(self) -> list[Ollama]:
        return [self.ollamas[h.name] for h in self.hosts if h.kind == "gpu"]

    @property
    def cpu(self) -> Ollama:
        return next(self.ollamas[h.name] for h in self.hosts if h.kind == "cpu")

    def kind(self, host: str) -> str:
        return next(h.kind for h in self.hosts if h.name == host)

    def served_by(self, answer: Answer) -> str:
        """The host whose Ollama served a proxied answer (LiteLLM's x-litellm-model-api-base)."""
        base = answer.headers.get("x-litellm-model-api-base", "")
        return self.owner.get(base.rstrip("/"), f"unknown api_base {base!r}")

    def up(self) -> None:
        """Every Ollama running (restarting the ones a test stopped)."""
        for o in self.ollamas.values():
            o.start()

    def stop(self) -> None:
        self.proxy.stop()
        for o in self.ollamas.values():
            o.stop()


def start_topology(inventory: Path, ollama_exe: Path, venv: Path, work: Path) -> Topology:
    """Render the tree, start one real Ollama per inventory host and the real proxy (in parallel:
    the proxy's start-up is the slow part)."""
    from concurrent.futures import ThreadPoolExecutor

    values, files = render(inventory)
    config = rendered_config(files)
    net = ClusterNet(files)
    hosts = inventory_hosts(values)
    ollamas = {h.name: Ollama(ollama_exe, h.name, work / "ollama" / h.name) for h in hosts}
    mapped, owner = map_config(config, net, hosts, {n: o.url for n, o in ollamas.items()})
    proxy = Proxy(venv, mapped, work / "litellm")
    topo = Topology(values, config, mapped, hosts, ollamas, owner, proxy)
    proxy.launch()
    try:
        # Each backend holds exactly the model names its deployments call.
        names: dict[str, list[str]] = {n: [] for n in ollamas}
        for item in mapped["model_list"]:
            params = item["litellm_params"]
            names[owner[params["api_base"]]].append(params["model"].split("/", 1)[1])

        def bring_up(name: str) -> None:
            ollamas[name].start()
            ollamas[name].hold(sorted(set(names[name])))

        with ThreadPoolExecutor(len(ollamas)) as pool:
            list(pool.map(bring_up, ollamas))
        proxy.wait_ready()
    except BaseException:
        topo.stop()
        raise
    return topo
