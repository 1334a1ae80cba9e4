"""Compositions of the engines: import (a contract from a hand-written group), characterize
(tests recording what hand-written rules do), the oracle-vs-promtool property checks."""
