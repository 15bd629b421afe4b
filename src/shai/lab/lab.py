"""Bring a lab of real Debian 12 systemd hosts up and down (systemd-nspawn on a private bridge).

Layout of one lab's state directory (``${SHAI_CACHE:-~/.cache/shai}/lab/labs/<name>/``)::

    state.json            what is running (hosts, addresses, pids) - written once the lab is up
    id_ed25519[.pub]      the lab's SSH key pair (0600), authorized for root on every host
    hosts/<h>/{upper,work,merged}   the host's overlayfs (lower = the cached base rootfs)
    logs/<h>.log, logs/proxy.log, logs/mirror.log
    tinyproxy.conf
    inventory.yml         custom labs only (the default lab writes inventories/lab/hosts.yml)

Every process the lab starts carries the state directory path on its command line (or has its
root directory under it), which is how ``down`` and the stale-leftover cleanup find them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.lab import inventory as inv
from shai.lab import net, rootfs
from shai.lab.system import System

DEFAULT_LAB = "default"
PROXY_PORT = 13128
MIRROR_PORT = 18080
PROXY_ALLOW = ("deb.debian.org", "security.debian.org", "pypi.org", "files.pythonhosted.org")
SSH_TIMEOUT = 180.0
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
GUEST_CA_BUNDLE = "/usr/local/share/shai-lab/ca-bundle.crt"
# Capabilities granted to every host on top of systemd-nspawn's defaults (CAP_NET_ADMIN is
# already granted with a private network). Never CAP_SYS_MODULE: hosts cannot load modules.
DEFAULT_CAPABILITIES = ("CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_RESOURCE", "CAP_IPC_LOCK")

Progress = Callable[[str], None]


class LabError(ShaiError, RuntimeError):  # type: ignore[misc]  # ShaiError is untyped
    """A lab operation failed; the message says what and where to look."""


def cache_dir() -> Path:
    return Path(os.environ.get("SHAI_CACHE") or Path.home() / ".cache" / "shai")


def repo_root() -> Path:
    """The collection checkout this package lives in (dev install), else the current directory."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "galaxy.yml").is_file() else Path.cwd()


@dataclass
class Paths:
    cache: Path = field(default_factory=cache_dir)
    subnet_table: Path | None = None  # default: <cache>/lab/subnets.json

    @property
    def lab_root(self) -> Path:
        return self.cache / "lab"

    @property
    def rootfs(self) -> Path:
        return rootfs.path_for(self.lab_root)

    @property
    def table(self) -> Path:
        return self.subnet_table or self.lab_root / "subnets.json"

    @property
    def mirror(self) -> Path:
        return self.cache / "mirror"

    def state(self, name: str) -> Path:
        return self.lab_root / "labs" / net.validate_name(name)

    def default_inventory(self, name: str) -> Path:
        if name == DEFAULT_LAB:
            return repo_root() / "inventories" / "lab" / "hosts.yml"
        return self.state(name) / "inventory.yml"


@dataclass
class HostState:
    name: str
    groups: list[str]
    address: str
    machine: str
    pid: int = 0


@dataclass
class LabState:
    name: str
    subnet: str
    bridge: str
    gateway: str
    key_file: str
    inventory: str
    proxy_url: str
    mirror_url: str
    hosts: list[HostState]
    proxy_pid: int = 0
    mirror_pid: int = 0
    started: float = 0.0

    @classmethod
    def load(cls, path: Path) -> LabState:
        data: dict[str, Any] = json.loads(path.read_text())
        hosts = [HostState(**h) for h in data.pop("hosts")]
        return cls(hosts=hosts, **data)

    def save(self, path: Path) -> None:
        atomic_write(str(path), json.dumps(asdict(self), indent=2) + "\n")


def default_hosts() -> list[inv.HostSpec]:
    return [inv.HostSpec(name, groups) for name, groups in inv.DEFAULT_HOSTS]


