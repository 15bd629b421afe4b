"""Subnet derivation, allocation and the safety rules (pure; no root needed)."""
# network-rule: homelab addresses appear here only to prove the lab refuses them.

from __future__ import annotations

import ipaddress
import json
import threading
from pathlib import Path

import pytest

from shai.lab import net


def test_preferred_index_is_deterministic_and_in_range() -> None:
    for name in ("default", "base", "k3s-server", "a", "x" * 31):
        index = net.preferred_index(name)
        assert 1 <= index <= 254
        assert index == net.preferred_index(name)


def test_subnets_are_24s_inside_the_lab_supernet() -> None:
    for index in (1, 77, 254):
        subnet = net.subnet_for_index(index)
        assert subnet.prefixlen == 24
        assert subnet.subnet_of(net.LAB_SUPERNET)
    for bad in (0, 255, -1):
        with pytest.raises(net.LabSafetyError):
            net.subnet_for_index(bad)


@pytest.mark.parametrize(
    "subnet", ["192.168.1.0/24", "10.214.0.0/24", "10.213.0.0/16", "10.213.4.0/25", "0.0.0.0/0"]
)
def test_refuses_subnets_outside_the_lab_range(subnet: str) -> None:
    with pytest.raises(net.LabSafetyError, match="refusing lab subnet"):
        net.check_subnet(ipaddress.IPv4Network(subnet))


@pytest.mark.parametrize("address", ["192.168.1.170", "192.168.1.99", "10.213.5.10", "8.8.8.8"])
def test_refuses_hosts_outside_the_lab_subnet(address: str) -> None:
    subnet = ipaddress.IPv4Network("10.213.4.0/24")
    with pytest.raises(net.LabSafetyError, match="outside the lab subnet"):
        net.check_host_address(address, subnet, "homelab")


@pytest.mark.parametrize("address", ["10.213.4.0", "10.213.4.1", "10.213.4.255"])
def test_refuses_reserved_addresses(address: str) -> None:
    with pytest.raises(net.LabSafetyError, match="reserved"):
        net.check_host_address(address, ipaddress.IPv4Network("10.213.4.0/24"))


def test_refuses_garbage_address() -> None:
    with pytest.raises(net.LabSafetyError, match="not an IPv4"):
        net.check_host_address("homelab.local", ipaddress.IPv4Network("10.213.4.0/24"))


def test_host_addresses_start_at_10() -> None:
    subnet = ipaddress.IPv4Network("10.213.9.0/24")
    assert net.host_address(subnet, 0) == "10.213.9.10"
    assert net.host_address(subnet, 3) == "10.213.9.13"
    assert str(net.gateway(subnet)) == "10.213.9.1"


@pytest.mark.parametrize("name", ["", "Default", "a_b", "-a", "a-", "a" * 32, "a/b", "a b"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(net.LabNameError):
        net.validate_name(name)


def test_interface_names_fit_ifnamsiz_and_differ_per_lab() -> None:
    assert len(net.bridge_name("x" * 31)) <= 15
    assert net.bridge_name("a") != net.bridge_name("b")
    assert net.machine_name("a", "homelab") != net.machine_name("b", "homelab")


def test_choose_index_probes_past_collisions() -> None:
    preferred = net.preferred_index("default")
    assert net.choose_index("default", {}) == preferred
    assert net.choose_index("default", {"other": preferred}) == preferred % 254 + 1
    assert net.choose_index("default", {}, busy={preferred}) == preferred % 254 + 1
    assert net.choose_index("default", {"default": 42}) == 42  # stable once allocated
    full = {f"l{i}": i for i in range(1, 255)}
    with pytest.raises(net.LabSafetyError, match="no free"):
        net.choose_index("default", full)


def test_allocate_records_and_release_forgets(tmp_path: Path) -> None:
    table = tmp_path / "subnets.json"
    first = net.allocate(table, "one")
    assert net.allocate(table, "one") == first
    assert json.loads(table.read_text()) == {"one": int(str(first.subnet).split(".")[2])}
    assert net.lookup(table, "one") == first.subnet
    net.release(table, "one")
    net.release(table, "one")  # twice is fine
    assert net.lookup(table, "one") is None


def test_concurrent_allocations_never_collide(tmp_path: Path) -> None:
    table = tmp_path / "subnets.json"
    results: list[net.Allocation] = []
    names = [f"lab-{i}" for i in range(40)]

    def worker(name: str) -> None:
        results.append(net.allocate(table, name))

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    subnets = [a.subnet for a in results]
    assert len(set(subnets)) == len(names)
    assert set(json.loads(table.read_text())) == set(names)
