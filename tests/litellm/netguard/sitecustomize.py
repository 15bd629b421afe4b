"""Loaded by the LiteLLM proxy the tests start (PYTHONPATH): no packet leaves loopback.

Every connect() to a non-loopback address and every name lookup other than localhost is refused
(OSError / gaierror, as an unreachable network would answer) and written to $SHAI_NETGUARD_LOG,
one line each, so the tests can prove LiteLLM did not try to phone home (telemetry, cost map,
update checks). Not a test double: it only observes and refuses.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import traceback

_LOG = os.environ.get("SHAI_NETGUARD_LOG")


def _note(what: str) -> None:
    if _LOG:
        where = "".join(traceback.format_stack(limit=8)[:-2]).replace("\n", " | ")
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{what} :: {where}\n")


def _loopback(host: object) -> bool:
    if host in (None, "", "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host if isinstance(host, str) else str(host)).is_loopback
    except ValueError:
        return False


if _LOG:
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _getaddrinfo = socket.getaddrinfo

    def _allowed(sock: socket.socket, address: object) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # unix sockets and the like
        host = address[0] if isinstance(address, tuple) else address
        return _loopback(host)

    def connect(self: socket.socket, address: object) -> None:
        if not _allowed(self, address):
            _note(f"connect {address!r}")
            raise OSError(101, "Network is unreachable (shai netguard)")
        _connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _allowed(self, address):
            _note(f"connect_ex {address!r}")
            return 101
        return _connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not _loopback(host):
            _note(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (shai netguard)")
        return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