class Lab:
    """One named lab. ``system`` is replaced by a fake in unit tests."""

    def __init__(
        self,
        name: str = DEFAULT_LAB,
        paths: Paths | None = None,
        system: System | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.name = net.validate_name(name)
        self.paths = paths or Paths()
        self.sys = system or System()
        self.progress: Progress = progress or (lambda _msg: None)
        self.state_dir = self.paths.state(name)
        self.bridge = net.bridge_name(name)
        self.nft_table = f"shai_lab_{net.short_hash(name, 8)}"

    # -- queries ---------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def state(self) -> LabState | None:
        try:
            return LabState.load(self.state_file)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def leftovers(self) -> dict[str, list[str]]:
        """What of this lab exists on the machine right now (processes, mounts, links)."""
        marker = str(self.state_dir)
        links = [
            str(link["ifname"])
            for link in self.sys.links()
            if link.get("ifname") == self.bridge or link.get("master") == self.bridge
        ]
        return {
            "processes": [str(p) for p in self.sys.pids_matching(marker)],
            "mounts": [str(m) for m in self.sys.mounts_under(self.state_dir)],
            "links": links,
        }

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise up/down of one lab name across processes (two `up -n X` never interleave)."""
        with net.flocked(self.state_dir.parent / f".{self.name}.lock"):
            yield

    # -- up --------------------------------------------------------------------------------
    def up(
        self,
        hosts: Sequence[inv.HostSpec] | None = None,
        inventory_path: Path | None = None,
        capabilities: Sequence[str] = DEFAULT_CAPABILITIES,
        timeout: float = SSH_TIMEOUT,
    ) -> LabState:
        """Start the lab (cleaning any leftovers of an earlier run first). On failure, clean up."""
        hosts = list(hosts) if hosts else default_hosts()
        for host in hosts:
            net.validate_name(host.name, "host name")
        _require_root_and_tools()
        target = inventory_path or self.paths.default_inventory(self.name)
        with self.locked(), _sigterm_as_exit():
            self._down(quiet=True)  # leftovers of a killed run (or a lab that is still up)
            try:
                return self._up(hosts, target, capabilities, timeout)
            except BaseException:
                self.progress("bring-up failed: cleaning up")
                with contextlib.suppress(Exception):
                    self._down(quiet=True, keep_logs=True)
                raise

    def _up(
        self, hosts: list[inv.HostSpec], inventory_path: Path, capabilities: Sequence[str], timeout: float
    ) -> LabState:
        started = time.monotonic()
        self.ensure_rootfs()
        alloc = net.allocate(self.paths.table, self.name, busy=self._busy_indexes())
        subnet = alloc.subnet
        gw = net.gateway(subnet)
        placed = inv.assign_addresses(subnet, hosts)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        key = self._ensure_key()
        proxy_url = f"http://{gw}:{PROXY_PORT}"
        mirror_url = f"http://{gw}:{MIRROR_PORT}"
        state = LabState(
            name=self.name,
            subnet=str(subnet),
            bridge=self.bridge,
            gateway=str(gw),
            key_file=str(key),
            inventory=str(inventory_path),
            proxy_url=proxy_url,
            mirror_url=mirror_url,
            hosts=[
                HostState(h.name, list(h.groups), h.address, net.machine_name(self.name, h.name))
                for h in placed
            ],
        )
        state.save(self.state_file)  # early: a failed or killed `up` still knows what to clean

        self.progress(f"bridge {self.bridge} {gw}/{subnet.prefixlen}")
        self.sys.create_bridge(self.bridge, f"{gw}/{subnet.prefixlen}")
        self._isolate(subnet)
        state.proxy_pid = self._start_proxy(subnet, gw)
        state.mirror_pid = self._start_mirror(gw)
        state.save(self.state_file)

        for host in state.hosts:
            self.progress(f"booting {host.name} ({host.address})")
            self._prepare_host(host, state, subnet)
            host.pid = self._boot(host, capabilities)
            state.save(self.state_file)

        self.progress("waiting for sshd on every host")
        self._wait_ssh(state, timeout)
        self.progress(f"writing inventory {inventory_path}")
        inv.write(self._inventory(state), inventory_path)
        state.started = time.time()
        state.save(self.state_file)
        self.progress(f"lab {self.name} up in {time.monotonic() - started:.1f}s")
        return state

    def ensure_rootfs(self) -> None:
        path = self.paths.rootfs
        # One build at a time on this machine; whoever waited finds the tree built.
        with net.flocked(self.paths.lab_root / ".rootfs.lock"):
            if rootfs.is_current(path):
                for old in rootfs.prune(self.paths.lab_root, keep=path):
                    self.progress(f"removed unused base tree {old}")
                return
            rootfs.remove_stale_builds(path)
            seconds = rootfs.build(path, self.paths.lab_root / "rootfs-build.log", self.progress)
            self.progress(f"base rootfs built in {seconds:.0f}s")
            for old in rootfs.prune(self.paths.lab_root, keep=path):
                self.progress(f"removed unused base tree {old}")

    def _busy_indexes(self) -> set[int]:
        """Third octets of 10.213.x.0/24 subnets configured on interfaces that are not ours."""
        busy: set[int] = set()
        for link in self.sys.addresses():
            if link.get("ifname") == self.bridge:
                continue
            for addr in link.get("addr_info", []):
                try:
                    ip = ipaddress.IPv4Address(addr.get("local", ""))
                except ValueError:
                    continue
                if ip in net.LAB_SUPERNET:
                    busy.add(int(str(ip).split(".")[2]))
        return busy

    def _ensure_key(self) -> Path:
        key = self.state_dir / "id_ed25519"
        if not key.exists():
            self.sys.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"shai-lab-{self.name}", "-f", str(key)]
            )
        key.chmod(0o600)
        return key

    def _isolate(self, subnet: ipaddress.IPv4Network) -> None:
        """Belt and braces on top of "no default route in the hosts": never forward lab traffic."""
        script = (
            # "add, delete, define" replaces a table left by a killed run atomically (nft -f is
            # one transaction); nftables 1.0.6 (bookworm) has no `destroy`.
            f"table inet {self.nft_table}\ndelete table inet {self.nft_table}\n"
            f"table inet {self.nft_table} {{\n"
            "  chain forward {\n    type filter hook forward priority -10; policy accept;\n"
            # Host-to-host traffic on the bridge stays allowed (br_netfilter shows it here too).
            f'    iifname "{self.bridge}" oifname != "{self.bridge}" drop\n'
            f'    oifname "{self.bridge}" iifname != "{self.bridge}" drop\n'
            f'    ip saddr {subnet} oifname != "{self.bridge}" drop\n  }}\n}}\n'
        )
        self.sys.nft(script)

    def _delete_nft_table(self, table: str) -> None:
        self.sys.nft(f"table inet {table}\ndelete table inet {table}\n", check=False)

    def _prune_nft_tables(self) -> None:
        """Delete isolation tables of any lab whose bridge is gone (left by a killed run)."""
        bridges = {str(link.get("ifname")) for link in self.sys.links()}
        for table in self.sys.nft_tables():
            if table.startswith("shai_lab_") and f"shai-{table.removeprefix('shai_lab_')}" not in bridges:
                self._delete_nft_table(table)

    def _start_proxy(self, subnet: ipaddress.IPv4Network, gw: ipaddress.IPv4Address) -> int:
        conf = self.state_dir / "tinyproxy.conf"
        allow = self.state_dir / "proxy-allow.txt"
        allow.write_text("".join(f"^{re.escape(d)}$\n" for d in proxy_allowed_domains()))
        conf.write_text(
            "# shai lab proxy: apt and pip only, for the lab subnet only\n"
            f'Filter "{allow}"\nFilterType ere\nFilterDefaultDeny Yes\nFilterURLs Off\n'
            f"User nobody\nGroup nogroup\nPort {PROXY_PORT}\nListen {gw}\nBindSame no\n"
            "Timeout 120\nMaxClients 50\nLogLevel Notice\n"
            f"Allow {subnet}\nConnectPort 443\nDisableViaHeader Yes\n"
        )
        pid = self.sys.spawn(["tinyproxy", "-d", "-c", str(conf)], self.state_dir / "logs" / "proxy.log")
        self._wait_port(str(gw), PROXY_PORT, pid, "proxy", self.state_dir / "logs" / "proxy.log")
        return pid

    def _start_mirror(self, gw: ipaddress.IPv4Address) -> int:
        self.paths.mirror.mkdir(parents=True, exist_ok=True)
        log = self.state_dir / "logs" / "mirror.log"
        cmd = [
            sys.executable,
            "-m",
            "shai.lab.mirror",
            "--state-dir",
            str(self.state_dir),
            "--bind",
            str(gw),
            "--port",
            str(MIRROR_PORT),
            "--directory",
            str(self.paths.mirror),
        ]
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        pid = self.sys.spawn(cmd, log, env=env)
        self._wait_port(str(gw), MIRROR_PORT, pid, "mirror", log)
        return pid

    def _wait_port(
        self, address: str, port: int, pid: int, what: str, log: Path, timeout: float = 10.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _port_open(address, port):
                return
            if not self.sys.alive(pid):
                break
            self.sys.sleep(0.1)
        raise LabError(
            f"the lab {what} did not start on {address}:{port}; last lines of {log}:\n{_tail(log)}"
        )

    def _prepare_host(self, host: HostState, state: LabState, subnet: ipaddress.IPv4Network) -> None:
        base = self.state_dir / "hosts" / host.name
        upper, work, merged = base / "upper", base / "work", base / "merged"
        for d in (upper, work, merged):
            d.mkdir(parents=True, exist_ok=True)
        self.sys.mount_overlay(self.paths.rootfs, upper, work, merged)
        write_host_files(merged, host, state, subnet)

    def _boot(self, host: HostState, capabilities: Sequence[str]) -> int:
        merged = self.state_dir / "hosts" / host.name / "merged"
        cmd = [
            "systemd-nspawn",
            "--boot",
            "--register=no",
            "--keep-unit",
            "--quiet",
            f"--network-bridge={self.bridge}",
            "-D",
            str(merged),
            f"--machine={host.machine}",
            f"--hostname={host.name}",
            "--private-users=no",
            "--resolv-conf=off",
            "--timezone=off",
            "--link-journal=no",
            "--console=read-only",
        ]
        if capabilities:
            cmd.append(f"--capability={','.join(capabilities)}")
        env = dict(os.environ, SYSTEMD_NSPAWN_TMPFS_TMP="0")
        return self.sys.spawn(cmd, self.state_dir / "logs" / f"{host.name}.log", env=env)

    def _wait_ssh(self, state: LabState, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(state.hosts)
        while pending:
            for host in list(pending):
                if not self.sys.alive(host.pid):
                    log = self.state_dir / "logs" / f"{host.name}.log"
                    raise LabError(
                        f"host {host.name}: systemd-nspawn exited; last lines of {log}:\n{_tail(log)}"
                    )
                if _ssh_banner(host.address) and self._ssh_ok(state, host):
                    pending.remove(host)
            if not pending:
                return
            if time.monotonic() > deadline:
                host = pending[0]
                log = self.state_dir / "logs" / f"{host.name}.log"
                raise LabError(
                    f"host {host.name} ({host.address}): sshd not reachable after {timeout:.0f}s; "
                    f"last lines of {log}:\n{_tail(log)}"
                )
            self.sys.sleep(0.5)

    def _ssh_ok(self, state: LabState, host: HostState) -> bool:
        proc = subprocess.run(
            ssh_command(state, host.name, ["true"], batch=True), capture_output=True, check=False
        )
        return proc.returncode == 0

    def _inventory(self, state: LabState) -> inv.LabInventory:
        subnet = net.check_subnet(ipaddress.IPv4Network(state.subnet))
        variables = {
            "shai_lab_name": state.name,
            "shai_lab_gateway": state.gateway,
            "shai_lab_proxy_url": state.proxy_url,
            "shai_lab_mirror_url": state.mirror_url,
            "shai_lan_cidr": state.subnet,
        }
        hosts = [inv.HostSpec(h.name, tuple(h.groups), h.address) for h in state.hosts]
        return inv.LabInventory(state.name, subnet, hosts, Path(state.key_file), variables)

    # -- down ------------------------------------------------------------------------------
    def down(self, quiet: bool = False, keep_logs: bool = False) -> list[str]:
        """Remove everything of this lab. Safe to run any number of times; returns what it removed."""
        with self.locked():
            return self._down(quiet, keep_logs)

    def _down(self, quiet: bool = False, keep_logs: bool = False) -> list[str]:
        removed: list[str] = []
        say = (lambda _m: None) if quiet else self.progress
        state = self.state()
        marker = str(self.state_dir)

        # 1. processes: ask the hosts to power off (SIGTERM to nspawn = clean shutdown), then kill.
        pids = [h.pid for h in state.hosts] if state else []
        for pid in pids:
            if pid and self.sys.alive(pid) and pid in self.sys.pids_matching(marker):
                self.sys.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + (5.0 if pids else 0.0)
        while time.monotonic() < deadline and any(p in self.sys.pids_matching(marker) for p in pids if p):
            self.sys.sleep(0.2)
        for _attempt in range(50):
            remaining = self.sys.pids_matching(marker)
            if not remaining:
                break
            for pid in remaining:
                self.sys.kill(pid, signal.SIGKILL)
            removed.extend(f"process {p}" for p in remaining)
            self.sys.sleep(0.1)
            self.sys.reap()
        else:
            raise LabError(f"lab {self.name}: processes {self.sys.pids_matching(marker)} survive SIGKILL")
        self.sys.reap()

        # 2. mounts (deepest first; lazy unmount as the fallback).
        for point in self.sys.mounts_under(self.state_dir):
            self.sys.umount(point)
            removed.append(f"mount {point}")
        still = self.sys.mounts_under(self.state_dir)
        if still:
            raise LabError(f"lab {self.name}: cannot unmount {', '.join(map(str, still))}")

        # 3. links: veths enslaved to the bridge, then the bridge; the nft isolation table.
        for link in self.sys.links():
            if link.get("master") == self.bridge and link.get("ifname") != self.bridge:
                self.sys.delete_link(str(link["ifname"]))
                removed.append(f"link {link['ifname']}")
        if self.sys.link_exists(self.bridge):
            self.sys.delete_link(self.bridge)
            removed.append(f"bridge {self.bridge}")
        self._delete_nft_table(self.nft_table)
        self._prune_nft_tables()

        # 4. files: generated inventory, state dir (logs kept after a failed up), allocation.
        inventory_path = Path(state.inventory) if state else self.paths.default_inventory(self.name)
        if inventory_path.is_file() and inventory_path.read_text().startswith("# Generated by `shai lab up`"):
            inventory_path.unlink()
            removed.append(f"inventory {inventory_path}")
        if self.state_dir.exists():
            if keep_logs:
                for child in self.state_dir.iterdir():
                    if child.name != "logs":
                        _remove(child)
            else:
                _remove(self.state_dir)
            removed.append(f"state {self.state_dir}")
        net.release(self.paths.table, self.name)
        for item in removed:
            say(f"removed {item}")
        return removed


def write_host_files(merged: Path, host: HostState, state: LabState, subnet: ipaddress.IPv4Network) -> None:
    """Write the per-host configuration into the host's overlay before it boots."""
    address = net.check_host_address(host.address, subnet, host.name)

    def put(rel: str, text: str, mode: int = 0o644) -> None:
        path = merged / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_text(text)
        path.chmod(mode)

    put("/etc/hostname", f"{host.name}\n")
    hosts_lines = [
        "127.0.0.1\tlocalhost",
        f"127.0.1.1\t{host.name}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
    ]
    hosts_lines += [f"{h.address}\t{h.name}" for h in state.hosts]
    put("/etc/hosts", "\n".join(hosts_lines) + "\n")
    put(
        "/etc/systemd/network/10-host0.network",
        "# shai lab: static address, no gateway (the lab never routes out)\n"
        f"[Match]\nName=host0\n\n[Network]\nAddress={address}/{subnet.prefixlen}\nLinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n",
    )
    put("/etc/resolv.conf", "# shai lab: no DNS; apt and pip reach the archive through the lab proxy\n")
    pub = Path(state.key_file + ".pub").read_text()
    (merged / "root" / ".ssh").mkdir(parents=True, exist_ok=True)
    (merged / "root" / ".ssh").chmod(0o700)
    put("/root/.ssh/authorized_keys", pub, 0o600)
    put(
        "/etc/apt/apt.conf.d/80shai-lab-proxy",
        f'Acquire::http::Proxy "{state.proxy_url}";\nAcquire::https::Proxy "{state.proxy_url}";\n',
    )
    if HOST_CA_BUNDLE.is_file():
        host_bundle = HOST_CA_BUNDLE.read_text()
        put(GUEST_CA_BUNDLE, host_bundle)
        # CAs this machine trusts beyond Debian's (e.g. the one of an intercepting proxy in
        # front of the archive/PyPI): trusted system-wide in the host too, and kept across a
        # later update-ca-certificates.
        guest_bundle_path = merged / "etc/ssl/certs/ca-certificates.crt"
        guest_bundle = guest_bundle_path.read_text() if guest_bundle_path.is_file() else ""
        extra = [c for c in pem_certificates(host_bundle) if c not in set(pem_certificates(guest_bundle))]
        for i, cert in enumerate(extra):
            put(f"/usr/local/share/ca-certificates/shai-lab/shai-lab-{i}.crt", cert)
        if extra:
            put("/etc/ssl/certs/ca-certificates.crt", guest_bundle + "".join(extra))
    # Python's urllib (Ansible's get_url/uri) ignores CIDR entries in no_proxy, so the gateway
    # (the lab mirror, the git fixtures) and every host are listed by address as well.
    direct = [state.gateway, *(h.address for h in state.hosts)]
    no_proxy = f"localhost,127.0.0.1,{subnet},{','.join(direct)}"
    put(
        "/etc/environment",
        f"http_proxy={state.proxy_url}\nhttps_proxy={state.proxy_url}\nHTTP_PROXY={state.proxy_url}\n"
        f"HTTPS_PROXY={state.proxy_url}\nno_proxy={no_proxy}\nNO_PROXY={no_proxy}\n"
        f"PIP_CERT={GUEST_CA_BUNDLE}\nREQUESTS_CA_BUNDLE={GUEST_CA_BUNDLE}\n",
    )


def proxy_allowed_domains() -> list[str]:
    """Domains the lab proxy forwards to: Debian's archive and PyPI, plus any listed in
    ``SHAI_LAB_PROXY_ALLOW`` (comma-separated). Everything else - 192.168.0.0/16 included - is
    refused by the proxy, so a lab host cannot reach the homelab even through it."""
    extra = [d.strip().lower() for d in os.environ.get("SHAI_LAB_PROXY_ALLOW", "").split(",") if d.strip()]
    for domain in extra:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", domain):
            raise LabError(f"SHAI_LAB_PROXY_ALLOW: {domain!r} is not a domain name")
        if re.fullmatch(r"[0-9.]+", domain):
            raise LabError(f"SHAI_LAB_PROXY_ALLOW: {domain!r} is an address; only domain names are allowed")
    return [*PROXY_ALLOW, *extra]


def pem_certificates(text: str) -> list[str]:
    """The PEM certificate blocks of a bundle, normalised (one trailing newline each)."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, flags=re.S)
    return [b.strip() + "\n" for b in blocks]


def ssh_command(state: LabState, host: str, command: Sequence[str] = (), batch: bool = False) -> list[str]:
    """The ssh command line reaching ``host`` of a lab as root with the lab key."""
    match = [h for h in state.hosts if h.name == host]
    if not match:
        raise LabError(
            f"lab {state.name} has no host {host!r} (hosts: {', '.join(h.name for h in state.hosts)})"
        )
    address = net.check_host_address(match[0].address, ipaddress.IPv4Network(state.subnet), host)
    cmd = [
        "ssh",
        "-i",
        state.key_file,
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "IdentitiesOnly=yes",
    ]
    if batch:
        cmd += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=3"]
    return [*cmd, f"root@{address}", *command]


def molecule_instances(state: LabState) -> list[dict[str, Any]]:
    """The lab's hosts in the shape molecule expects in ``molecule_instance_config``."""
    return [
        {
            "instance": h.name,
            "address": h.address,
            "user": "root",
            "port": 22,
            "identity_file": state.key_file,
        }
        for h in state.hosts
    ]


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM (a CI timeout, molecule being stopped) into SystemExit so a half-done `up`
    still cleans up after itself."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _require_root_and_tools() -> None:
    if os.geteuid() != 0:
        raise LabError("shai lab needs root (mounts, bridges, systemd-nspawn)")
    missing = [
        t
        for t in ("systemd-nspawn", "debootstrap", "tinyproxy", "nft", "ip", "ssh", "ssh-keygen")
        if shutil.which(t) is None
    ]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)}; run scripts/bootstrap.sh")


def _port_open(address: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
        return True
    return False


def _ssh_banner(address: str) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, 22), timeout=1.0) as sock:
        sock.settimeout(2.0)
        return sock.recv(4).startswith(b"SSH-")
    return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:])
    except OSError:
        return "(no log)"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    start = time.monotonic()
    yield lambda: time.monotonic() - start
