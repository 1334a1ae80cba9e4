#!/bin/sh
# Defect 1: looks up drift_stack_first_seen{stack="x"} literally in the gateway's /metrics.
# The gateway writes {instance="",job="...",stack="x"}, so the lookup never matches and every
# run resets first_seen to NOW: age stays 0 and DriftUnaddressed can never fire.
set -eu
here=$(dirname "$0")
prev=$(mktemp); payload=$(mktemp); trap 'rm -f "$prev" "$payload"' EXIT
curl -fsS "$PUSHGATEWAY_URL/metrics" > "$prev"
awk -v mode=literal -v now="$NOW" -v job="$PUSH_JOB" -v heartbeat_only=0 \
    -f "$here/build_payload.awk" "$prev" "$RESULTS_FILE" > "$payload"
curl -fsS -X PUT --data-binary "@$payload" "$PUSHGATEWAY_URL/metrics/job/$PUSH_JOB"
