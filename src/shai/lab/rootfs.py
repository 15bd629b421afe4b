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
    # What a Debian cloud image has, so roles start from a realistic host and CI does not
    # download the same packages for every scenario.
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
    "curl",
    "gnupg",
    "less",
    "systemd-timesyncd",
)
# How often a long build step reports that it is still going (and what it is doing).
PROGRESS_EVERY_S = 30.0
# Bump when the post-install customisation below changes.
RECIPE_REVISION = 2
MARKER = ".shai-rootfs"


def recipe_id() -> str:
    text = f"{SUITE}|{MIRROR}|{','.join(sorted(PACKAGES))}|{RECIPE_REVISION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def path_for(lab_root: Path) -> Path:
    """Where the tree of the current recipe lives. Versioned by recipe, so a rebuild never
    touches a tree that running labs still use as their overlay lower layer."""
    return lab_root / f"rootfs-{SUITE}-{recipe_id()}"


def in_use(tree: Path) -> bool:
    """True if some mount on this machine uses ``tree`` (an overlay lower layer, a bind...)."""
    text = Path("/proc/self/mountinfo").read_text()
    return str(tree) + "," in text or str(tree) + " " in text or f"lowerdir={tree}\n" in text


def prune(lab_root: Path, keep: Path) -> list[Path]:
    """Delete base trees of older recipes that no mount uses any more."""
    removed: list[Path] = []
    for tree in sorted(lab_root.glob(f"rootfs-{SUITE}*")):
        if tree == keep or not tree.is_dir() or in_use(tree):
            continue
        umount_under(tree)
        shutil.rmtree(tree, ignore_errors=True)
        removed.append(tree)
    return removed


def umount_under(tree: Path) -> None:
    """Unmount anything debootstrap left mounted inside ``tree`` (/proc, /sys of a killed build)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point.startswith(str(tree) + "/"):
            points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


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
    # root's user manager lingers: without it, logind stops user@0.service when Ansible's last
    # ssh session closes, and inside a container that stop can hang until its timeout (~2 min,
    # "Processes still around after final SIGKILL") while every new root login waits for it.
    linger = root / "var" / "lib" / "systemd" / "linger"
    linger.mkdir(parents=True, exist_ok=True)
    (linger / "root").write_text("")


def _last_step(log: Path) -> str:
    """debootstrap's latest ``I:`` line (what it is doing now), from the build log."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            tail = f.read().decode(errors="replace").splitlines()
    except OSError:
        return "no log yet"
    steps = [line[3:].strip() for line in tail if line.startswith("I: ")]
    return steps[-1] if steps else "starting"


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
            began = time.monotonic()
            with subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT) as proc:
                while True:
                    try:
                        rc = proc.wait(timeout=PROGRESS_EVERY_S)
                        break
                    except subprocess.TimeoutExpired:
                        took = time.monotonic() - began
                        progress(f"  ... {cmd[0]}: {took:.0f}s elapsed; {_last_step(log)}")
            if rc != 0:
                raise subprocess.CalledProcessError(rc, cmd)

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
            umount_under(tmp)
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise RuntimeError(
                f"building the lab rootfs failed ({exc}); last lines of {log}:\n{tail}"
            ) from exc
    umount_under(tmp)
    if rootfs.exists():  # an unmarked tree (interrupted before the marker); nothing mounts it
        if in_use(rootfs):
            raise RuntimeError(f"{rootfs} is unfinished but mounted; run `shai lab down` for every lab")
        shutil.rmtree(rootfs)
    os.rename(tmp, rootfs)
    return time.monotonic() - start


def remove_stale_builds(rootfs: Path) -> None:
    """Delete half-built trees left by an interrupted build."""
    for path in rootfs.parent.glob(f".{rootfs.name}.*"):
        umount_under(path)
        shutil.rmtree(path, ignore_errors=True)
