"""The per-lab static HTTP mirror: serves ``~/.cache/shai/mirror/`` on the lab gateway address.

Started detached by ``shai lab up`` as ``python -m shai.lab.mirror``; ``--state-dir`` is carried
on the command line only so the lab can find (and stop) the process by scanning /proc.
"""

from __future__ import annotations

import argparse
import functools
import http.server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    args = parser.parse_args(argv)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=args.directory)
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
