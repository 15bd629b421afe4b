"""ssh: every host answers over ssh with a known host key, and the configured user has passwordless sudo."""

from __future__ import annotations

from shai.doctor import remote
from shai.doctor.context import Context
from shai.doctor.model import Check, Finding


def _check(plan: tuple[str, remote.Target, bool]) -> Finding:
    host, t, become = plan
    root = t.user == "root" or (t.local and not t.user)
    probe = "sudo -n true" if become and not root else "true"
    result = remote.run(t, probe)
    stderr = " ".join(result.stderr.split())
    if result.returncode == 255 and not t.local:
        if "host key verification failed" in stderr.lower() or "no matching host key" in stderr.lower():
            return CHECK.fail(
                f"{t.address}: host key not known (or changed): {stderr}",
                f"ssh-keyscan -t ed25519 {t.address}  # compare with `ssh-keygen -lf "
                f"/etc/ssh/ssh_host_ed25519_key.pub` on the host's console, then append it "
                "to ~/.ssh/known_hosts",
                host,
            )
        if "permission denied" in stderr.lower():
            return CHECK.fail(
                f"{t.login}: key not accepted: {stderr}", f"ssh-copy-id {' '.join(t.args)} {t.login}", host
            )
        return CHECK.fail(f"{t.login} unreachable: {stderr}", f"ssh {' '.join(t.args)} {t.login} true", host)
    if result.returncode != 0:
        return CHECK.fail(
            f"{t.login}: `{probe}` failed: {stderr or result.returncode}",
            f"echo '{t.user} ALL=(ALL) NOPASSWD: ALL' | sudo tee /etc/sudoers.d/{t.user} "
            f"&& sudo chmod 0440 /etc/sudoers.d/{t.user}  # on {host}, as root",
            host,
        )
    how = "local" if t.local else f"ssh {t.login}"
    privilege = "passwordless sudo" if probe.startswith("sudo") else ("root" if root else "no become")
    if not t.local and not remote.host_key_checked(t):
        return CHECK.warn(
            f"{how} ok ({privilege}); host key NOT verified: the inventory turns checking off for this host",
            host=host,
        )
    return CHECK.ok(f"{how} ok, host key known, {privilege}", host)


def run(ctx: Context) -> list[Finding]:
    hosts = ctx.hosts
    if not hosts:
        return [
            CHECK.fail("the inventory has no hosts", "shai init NAME --domain ... --server ... --gpu ...")
        ]
    plans = [(host, remote.target(ctx, host), bool(ctx.var(host, "ansible_become"))) for host in hosts]
    return remote.each(plans, _check)


CHECK = Check(
    id="ssh",
    description="every host answers over ssh with a known host key; the user has passwordless sudo",
    offline=False,
    run=run,
)
