# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Pod Security Standards controls (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
named as Kyverno names them, evaluated on a pod spec: what the kyverno-pss rule needs.

violations(pod, level) -> [(control, image or None, field suffix, message)]; image None = a
pod-level control (an exception needs no image pattern for it)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

BASELINE_CAPABILITIES = frozenset([
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
])
SAFE_SYSCTLS = frozenset([
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
])
RESTRICTED_VOLUMES = frozenset([
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
])
LEVELS = ("privileged", "baseline", "restricted")


def _containers(pod):
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(pod.get(key) or []):
            if isinstance(c, dict):
                yield "%s[%d]" % (key, i), c


def _baseline(pod):
    out = []
    sc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            out.append(("Host Namespaces", None, key, "%s: true" % key))
    for i, vol in enumerate(pod.get("volumes") or []):
        if isinstance(vol, dict) and "hostPath" in vol:
            out.append(("HostPath Volumes", None, "volumes[%d].hostPath" % i, "hostPath volume %s" % vol.get("name")))
    for i, sysctl in enumerate(sc.get("sysctls") or []):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            out.append(("Sysctls", None, "securityContext.sysctls[%d]" % i, "unsafe sysctl %s" % sysctl.get("name")))
    if (sc.get("windowsOptions") or {}).get("hostProcess"):
        out.append(("HostProcess", None, "securityContext.windowsOptions.hostProcess", "Windows HostProcess pod"))
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        out.append(("Seccomp", None, "securityContext.seccompProfile.type", "seccomp Unconfined"))
    for path, c in _containers(pod):
        image = c.get("image") or ""
        csc = c.get("securityContext") or {}
        name = c.get("name", "?")
        if csc.get("privileged"):
            out.append(("Privileged Containers", image, path + ".securityContext.privileged", "container %s is privileged" % name))
        added = sorted(set((csc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES)
        if added:
            out.append(("Capabilities", image, path + ".securityContext.capabilities.add",
                        "container %s adds %s" % (name, ", ".join(added))))
        for j, port in enumerate(c.get("ports") or []):
            if port.get("hostPort"):
                out.append(("Host Ports", image, "%s.ports[%d].hostPort" % (path, j),
                            "container %s binds hostPort %s" % (name, port["hostPort"])))
        if csc.get("procMount") not in (None, "Default"):
            out.append(("/proc Mount Type", image, path + ".securityContext.procMount", "container %s procMount %s" % (name, csc["procMount"])))
        if (csc.get("seccompProfile") or {}).get("type") == "Unconfined":
            out.append(("Seccomp", image, path + ".securityContext.seccompProfile.type", "container %s seccomp Unconfined" % name))
    return out


def _restricted(pod):
    out = []
    sc = pod.get("securityContext") or {}
    for i, vol in enumerate(pod.get("volumes") or []):
        kinds = [k for k in vol if k != "name"] if isinstance(vol, dict) else []
        if kinds and not set(kinds) <= RESTRICTED_VOLUMES and "hostPath" not in kinds:
            out.append(("Volume Types", None, "volumes[%d]" % i, "volume %s of type %s" % (vol.get("name"), ", ".join(kinds))))
    for path, c in _containers(pod):
        image = c.get("image") or ""
        csc = c.get("securityContext") or {}
        name = c.get("name", "?")
        if csc.get("allowPrivilegeEscalation") is not False:
            out.append(("Privilege Escalation", image, path + ".securityContext.allowPrivilegeEscalation",
                        "container %s does not set allowPrivilegeEscalation: false" % name))
        if csc.get("runAsNonRoot", sc.get("runAsNonRoot")) is not True:
            out.append(("Running as Non-root", image, path + ".securityContext.runAsNonRoot",
                        "container %s may run as root (runAsNonRoot is not true)" % name))
        if csc.get("runAsUser", sc.get("runAsUser")) == 0:
            out.append(("Running as Non-root user", image, path + ".securityContext.runAsUser", "container %s runs as uid 0" % name))
        seccomp = (csc.get("seccompProfile") or sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(("Seccomp", image, path + ".securityContext.seccompProfile",
                        "container %s has no RuntimeDefault/Localhost seccomp profile" % name))
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(("Capabilities", image, path + ".securityContext.capabilities.drop",
                        "container %s does not drop ALL capabilities" % name))
        extra = sorted(set(caps.get("add") or []) - set(["NET_BIND_SERVICE"]))
        if extra:
            out.append(("Capabilities", image, path + ".securityContext.capabilities.add",
                        "container %s adds %s" % (name, ", ".join(extra))))
    return out


def violations(pod, level):
    """The controls of `level` this pod spec breaks (restricted includes baseline)."""
    if level == "privileged":
        return []
    out = _baseline(pod)
    if level == "restricted":
        out.extend(_restricted(pod))
    return out
