# Values for the prometheus-community/prometheus Helm chart.
# Rendered by Terraform templatefile() in stacks/monitoring/main.tf, then passed to helm_release.
# Terraform template syntax: $${...} and %%{...} are special; write $$$${ / %%%%{ for literals.

server:
  global:
    scrape_interval: 30s
    scrape_timeout: 10s
    evaluation_interval: 30s
  retention: "${retention_days}d"
  persistentVolume:
    enabled: true
    size: ${server_volume_size}
    storageClass: gp3
  resources:
    requests:
      cpu: 500m
      memory: 2Gi
    limits:
      memory: 6Gi
  ingress:
    enabled: true
    ingressClassName: internal
    hosts:
      - prometheus.${cluster_domain}
    annotations:
      cert-manager.io/cluster-issuer: letsencrypt
  extraFlags:
    - web.enable-lifecycle
    - storage.tsdb.wal-compression

alertmanager:
  enabled: true
  persistence:
    size: 2Gi
  config:
    global:
      resolve_timeout: 5m
      slack_api_url: "${slack_webhook_url}"
    route:
      receiver: default
      group_by: [alertname, job]
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 4h
      routes:
%{ for team, channel in team_channels ~}
        - receiver: ${team}
          matchers:
            - team="${team}"
%{ endfor ~}
        - receiver: pager
          matchers:
            - severity="critical"
    inhibit_rules:
      # While a job's heartbeat is stale its other alerts describe old data. The heartbeat
      # alert matches both sides, so Alertmanager never lets it inhibit itself.
      - source_matchers:
          - alertname="DriftDetectionStale"
        target_matchers:
          - job="drift-detection"
        equal: [job]
    receivers:
      - name: default
        slack_configs:
          - channel: "#alerts"
            send_resolved: true
            title: '{{ template "slack.default.title" . }}'
            text: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
%{ for team, channel in team_channels ~}
      - name: ${team}
        slack_configs:
          - channel: "${channel}"
            send_resolved: true
%{ endfor ~}
      - name: pager
        pagerduty_configs:
          - routing_key: "${pagerduty_routing_key}"
            description: '{{ .CommonAnnotations.summary }}'

prometheus-pushgateway:
  enabled: true
  serviceAnnotations:
    prometheus.io/probe: pushgateway
  persistentVolume:
    enabled: true
    size: 1Gi

kube-state-metrics:
  enabled: true

prometheus-node-exporter:
  enabled: true
  hostRootFsMount:
    enabled: false

extraScrapeConfigs: |
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets:
%{ for url in probe_urls ~}
          - ${url}
%{ endfor ~}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        regex: 'https?://([^/]+)/?.*'
        target_label: probe_host
        replacement: '$${1}'
      - target_label: __address__
        replacement: blackbox-exporter:9115

