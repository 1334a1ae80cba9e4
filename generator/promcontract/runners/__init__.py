"""The edges: promtool, servers, files, JUnit, the validation cache."""
