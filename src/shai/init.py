"""``shai init NAME --domain … --server … --gpu …``: a new inventory from inventories/example.

The example is a neutral sample (RFC 5737 addresses, example.com). ``init`` copies it to
``inventories/NAME/`` and puts the operator's names, addresses and domain where the sample has
its own; it refuses to overwrite anything and validates every address before writing a file.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import tempfile
from pathlib import Path

import typer
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

from shai.clikit import MARKUP

EXAMPLE = "example"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SAMPLE_LAN = "192.0.2.0/24"

app = typer.Typer(name="init", add_completion=False, rich_markup_mode=MARKUP)


class InitError(ShaiError):  # type: ignore[misc]  # ShaiError is untyped (module_utils)
    """A bad name, address or domain, or a target that already exists."""


def example_dir() -> Path:
    """inventories/example: in the checkout, else the copy packaged with shai (ADR 0006)."""
    checkout = Path(__file__).resolve().parents[2] / "inventories" / EXAMPLE
    packaged = Path(__file__).resolve().parent / "example_inventory"
    for candidate in (checkout, packaged):
        if (candidate / "hosts.yml").is_file():
            return candidate
    raise InitError("the example inventory is missing from this shai installation")


def parse_host(spec: str, default_name: str, option: str) -> tuple[str, str]:
    """``ADDRESS`` or ``NAME=ADDRESS`` -> (name, address); the address must be a usable unicast IP."""
    name, _, address = spec.rpartition("=")
    name = name or default_name
    if not HOST.match(name):
        raise InitError(f"{option} {spec}: host name {name!r} is not a valid host name")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise InitError(f"{option} {spec}: {address!r} is not an IP address") from None
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local or ip.is_reserved:
        raise InitError(f"{option} {spec}: {address} cannot be a host's address")
    return name, str(ip)


def _hosts_yaml(server: tuple[str, str], gpu: tuple[str, str], control: str) -> str:
    doc = {
        "all": {
            "children": {
                "k3s_cluster": {
                    "children": {
                        "k3s_server": {"hosts": {server[0]: {"ansible_host": server[1]}}},
                        "k3s_agent": {"hosts": {}},
                    }
                },
                "gpu_workstation": {"hosts": {gpu[0]: {"ansible_host": gpu[1]}}},
                "shai_control": {"hosts": {control: None}},
            }
        }
    }
    header = (
        "---\n# Written by `shai init` from inventories/example. The control host (group shai_control)\n"
        "# runs the scheduled drift check (ADR 0007). Next: docs/quickstart.md, then `shai doctor`.\n"
    )
    import yaml

    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).replace(" null\n", "\n")


def create(root: Path, name: str, domain: str, server: str, gpu: str, lan: str | None = None) -> Path:
    """Write ``root/inventories/NAME`` from the example; returns the new directory."""
    if not NAME.match(name) or name == EXAMPLE:
        raise InitError(f"inventory name {name!r}: use lowercase letters, digits, - or _ (not {EXAMPLE!r})")
    if not DOMAIN.match(domain.lower()):
        raise InitError(f"--domain {domain}: not a domain name")
    server_host = parse_host(server, "server", "--server")
    gpu_host = parse_host(gpu, "gpu", "--gpu")
    if server_host[0] == gpu_host[0] or server_host[1] == gpu_host[1]:
        raise InitError("--server and --gpu must be two hosts (different names and addresses)")
    try:
        network = ipaddress.ip_network(lan or f"{server_host[1]}/24", strict=False)
    except ValueError:
        raise InitError(f"--lan {lan}: not a network") from None
    for host in (server_host, gpu_host):
        if ipaddress.ip_address(host[1]) not in network:
            raise InitError(f"{host[0]} {host[1]} is not in the LAN {network} (pass --lan)")
    target = root / "inventories" / name
    if target.exists():
        raise InitError(f"{target} already exists; refusing to overwrite it")
    source = example_dir()
    replacements = {
        f"inventories/{EXAMPLE}/": f"inventories/{name}/",
        f"shai_environment: {EXAMPLE}": f"shai_environment: {name}",
        f"k3s_kubeconfig_context: {EXAMPLE}": f"k3s_kubeconfig_context: {name}",
        "shai_domain: example.com": f"shai_domain: {domain.lower()}",
        f"shai_lan_cidr: {SAMPLE_LAN}": f"shai_lan_cidr: {network}",
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            out = staging / rel
            if path.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            if rel == Path("hosts.yml"):
                out.write_text(_hosts_yaml(server_host, gpu_host, server_host[0]), encoding="utf-8")
                continue
            text = path.read_text(encoding="utf-8")
            for old, new in replacements.items():
                text = text.replace(old, new)
            out.write_text(text, encoding="utf-8")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


@app.command(help="Write inventories/NAME from inventories/example (never overwrites).")
def init(
    name: str = typer.Argument(..., help="Inventory name: inventories/NAME/ is written."),
    domain: str = typer.Option(..., "--domain", help="The platform domain (services are <name>.DOMAIN)."),
    server: str = typer.Option(..., "--server", help="The k3s server: ADDRESS or NAME=ADDRESS."),
    gpu: str = typer.Option(..., "--gpu", help="The GPU workstation: ADDRESS or NAME=ADDRESS."),
    lan: str | None = typer.Option(None, "--lan", help="The LAN both share (default: the server's /24)."),
    root: Path = typer.Option(Path("."), "--root", help="Project directory (inventories/ is under it)."),
) -> None:
    target = create(root, name, domain, server, gpu, lan)
    typer.echo(f"wrote {target}/ - next: docs/quickstart.md, then `shai doctor -i {target}`")
