"""promcontract: one metric contract as the source of truth for alert rules and pushers."""

__version__ = "0.1.0"
