"""Derived tests: series and scenarios, the oracle, test files, mutants, promtool checks."""
