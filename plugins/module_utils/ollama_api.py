# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the Ollama HTTP API (standard library only; runs on python3.11 targets).

``/api/tags`` (what is installed), streaming ``/api/pull`` (NDJSON; errors arrive *inside* the
stream as ``{"error": ...}`` with HTTP 200, so every line is checked), ``/api/delete`` and
``/api/version``.  Model names are compared in their canonical form
``host/namespace/model:tag`` (defaults ``registry.ollama.ai``, ``library``, ``latest``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

from urllib.error import HTTPError, URLError
from urllib.request import Request, build_opener

from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"

_OPENER = build_opener()


class OllamaError(ShaiError):
    """An Ollama API call failed; ``str(exc)`` is a complete sentence."""


def _is_host(part):
    return "." in part or ":" in part or part == "localhost"


def split_name(name):
    """``name`` → (host, namespace, model, tag) with Ollama's defaults filled in."""
    name = name.strip()
    parts = name.split("/")
    host = DEFAULT_REGISTRY
    namespace = DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace, last = parts
    elif len(parts) == 2:
        if _is_host(parts[0]):
            host, last = parts
        else:
            namespace, last = parts
    elif len(parts) == 1:
        last = parts[0]
    else:
        raise OllamaError("invalid Ollama model name %r" % name)
    model, sep, tag = last.partition(":")
    if not model:
        raise OllamaError("invalid Ollama model name %r" % name)
    return host, namespace, model, (tag if sep and tag else "latest")


def canonical(name):
    """Canonical ``host/namespace/model:tag`` form of a model name."""
    return "%s/%s/%s:%s" % split_name(name)


def short(name):
    """The shortest form Ollama shows (``llama3:latest``, ``ns/m:tag``, ``host/ns/m:tag``)."""
    host, namespace, model, tag = split_name(name)
    if host == DEFAULT_REGISTRY:
        if namespace == DEFAULT_NAMESPACE:
            return "%s:%s" % (model, tag)
        return "%s/%s:%s" % (namespace, model, tag)
    return "%s/%s/%s:%s" % (host, namespace, model, tag)


def with_registry(name, registry):
    """Point a model name at another registry (a homelab mirror), unless it names a host already."""
    if not registry:
        return name
    host, namespace, model, tag = split_name(name)
    if host != DEFAULT_REGISTRY:
        return name
    return "%s/%s/%s:%s" % (registry.rstrip("/").split("://")[-1], namespace, model, tag)


class OllamaClient:
    def __init__(self, url=DEFAULT_URL, timeout=30.0):
        self.url = (url or DEFAULT_URL).rstrip("/")
        self.timeout = timeout

    def _open(self, method, path, body=None, timeout=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            return _OPENER.open(req, timeout=timeout or self.timeout)
        except HTTPError as exc:
            try:
                detail = json.loads(exc.read().decode("utf-8", "replace")).get("error")
            except Exception:
                detail = None
            exc.close()
            err = OllamaError(
                "Ollama at %s: %s %s returned HTTP %d%s"
                % (self.url, method, path, exc.code, (": %s" % detail) if detail else "")
            )
            err.status = exc.code
            raise err
        except (URLError, socket.timeout, OSError) as exc:
            raise OllamaError(
                "cannot reach Ollama at %s (%s): is `ollama serve` running and OLLAMA_HOST bound there?"
                % (self.url, getattr(exc, "reason", exc))
            )

    def _json(self, method, path, body=None):
        with self._open(method, path, body) as resp:
            raw = resp.read()
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            raise OllamaError("Ollama at %s: %s %s returned non-JSON: %r" % (self.url, method, path, raw[:200]))

    def version(self):
        return self._json("GET", "/api/version").get("version")

    def tags(self):
        """Installed models: list of dicts with name, digest, size (``/api/tags``)."""
        return self._json("GET", "/api/tags").get("models") or []

    def installed(self):
        """{canonical name: tag entry} of installed models."""
        out = {}
        for m in self.tags():
            out[canonical(m.get("model") or m["name"])] = m
        return out

    def pull(self, name, insecure=False, timeout=None):
        """Pull ``name``, yielding each status line (dict); raise OllamaError on an error line.

        The last line of a good pull is ``{"status": "success"}``; a stream that ends without it
        is an error too (connection lost).
        """
        body = {"model": name, "name": name, "stream": True, "insecure": bool(insecure)}
        resp = self._open("POST", "/api/pull", body, timeout=timeout or max(self.timeout, 3600))
        ok = False
        try:
            for raw in resp:
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    line = json.loads(raw.decode("utf-8"))
                except ValueError:
                    raise OllamaError("Ollama pull of %s: unreadable stream line %r" % (name, raw[:200]))
                if "error" in line:
                    raise OllamaError("Ollama pull of %s failed: %s" % (name, line["error"]))
                if line.get("status") == "success":
                    ok = True
                yield line
        except (socket.timeout, OSError) as exc:
            raise OllamaError("Ollama pull of %s: stream interrupted (%s)" % (name, exc))
        finally:
            resp.close()
        if not ok:
            raise OllamaError("Ollama pull of %s: the stream ended without a success status" % name)

    def delete(self, name):
        """Delete ``name``; True if deleted, False if it was not there."""
        try:
            with self._open("DELETE", "/api/delete", {"model": name, "name": name}):
                return True
        except OllamaError as exc:
            if getattr(exc, "status", None) == 404:
                return False
            raise


def summarize_pull(lines):
    """Reduce a pull stream to a result-friendly summary: statuses seen, layers, bytes."""
    statuses = []
    layers = {}
    for line in lines:
        status = line.get("status")
        if status and (not statuses or statuses[-1] != status) and not line.get("digest"):
            statuses.append(status)
        digest = line.get("digest")
        if digest:
            layer = layers.setdefault(digest, {"digest": digest, "total": 0, "completed": 0})
            layer["total"] = max(layer["total"], int(line.get("total") or 0))
            layer["completed"] = max(layer["completed"], int(line.get("completed") or 0))
    total = sum(v["total"] for v in layers.values())
    return {
        "statuses": statuses,
        "layers": sorted(layers.values(), key=lambda v: v["digest"]),
        "total_bytes": total,
        "completed_bytes": sum(v["completed"] for v in layers.values()),
    }
