#!/bin/sh
# A broken shell pusher (bug=no_escape in build_payload.awk); it pushes with PUT and a label-aware
# lookup, and, like many real ones, curl -s without -f: a refused push goes unnoticed.
set -eu
here=$(dirname "$0")
prev=$(mktemp); payload=$(mktemp); trap 'rm -f "$prev" "$payload"' EXIT
curl -sS "$PUSHGATEWAY_URL/metrics" > "$prev"
awk -v mode=label -v now="$NOW" -v job="$PUSH_JOB" -v heartbeat_only=0 -v bug=no_escape \
    -f "$here/build_payload.awk" "$prev" "$RESULTS_FILE" > "$payload"
curl -sS -o /dev/null -X PUT --data-binary "@$payload" "$PUSHGATEWAY_URL/metrics/job/$PUSH_JOB"
