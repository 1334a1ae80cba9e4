"""Payloads: the strict text format, verification against a contract, the Pushgateway,
the reference pusher and the harness that contract-tests any pusher."""
