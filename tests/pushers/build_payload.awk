# Shared by the sample shell pushers: previous gateway /metrics + results file -> payload.
# Variables: mode=literal|label (how the previous first_seen is looked up), now, job,
#            heartbeat_only=0|1, bug="" or one defect: clean_age (ages for clean stacks too),
#            no_escape (label values unescaped), error_drop (errored stacks lose first_seen).
# The first input file is the gateway's /metrics, the second the results file.
# In a gsub replacement "\\\\" is one literal backslash, so "\\\\\\\\" writes two.
function esc(s) { if (bug == "no_escape") return s; gsub(/\\/, "\\\\\\\\", s); gsub(/"/, "\\\\\"", s); return s }
FNR == NR {
    if (index($0, "drift_stack_first_seen{") != 1) next
    if (mode == "literal") {
        # The defect: expects the line exactly as it was pushed, without the labels the
        # gateway adds (instance="", job="...").
        key = substr($0, 1, index($0, "} "))
        first_lit[key] = $NF
    } else if (index($0, "job=\"" job "\"") > 0) {
        start = index($0, "stack=\"") + 7
        rest = substr($0, start)
        first[substr(rest, 1, index(rest, "\"}") - 1)] = $NF
    }
    next
}
NF >= 2 {
    code = $NF; stack = $0; sub(/[ \t]+[^ \t]+$/, "", stack); e = esc(stack)
    state = (code == 0) ? 0 : (code == 2) ? 1 : 2
    n[state]++
    states = states sprintf("drift_stack_state{stack=\"%s\"} %d\n", e, state)
    prev = ""
    if (mode == "literal") { k = "drift_stack_first_seen{stack=\"" e "\"}"; if (k in first_lit) prev = first_lit[k] }
    else if (e in first) prev = first[e]
    fs = ""
    if (state == 1) fs = (prev != "") ? prev : now
    if (state == 2 && prev != "" && bug != "error_drop") fs = prev
    if (state == 0 && bug == "clean_age") fs = (prev != "") ? prev : now
    if (fs != "") {
        firsts = firsts sprintf("drift_stack_first_seen{stack=\"%s\"} %.0f\n", e, fs)
        ages = ages sprintf("drift_stack_age_hours{stack=\"%s\"} %d\n", e, int((now - fs) / 3600))
    }
}
END {
    if (!heartbeat_only) {
        printf "# TYPE drift_stack_state gauge\n%s", states
        if (firsts != "") printf "# TYPE drift_stack_first_seen gauge\n%s# TYPE drift_stack_age_hours gauge\n%s", firsts, ages
        printf "# TYPE drift_stack_count gauge\ndrift_stack_count %d\n", n[1]
        printf "# TYPE drift_error_count gauge\ndrift_error_count %d\n", n[2]
        printf "# TYPE drift_clean_count gauge\ndrift_clean_count %d\n", n[0]
    }
    printf "# TYPE drift_detection_last_run_timestamp gauge\ndrift_detection_last_run_timestamp %d\n", now
}
