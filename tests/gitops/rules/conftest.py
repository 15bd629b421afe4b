"""Fixtures of the per-rule tests: make rule_fixtures importable (--import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
