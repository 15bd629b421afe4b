#!/usr/bin/env python3
"""Thin entry point kept for the architecture document's verification step:

    uv run scripts/sync_models.py download-hf coqui/XTTS-v2

Everything lives in ``shai.models.cli`` (the ``shai-models`` command).
"""

from shai.models.cli import app

if __name__ == "__main__":
    app(prog_name="sync_models.py")
