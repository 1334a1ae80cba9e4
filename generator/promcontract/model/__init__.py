"""The frozen contract model and the file formats every floor above reads: YAML with
positions (yamlsource), YAML out, promtool's rule and test files (promfiles)."""
