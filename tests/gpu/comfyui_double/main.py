"""ComfyUI TEST DOUBLE (shai tests only; not ComfyUI).

The real ComfyUI (and torch) cannot be fetched in the test environment, so the comfyui role is
exercised against this stand-in: a ``main.py`` that takes ComfyUI's command-line options and
serves ``GET /system_stats`` like ComfyUI does, plus what the tests need to see (the arguments
it got, the custom nodes it found, which directories the systemd sandbox lets it write).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = "0.0.0-shai-test-double"
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="ComfyUI TEST DOUBLE")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--input-directory")
    parser.add_argument("--output-directory")
    parser.add_argument("--user-directory")
    parser.add_argument("--temp-directory")
    parser.add_argument("--extra-model-paths-config", action="append", default=[])
    parser.add_argument("--disable-auto-launch", action="store_true")
    args, _unknown = parser.parse_known_args(argv)
    return args


def stats(args: argparse.Namespace, argv: list[str]) -> dict[str, object]:
    custom = HERE / "custom_nodes"
    nodes = sorted(p.name for p in custom.iterdir() if p.is_dir()) if custom.is_dir() else []
    dirs = {
        "input": args.input_directory,
        "output": args.output_directory,
        "user": args.user_directory,
        "temp": args.temp_directory,
        "code": str(HERE),
    }
    writable = {k: bool(v) and os.access(v, os.W_OK) for k, v in dirs.items()}
    model_paths = {p: Path(p).is_file() and os.access(p, os.R_OK) for p in args.extra_model_paths_config}
    return {
        "system": {
            "os": os.name,
            "python_version": sys.version,
            "comfyui_version": VERSION,
            "embedded_python": False,
            "argv": argv,
            "hostname": platform.node(),
        },
        "devices": [{"name": "cpu", "type": "cpu", "index": None}],
        "shai_test_double": True,
        "custom_nodes": nodes,
        "writable": writable,
        "extra_model_paths": model_paths,
    }


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/system_stats":
                body = json.dumps(stats(args, argv)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
            else:
                body = b"ComfyUI TEST DOUBLE\n"
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *a: object) -> None:
            sys.stderr.write(f"comfyui-double: {format % a}\n")

    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    print(f"ComfyUI TEST DOUBLE {VERSION} listening on {args.listen}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