serverFiles:
  recording_rules.yml:
    groups:
      - name: node-recording
        rules:
          - record: instance:node_cpu_utilisation:rate5m
            expr: 1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{mode=~"idle|iowait|steal"}[5m])))
          - record: instance:node_memory_utilisation:ratio
            expr: 1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)

  alerting_rules.yml:
    groups:
      # Node health. Thresholds agreed with the platform team, see runbook NODE-1.
      - name: Node
        rules:
          - alert: NodeFilesystemAlmostFull
            expr: node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes < 0.10
            for: 15m
            labels:
              severity: warning
              team: infra
            annotations:
              summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} free"
              runbook_url: "https://runbooks.${cluster_domain}/node/filesystem"
          - alert: NodeHighCPU
            expr: instance:node_cpu_utilisation:rate5m > 0.9
            for: 30m
            labels:
              severity: warning
              team: infra
            annotations:
              summary: "CPU on {{ $labels.instance }} at {{ $value | humanizePercentage }}"
          - alert: NodeMemoryPressure
            expr: instance:node_memory_utilisation:ratio > 0.95
            for: 10m
            labels:
              severity: critical
              team: infra
            annotations:
              summary: "Memory on {{ $labels.instance }} at {{ $value | humanizePercentage }}"

      # Kubernetes workloads.
      - name: Kubernetes
        rules:
          - alert: KubePodCrashLooping
            expr: increase(kube_pod_container_status_restarts_total[15m]) > 3
            for: 15m
            labels:
              severity: warning
            annotations:
              summary: "{{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value | printf \"%.0f\" }} times in 15m"
          - alert: KubeDeploymentReplicasMismatch
            expr: kube_deployment_spec_replicas != kube_deployment_status_replicas_available
            for: 30m
            labels:
              severity: warning
            annotations:
              summary: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has {{ $value }} available replicas"
          - alert: KubeJobFailed
            expr: kube_job_status_failed > 0
            for: 5m
            labels:
              severity: warning
            annotations:
              summary: "Job {{ $labels.namespace }}/{{ $labels.job_name }} failed"

      # BEGIN promcontract group: Infrastructure Drift [contract: drift]
      - name: Infrastructure Drift
        # Generated from drift.contract.yaml by promcontract (make rules). Do not edit here:
        # change the contract, then run make rules.
        rules:
          # DriftDetectionStale (for 30m): 24 h cron + 2 h grace; catches a dead cron or a job
          # failing before its push. Also fires when the heartbeat series is absent altogether
          # (gateway wiped or job never ran).
          - alert: DriftDetectionStale
            expr: (time() - max by (job) (drift_detection_last_run_timestamp{job="drift-detection"}) > 26 * 3600) or label_replace(absent(drift_detection_last_run_timestamp{job="drift-detection"}), "absent", "true", "", "")
            for: 30m
            labels:
              severity: warning
            annotations:
              summary: "{{ if $labels.absent }}Drift detection has never reported: no heartbeat series for job {{ $labels.job }}{{ else }}Drift detection has not reported for {{ $value | humanizeDuration }}{{ end }}"
              description: "{{ if $labels.absent }}There is no drift_detection_last_run_timestamp series at all: the job has never pushed, or the Pushgateway lost its state. Check the nightly CI schedule and the gateway.{{ else }}The drift-detection job last pushed its heartbeat {{ $value | humanizeDuration }} ago. Check the nightly CI schedule and the job's last log.{{ end }}"
          # DriftUnaddressed (for 1h): 72 h is long enough for weekends and review, short enough
          # to force follow-up. Computed from first_seen (not age_hours) so the age grows between
          # runs and the alert keeps the stack label and names its stack.
          - alert: DriftUnaddressed
            expr: time() - drift_stack_first_seen{job="drift-detection"} > 72 * 3600
            for: 1h
            labels:
              severity: warning
            annotations:
              summary: Stack {{ $labels.stack }} has drifted for {{ $value | humanizeDuration }}
              description: terraform plan has shown changes for stack {{ $labels.stack }} since its drift streak began {{ $value | humanizeDuration }} ago. Apply or revert the change.
          # DriftStacksMany (for 30m): Wide drift means a systemic cause (admission webhook,
          # provider bump, CRD upgrade).
          - alert: DriftStacksMany
            expr: drift_stack_count{job="drift-detection"} > 10
            for: 30m
            labels:
              severity: warning
            annotations:
              summary: "{{ $value | printf \"%.0f\" }} stacks drifted in the last run"
              description: Drift in this many stacks at once ({{ $value | printf "%.0f" }}). Look for a systemic cause before fixing stacks one by one.
          # DriftStackErrored (for 2h): An unplannable stack is invisible to the other rules; 2h
          # rides out a lock or backend blip.
          - alert: DriftStackErrored
            expr: drift_error_count{job="drift-detection"} > 0
            for: 2h
            labels:
              severity: warning
            annotations:
              summary: "{{ $value | printf \"%.0f\" }} stacks failed to plan"
              description: terraform plan failed for {{ $value | printf "%.0f" }} stacks; their drift is unknown. See drift_stack_state == 2 for which.
          # DriftCountMismatch (for 10m): Invariant drift_count_matches_states: drift_stack_count
          # equals the number of stacks in state 1 (drift).
          - alert: DriftCountMismatch
            expr: drift_stack_count{job="drift-detection"} != on(job) (count by (job) (drift_stack_state{job="drift-detection"} == 1) or on(job) 0 * max by (job) (drift_stack_count{job="drift-detection"}))
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: drift_stack_count says {{ $value | printf "%.0f" }} but the per-stack series disagree
              description: "The pusher's count of drifted stacks does not match its drift_stack_state series: the payload is inconsistent, so the drift alerts cannot be trusted."
          # DriftStackSeriesMissing (for 10m): Invariant counts_cover_all_stacks: The three counts
          # sum to the number of drift_stack_state series.
          - alert: DriftStackSeriesMissing
            expr: (drift_stack_count{job="drift-detection"} + drift_error_count{job="drift-detection"} + drift_clean_count{job="drift-detection"}) != on(job) (count by (job) (drift_stack_state{job="drift-detection"}) or on(job) 0 * max by (job) (drift_stack_count{job="drift-detection"}))
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: The counts add up to {{ $value | printf "%.0f" }} stacks but the per-stack series do not
              description: "Per-stack drift_stack_state series are missing (or extra) for the counts pushed: DriftUnaddressed cannot see stacks that have no series."
          # DriftFirstSeenMissing (for 10m): Invariant drifted_stack_has_first_seen: Every drifted
          # stack has a drift_stack_first_seen series.
          - alert: DriftFirstSeenMissing
            expr: (drift_stack_state{job="drift-detection"} == 1) unless on(job, stack) drift_stack_first_seen{job="drift-detection"}
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: Stack {{ $labels.stack }} drifts but has no drift_stack_first_seen
              description: Without first_seen the age of the drift of stack {{ $labels.stack }} is unknown and DriftUnaddressed cannot fire for it.
          # DriftStaleFirstSeen (for 10m): Invariant clean_stack_has_no_first_seen: A clean run
          # ends the streak, so a clean stack has no first_seen.
          - alert: DriftStaleFirstSeen
            expr: drift_stack_first_seen{job="drift-detection"} and on(job, stack) (drift_stack_state{job="drift-detection"} == 0)
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: Clean stack {{ $labels.stack }} still has a drift_stack_first_seen
              description: "A first_seen survived a clean run (a push that does not replace the whole group, e.g. POST): the next drift of {{ $labels.stack }} would inherit an old streak start."
          # DriftHeartbeatOnly (for 10m): Invariant counts_present_with_heartbeat: A push that
          # carries the heartbeat also carries the counts (a heartbeat-only push hides every
          # per-stack problem while the staleness alert stays quiet).
          - alert: DriftHeartbeatOnly
            expr: max by (job) (drift_detection_last_run_timestamp{job="drift-detection"}) unless on(job) max by (job) (drift_stack_count{job="drift-detection"})
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: Drift detection pushes its heartbeat but no drift counts
              description: "The last push carried drift_detection_last_run_timestamp without drift_stack_count: per-stack series are missing, so no drift alert can fire."
      # END promcontract group: Infrastructure Drift

      # Certificates issued by cert-manager.
      - name: Certificates
        rules:
          # promcontract-lint: disable=absent-coverage -- a missing cert-manager exporter is caught by the cluster's up == 0 alerting
          - alert: CertificateExpiringSoon
            expr: certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400
            for: 1h
            labels:
              severity: warning
            annotations:
              summary: "Certificate {{ $labels.name }} expires in {{ $value | humanizeDuration }}"
          - alert: CertificateNotReady
            expr: certmanager_certificate_ready_status{condition="False"} == 1
            for: 10m
            labels:
              severity: critical
            annotations:
              summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready"

      # BEGIN promcontract group: Image Scanning [contract: image-scan]
      - name: Image Scanning
        # Generated from image-scan.contract.yaml by promcontract (make rules). Do not edit here:
        # change the contract, then run make rules.
        rules:
          # ImageScanStale (for 30m): 24 h cron + 2 h grace, as for drift detection: a dead scan
          # looks exactly like a clean one.
          - alert: ImageScanStale
            expr: (time() - max by (job) (image_scan_last_run_timestamp{job="image-scan"}) > 26 * 3600) or label_replace(absent(image_scan_last_run_timestamp{job="image-scan"}), "absent", "true", "", "")
            for: 30m
            labels:
              severity: warning
            annotations:
              summary: "{{ if $labels.absent }}ImageScanStale: no image_scan_last_run_timestamp series for job {{ $labels.job }}: it has never reported, or its series were deleted{{ else }}The image scan has not reported for {{ $value | humanizeDuration }}{{ end }}"
          # ImageCriticalVulnerabilities (for 1h): Any critical finding needs an owner; 1h lets a
          # same-day rebuild land before paging.
          - alert: ImageCriticalVulnerabilities
            expr: image_scan_critical_vulnerabilities{job="image-scan"} > 0
            for: 1h
            labels:
              severity: warning
            annotations:
              summary: Image {{ $labels.image }} has {{ $value | printf "%.0f" }} critical vulnerabilities
      # END promcontract group: Image Scanning
      # BEGIN promcontract group: Database Backups [contract: db-backup]
      - name: Database Backups
        # Generated from db-backup.contract.yaml by promcontract (make rules). Do not edit here:
        # change the contract, then run make rules.
        rules:
          # DbBackupStale (for 30m): Nightly backups plus 2 h grace, as for the other nightly
          # jobs. Fires when the series is absent too: an agent that never reported is no better
          # than one that fails.
          - alert: DbBackupStale
            expr: (time() - max by (job) (db_backup_last_success_timestamp_seconds{job="db-backup"}) > 26 * 3600) or label_replace(absent(db_backup_last_success_timestamp_seconds{job="db-backup"}), "absent", "true", "", "")
            for: 30m
            labels:
              severity: critical
            annotations:
              summary: "{{ if $labels.absent }}The backup agent has never reported a successful backup (job {{ $labels.job }}){{ else }}No database backup has succeeded for {{ $value | humanizeDuration }}{{ end }}"
              description: "{{ if $labels.absent }}The backup agent has never reported a successful backup (job {{ $labels.job }}){{ else }}The last successful base backup finished {{ $value | humanizeDuration }} ago. Restores now depend on WAL replay from an old base; look at the agent's last log.{{ end }}"
          # DbBackupTooSmall (for 10m): Every database here is well over 1 GiB; a base backup
          # under 1e9 bytes means it captured an empty or wrong data directory (seen once after a
          # volume remount).
          - alert: DbBackupTooSmall
            expr: db_backup_size_bytes{job="db-backup"} < 1000000000
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: The last backup of {{ $labels.database }} is only {{ $value | humanize1024 }}B
          # DbBackupRepoFailing (for 15m, keep firing 30m): State 2 (failing), not "> 1": a state
          # added later must not page by accident. The check flaps while a repository recovers, so
          # the alert keeps firing 30 minutes after it clears.
          - alert: DbBackupRepoFailing
            expr: db_backup_repo_state{job="db-backup"} == 2
            for: 15m
            keep_firing_for: 30m
            labels:
              severity: critical
            annotations:
              summary: Backup repository {{ $labels.repository }} is failing
          # DbBackupDurationUnusual (for 10m): Under a minute means nothing was copied; over four
          # hours means it will overlap the morning load.
          - alert: DbBackupDurationUnusual
            expr: db_backup_duration_seconds{job="db-backup"} < 60 or db_backup_duration_seconds{job="db-backup"} > 14400
            for: 10m
            labels:
              severity: warning
            annotations:
              summary: The last backup of {{ $labels.database }} took {{ $value | humanizeDuration }}
          # DbWalArchivingStopped (for 15m): Every cluster writes a WAL segment at least every 5
          # minutes (archive_timeout); half an hour without one archived means point-in-time
          # recovery is lost from that moment on.
          - alert: DbWalArchivingStopped
            expr: (increase(db_wal_archived_segments_total{job="db-backup"}[30m]) < 1) or label_replace(absent(db_wal_archived_segments_total{job="db-backup"}), "absent", "true", "", "")
            for: 15m
            labels:
              severity: critical
            annotations:
              summary: "{{ if $labels.absent }}The backup agent reports no WAL archiving at all (job {{ $labels.job }}){{ else }}No WAL segment of {{ $labels.database }} archived in 30 minutes{{ end }}"
          # DbBackupFailures (for 5m): A failure is retried by the agent; any failure in six hours
          # is worth a look before the next night, even when a retry succeeded.
          - alert: DbBackupFailures
            expr: increase(db_backup_failures_total{job="db-backup"}[6h]) > 0
            for: 5m
            labels:
              severity: warning
            annotations:
              summary: "{{ $value | printf \"%.0f\" }} base backups failed in the last 6 hours"
      # END promcontract group: Database Backups
      # promcontract: new groups (promcontract render puts groups it adds just above this line)

