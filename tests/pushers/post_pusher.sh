#!/bin/sh
# Defect 2: the right payload, sent with POST. POST replaces only the families in the body, so
# a run with no drift leaves the old drift_stack_first_seen series in place.
set -eu
here=$(dirname "$0")
prev=$(mktemp); payload=$(mktemp); trap 'rm -f "$prev" "$payload"' EXIT
curl -fsS "$PUSHGATEWAY_URL/metrics" > "$prev"
awk -v mode=label -v now="$NOW" -v job="$PUSH_JOB" -v heartbeat_only=0 \
    -f "$here/build_payload.awk" "$prev" "$RESULTS_FILE" > "$payload"
curl -fsS -X POST --data-binary "@$payload" "$PUSHGATEWAY_URL/metrics/job/$PUSH_JOB"
