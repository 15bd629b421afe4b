"""`python -m shai.drift ...`: the drift CLI without loading the other `shai` sub-commands."""

from shai.drift.cli import app

app(prog_name="shai drift")
