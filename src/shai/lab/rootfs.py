"""The lab's base root filesystem: Debian 12 built once with debootstrap, cached, shared read-only.

Each host boots an overlayfs whose lower layer is this tree, so the cache is never written to
after it is built. A marker file records the build recipe; changing the recipe rebuilds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "libpam-systemd",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "ca-certificates",
)
# Bump when the post-install customisation below changes.
RECIPE_REVISION = 1
MARKER = ".shai-rootfs"


def recipe_id() -> str:
    text = f"{SUITE}|{MIRROR}|{','.join(sorted(PACKAGES))}|{RECIPE_REVISION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_current(rootfs: Path) -> bool:
    marker = rootfs / MARKER
    return marker.is_file() and marker.read_text().strip() == recipe_id()


def _customise(root: Path, run: Callable[[list[str]], None]) -> None:
    """Offline tweaks inside the fresh tree (chroot, no network, no daemons)."""
    # networkd configures host0 from the per-host .network file written at boot time.
    run(["chroot", str(root), "systemctl", "enable", "systemd-networkd.service"])
    # Units that cannot work or only slow the boot inside a container.
    for unit in (
        "systemd-networkd-wait-online.service",
        "apt-daily.timer",
        "apt-daily-upgrade.timer",
        "e2scrub_all.timer",
        "fstrim.timer",
        "getty@tty1.service",
    ):
        run(["chroot", str(root), "systemctl", "mask", unit])
    run(["chroot", str(root), "apt-get", "clean"])
    (root / "etc" / "machine-id").write_text("")  # each host gets its own at first boot
    for key in (root / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()  # regenerated per host at boot by the ssh-keygen unit below
    unit_file = root / "etc" / "systemd" / "system" / "shai-ssh-hostkeys.service"
    unit_file.write_text(
        "[Unit]\nDescription=Generate SSH host keys (shai lab)\nBefore=ssh.service\n"
        "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n\n"
        "[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    run(["chroot", str(root), "systemctl", "enable", "shai-ssh-hostkeys.service"])


def build(rootfs: Path, log: Path, progress: Callable[[str], None] = lambda _m: None) -> float:
    """Build the rootfs into a temporary sibling directory and rename it into place atomically.

    Returns the build time in seconds. A previous tree with another recipe is replaced.
    """
    start = time.monotonic()
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{rootfs.name}.", dir=rootfs.parent))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:

        def run(cmd: list[str]) -> None:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=True)

        try:
            progress(f"debootstrap {SUITE} (once; cached at {rootfs})")
            run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(tmp),
                    MIRROR,
                ]
            )
            progress("customising the base tree")
            _customise(tmp, run)
            (tmp / MARKER).write_text(recipe_id() + "\n")
        except (subprocess.CalledProcessError, OSError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise RuntimeError(
                f"building the lab rootfs failed ({exc}); last lines of {log}:\n{tail}"
            ) from exc
    old = rootfs.with_name(rootfs.name + ".old")
    if rootfs.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.rename(rootfs, old)
    os.rename(tmp, rootfs)
    shutil.rmtree(old, ignore_errors=True)
    return time.monotonic() - start


def remove_stale_builds(rootfs: Path) -> None:
    """Delete half-built trees left by an interrupted build."""
    for path in rootfs.parent.glob(f".{rootfs.name}.*"):
        shutil.rmtree(path, ignore_errors=True)
