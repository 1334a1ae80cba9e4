#!/bin/sh
# A correct shell pusher: label-aware lookup of the previous first_seen, one PUT.
set -eu
here=$(dirname "$0")
prev=$(mktemp); payload=$(mktemp); trap 'rm -f "$prev" "$payload"' EXIT
curl -fsS "$PUSHGATEWAY_URL/metrics" > "$prev"
awk -v mode=label -v now="$NOW" -v job="$PUSH_JOB" -v heartbeat_only=0 -v bug= \
    -f "$here/build_payload.awk" "$prev" "$RESULTS_FILE" > "$payload"
curl -fsS -X PUT --data-binary "@$payload" "$PUSHGATEWAY_URL/metrics/job/$PUSH_JOB"
