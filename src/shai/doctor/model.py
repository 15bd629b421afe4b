"""What a doctor check is and what it reports (the shape of an ansible-lint rule).

A check is a small module in :mod:`shai.doctor.checks` that defines ``CHECK``: an id, a one-line
description, whether it needs the network, and a function from the :class:`~shai.doctor.context.Context`
to a list of :class:`Finding`. A check that finds nothing wrong returns one ``ok`` finding saying
what it looked at — never an empty list (nothing checked is not "in order", docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shai.doctor.context import Context

Status = Literal["ok", "fail", "warn", "skip"]


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    fix: str = ""
    host: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    id: str
    description: str
    offline: bool
    run: Callable[[Context], list[Finding]]

    def ok(self, message: str, host: str = "") -> Finding:
        return Finding(self.id, "ok", message, host=host)

    def fail(self, message: str, fix: str, host: str = "") -> Finding:
        return Finding(self.id, "fail", message, fix, host)

    def warn(self, message: str, fix: str = "", host: str = "") -> Finding:
        return Finding(self.id, "warn", message, fix, host)

    def skip(self, message: str, host: str = "") -> Finding:
        return Finding(self.id, "skip", message, host=host)

    def per_host(self, ctx: Context, group: str, check_host: Callable[[str], Finding]) -> list[Finding]:
        """``check_host`` for every host of ``group``; one skip when the group has none."""
        hosts = ctx.groups.get(group, [])
        return [check_host(host) for host in hosts] or [self.skip(f"no host in group {group}")]
