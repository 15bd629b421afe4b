"""CLI values that are plain strings and paths, coerced without pydantic.

typer (0.29) coerces every command-line value through a pydantic ``TypeAdapter`` it builds on
first use: importing pydantic and generating the schemas of a command's parameters cost more
than the rest of ``shai-models download-hf``'s start-up (docs/performance.md, "download-hf").
For the parameters shai's commands mostly have -- ``str``, ``pathlib.Path`` and lists of them,
flags, no custom parser, no file type -- the result of that adapter is known without it: a
``str`` is itself, a flag's ``bool`` is itself (an absent flag is None and never coerced) and a
``Path`` is ``Path(value)`` followed by typer's own path checks
(``coerce_cli_path``: exists, file_okay, dir_okay, resolve_path, ... exactly as before). Any
other parameter, and any value that is not a ``str``/``Path`` (bytes, defaults of another type),
goes through typer's adapter as before.

:func:`install` puts this in front of typer's builder; ``shai.clikit.run`` calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

from typer import _coercion, _param_types
from typer import core as _core

_TYPER_BUILD = _coercion.build_runtime_param
_LEAVES = (str, Path, bool)
_ACCEPTS: dict[Any, tuple[type, ...]] = {str: (str,), Path: (str, Path), bool: (bool,)}


def _leaf(annotation: Any) -> Any:
    """The element type this module handles for ``annotation`` (str, Path, bool), else None."""
    if get_origin(annotation) is list:
        args = get_args(annotation)
        annotation = args[0] if len(args) == 1 else None
    return annotation if annotation in _LEAVES else None


class _PlainRuntimeParam(_coercion.RuntimeParam):
    """``str``, ``Path`` or ``list`` of them; anything unexpected goes to typer's adapter."""

    descriptor: Any = None

    def _typer(self) -> Any:
        built = self.__dict__.get("_built")
        if built is None:
            built = _TYPER_BUILD(self.descriptor)
            object.__setattr__(self, "_built", built)
        return built

    def _one(self, leaf: Any, value: Any, param: Any, ctx: Any) -> Any:
        if leaf is not Path:
            return value
        return _param_types.coerce_cli_path(
            Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
        )

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        annotation: Any = self.annotation
        leaf = _leaf(annotation)
        many = get_origin(annotation) is list
        items = (list(value) if isinstance(value, (list, tuple)) else [value]) if many else [value]
        if not all(isinstance(v, _ACCEPTS[leaf]) for v in items):
            return self._typer()._coerce_value(value, param=param, ctx=ctx)
        done = [self._one(leaf, v, param, ctx) for v in items]
        return done if many else done[0]


def _build(descriptor: Any) -> Any:
    info = descriptor.parameter_info
    plain = (
        descriptor.file_annotation is None
        and getattr(info, "parser", None) is None
        and getattr(info, "path_type", None) is None
        and _leaf(descriptor.annotation) is not None
    )
    if not plain:
        return _TYPER_BUILD(descriptor)
    param = _PlainRuntimeParam(parameter_info=info, annotation=descriptor.annotation)
    object.__setattr__(param, "descriptor", descriptor)
    return param


def install() -> None:
    """Route typer's runtime coercion through :func:`_build` (idempotent)."""
    if getattr(_core, "build_runtime_param", None) is _TYPER_BUILD:
        vars(_core)["build_runtime_param"] = _build
