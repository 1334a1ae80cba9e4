"""The command line (``promcontract``); see main.py."""

from promcontract.cli.main import main

__all__ = ["main"]
