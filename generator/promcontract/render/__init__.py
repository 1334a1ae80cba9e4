"""Text out: rule groups, the values template splice, Terraform escaping, writers."""