%{ if enable_backup_alerts ~}
      - name: Backups
        rules:
          - alert: BackupTooOld
            expr: time() - backup_last_success_timestamp_seconds > ${backup_max_age_hours} * 3600
            for: 1h
            labels:
              severity: critical
            annotations:
              summary: "Backup {{ $labels.backup }} is {{ $value | humanizeDuration }} old"
          - alert: BackupNeverSucceeded
            expr: absent(backup_last_success_timestamp_seconds)
            for: 1h
            labels:
              severity: critical
            annotations:
              summary: "No backup has reported a success timestamp"
%{ endif ~}

  prometheus.yml:
    rule_files:
      - /etc/config/recording_rules.yml
      - /etc/config/alerting_rules.yml
    scrape_configs:
      - job_name: prometheus
        static_configs:
          - targets: [localhost:9090]
      - job_name: pushgateway
        honor_labels: true
        scrape_interval: 15s
        static_configs:
          - targets: [prometheus-pushgateway:9091]
      - job_name: kubernetes-pods
        kubernetes_sd_configs:
          - role: pod
        relabel_configs:
          - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
            action: keep
            regex: true
          - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
            action: replace
            regex: ([^:]+)(?::\d+)?;(\d+)
            replacement: $${1}:$${2}
            target_label: __address__
