"""dns: the platform domain's names resolve from the control host (a warning: the run does not need them)."""

from __future__ import annotations

import socket

from shai.doctor.context import Context
from shai.doctor.model import Check, Finding

# Any name under the domain: the platform's ingresses are <service>.<domain> (a wildcard record).
PROBE = "shai-doctor-probe"


def _resolve(name: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)})
    except OSError:
        return []


def run(ctx: Context) -> list[Finding]:
    hosts = ctx.groups.get("k3s_server") or ctx.hosts
    if not hosts:
        return [CHECK.skip("no host to read shai_domain for")]
    domain = ctx.var(hosts[0], "shai_domain")
    if not domain:
        return [CHECK.warn("shai_domain is not set", f"set shai_domain in {ctx.defined_in('shai_domain')}")]
    server = ctx.var(hosts[0], "ansible_host") or hosts[0]
    findings: list[Finding] = []
    for name in (str(domain), f"{PROBE}.{domain}"):
        addresses = _resolve(name)
        if addresses:
            findings.append(CHECK.ok(f"{name} -> {', '.join(addresses)}"))
        else:
            findings.append(
                CHECK.warn(
                    f"{name} does not resolve from this host",
                    f"add to your DNS server: *.{domain} and {domain} A {server} "
                    f"(or lines in /etc/hosts for each service name)",
                )
            )
    return findings


CHECK = Check(
    id="dns",
    description="the platform domain resolves from the control host (warning only)",
    offline=False,
    run=run,
)
