"""Commands only: parse arguments, call the engine, print, choose the exit code (see drill.exits).

One module per group of commands; ``app`` puts them together. ``drill --help`` must start at
once, so these modules import the engine, the reports, the config models and every SDK inside
the command that uses them, never at the top (tests/drill/cli/test_imports.py holds them to it).
"""

from drill.cli.app import app, main

__all__ = ["app", "main"]
