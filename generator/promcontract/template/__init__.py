"""The values template: Terraform escaping and neutralising (tfescape), the marker blocks
and the splice of rendered groups (splice)."""
