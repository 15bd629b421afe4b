"""Address planning for the lab: one /24 per lab inside 10.213.0.0/16, and the safety rules.

Everything here is pure (no root, no processes) so it is unit tested directly. The allocation
table is a small JSON file guarded by ``flock`` so two concurrent ``shai lab up`` runs never pick
the same subnet.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ansible_collections.vectorweight.shai.plugins.module_utils.atomic import atomic_write
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

LAB_SUPERNET = ipaddress.IPv4Network("10.213.0.0/16")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
HOST_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
# First host address inside a lab subnet; .1 is the gateway (the bridge).
FIRST_HOST_OCTET = 10


class LabSafetyError(ShaiError, RuntimeError):  # type: ignore[misc]  # ShaiError is untyped
    """Raised when something would make the lab touch addresses outside its own subnet."""


class LabNameError(ShaiError, ValueError):  # type: ignore[misc]  # ShaiError is untyped
    """Raised for a lab or host name that cannot be used."""


def validate_name(name: str, what: str = "lab name") -> str:
    """Return ``name`` if it is a usable lab/host name (lowercase DNS label, <= 31 chars)."""
    if not NAME_RE.match(name) or name.endswith("-"):
        raise LabNameError(
            f"invalid {what} {name!r}: use lowercase letters, digits and '-', 1-31 characters, "
            "starting and ending with a letter or digit"
        )
    return name


def short_hash(name: str, length: int = 6) -> str:
    """A stable short hex digest of ``name`` (used for bridge and interface names)."""
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def preferred_index(name: str) -> int:
    """The third octet a lab named ``name`` prefers: 1..254, derived deterministically."""
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    return digest % 254 + 1


def subnet_for_index(index: int) -> ipaddress.IPv4Network:
    if not 1 <= index <= 254:
        raise LabSafetyError(f"lab subnet index {index} outside 1..254")
    return ipaddress.IPv4Network(f"10.213.{index}.0/24")


def check_subnet(subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """Refuse any subnet that is not a /24 inside 10.213.0.0/16."""
    if subnet.prefixlen != 24 or not subnet.subnet_of(LAB_SUPERNET):
        raise LabSafetyError(f"refusing lab subnet {subnet}: lab subnets must be /24s inside {LAB_SUPERNET}")
    return subnet


def check_host_address(address: str, subnet: ipaddress.IPv4Network, host: str = "?") -> str:
    """Refuse any host address outside the lab subnet, and the network/gateway/broadcast."""
    check_subnet(subnet)
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise LabSafetyError(f"host {host}: {address!r} is not an IPv4 address") from exc
    if ip not in subnet:
        raise LabSafetyError(f"refusing host {host} at {ip}: outside the lab subnet {subnet}")
    if ip in (subnet.network_address, subnet.broadcast_address, gateway(subnet)):
        raise LabSafetyError(f"refusing host {host} at {ip}: reserved address in {subnet}")
    return str(ip)


def gateway(subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The bridge address (.1) of a lab subnet."""
    return subnet.network_address + 1


def host_address(subnet: ipaddress.IPv4Network, position: int) -> str:
    """Address of the ``position``-th host (0-based) of a lab: .10, .11, ..."""
    ip = subnet.network_address + FIRST_HOST_OCTET + position
    return check_host_address(str(ip), subnet)


def bridge_name(lab: str) -> str:
    """Linux interface name (<= 15 chars) of a lab's bridge."""
    return f"shai-{short_hash(lab, 8)}"


def machine_name(lab: str, host: str) -> str:
    """systemd-nspawn machine name of a host: unique across labs so veth names never collide."""
    return f"sl{short_hash(lab, 4)}-{host}"


@dataclass(frozen=True)
class Allocation:
    name: str
    subnet: ipaddress.IPv4Network


def choose_index(name: str, taken: Mapping[str, int], busy: set[int] | None = None) -> int:
    """Pick the subnet index for ``name``: its existing allocation, else its preferred index,
    else the next free one (linear probing). ``busy`` are indexes in use on this machine for
    another reason (an address already configured on some interface)."""
    if name in taken:
        return taken[name]
    used = set(taken.values()) | (busy or set())
    start = preferred_index(name)
    for step in range(254):
        index = (start - 1 + step) % 254 + 1
        if index not in used:
            return index
    raise LabSafetyError("no free /24 left in 10.213.0.0/16 (254 labs allocated)")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with flocked(path.with_suffix(".lock")):
        yield


@contextlib.contextmanager
def flocked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created if missing) for the block."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_table(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text() or "{}")
    if not isinstance(data, dict):
        raise LabSafetyError(f"{path}: expected a JSON object of lab name -> subnet index")
    return {str(k): int(v) for k, v in data.items()}


def _write_table(path: Path, table: Mapping[str, int]) -> None:
    atomic_write(str(path), json.dumps(dict(sorted(table.items())), indent=2) + "\n")


def allocate(table_path: Path, name: str, busy: set[int] | None = None) -> Allocation:
    """Allocate (or return the existing) subnet of lab ``name``, recorded in ``table_path``."""
    validate_name(name)
    with _locked(table_path):
        table = _read_table(table_path)
        index = choose_index(name, table, busy)
        if table.get(name) != index:
            table[name] = index
            _write_table(table_path, table)
    return Allocation(name, check_subnet(subnet_for_index(index)))


def release(table_path: Path, name: str) -> None:
    """Forget the allocation of lab ``name`` (no error if there is none)."""
    with _locked(table_path):
        table = _read_table(table_path)
        if table.pop(name, None) is not None:
            _write_table(table_path, table)


def lookup(table_path: Path, name: str) -> ipaddress.IPv4Network | None:
    with _locked(table_path):
        index = _read_table(table_path).get(name)
    return None if index is None else subnet_for_index(index)
