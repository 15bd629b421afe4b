"""``shai init`` and the sample inventory it copies (inventories/example)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.init import create, example_dir

ROOT = Path(__file__).resolve().parents[2]
# The homelab's LAN, read from its inventory (tests never spell the homelab's addresses).
HOMELAB_LAN = ipaddress.ip_network(
    yaml.safe_load((ROOT / "inventories/homelab/group_vars/all/main.yml").read_text())["shai_lan_cidr"]
)
DOCUMENTATION_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def test_the_example_is_neutral() -> None:
    assert example_dir() == ROOT / "inventories" / "example"
    for path in example_dir().rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        for address in re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", text):
            ip = ipaddress.ip_address(address)
            documentation = any(ip in net for net in DOCUMENTATION_NETS)
            # Hosts only at RFC 5737 addresses; private ranges only for k3s's own CIDRs; nothing real.
            assert documentation or not ip.is_global, f"{path}: {address} is a real address"
            assert ip not in HOMELAB_LAN, f"{path}: {address} is in the homelab's LAN"
        assert "homelab" not in text and "akula" not in text, path
    main = yaml.safe_load((example_dir() / "group_vars" / "all" / "main.yml").read_text())
    assert main["shai_domain"] == "example.com"


def test_init_writes_the_inventory(tmp_path: Path) -> None:
    target = create(tmp_path, "home", "Example.org", "homelab=10.1.2.3", "10.1.2.4")
    hosts = yaml.safe_load((target / "hosts.yml").read_text())["all"]["children"]
    assert hosts["k3s_cluster"]["children"]["k3s_server"]["hosts"] == {
        "homelab": {"ansible_host": "10.1.2.3"}
    }
    assert hosts["gpu_workstation"]["hosts"] == {"gpu": {"ansible_host": "10.1.2.4"}}
    assert hosts["shai_control"]["hosts"] == {"homelab": None}
    main = yaml.safe_load((target / "group_vars" / "all" / "main.yml").read_text())
    assert (main["shai_environment"], main["shai_domain"], main["shai_lan_cidr"]) == (
        "home",
        "example.org",
        "10.1.2.0/24",
    )
    drift = (target / "group_vars" / "shai_control" / "drift_schedule.yml").read_text()
    assert "inventories/home/hosts.yml" in drift and "inventories/example" not in drift
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == sorted(
        p.relative_to(example_dir()) for p in example_dir().rglob("*")
    )


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    create(tmp_path, "home", "example.org", "10.1.2.3", "10.1.2.4")
    marker = tmp_path / "inventories" / "home" / "hosts.yml"
    before = marker.read_text()
    with pytest.raises(ShaiError, match="already exists"):
        create(tmp_path, "home", "example.org", "10.1.2.5", "10.1.2.6")
    assert marker.read_text() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("home", "example.org", "127.0.0.1", "10.1.2.4"), "cannot be a host's address"),
        (("home", "example.org", "10.1.2.3", "not-an-ip"), "is not an IP address"),
        (("home", "example.org", "10.1.2.3", "10.9.9.9"), "is not in the LAN"),
        (("home", "example.org", "10.1.2.3", "10.1.2.3"), "must be two hosts"),
        (("home", "not a domain", "10.1.2.3", "10.1.2.4"), "not a domain name"),
        (("example", "example.org", "10.1.2.3", "10.1.2.4"), "inventory name"),
        (("Home/..", "example.org", "10.1.2.3", "10.1.2.4"), "inventory name"),
        (("home", "example.org", "bad_name=10.1.2.3", "10.1.2.4"), "not a valid host name"),
    ],
)
def test_init_validates(tmp_path: Path, args: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ShaiError, match=re.escape(message)):
        create(tmp_path, *args)
    assert not (tmp_path / "inventories").exists() or not any((tmp_path / "inventories").iterdir())
