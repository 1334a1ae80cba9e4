"""template.reader: one reading of the values template for lint, characterize, import, check
and render: groups with the template's own lines, each group's standalone text, comments
attached to what they precede."""

from __future__ import annotations

import pytest
import yaml

from promcontract.problems import UserError
from promcontract.template import reader

TEMPLATE = """\
server:
  global:
    scrape_interval: 30s
serverFiles:
  alerting_rules.yml:
    groups:
      # Queue workers.
      #
      # INC-1: the queue filled silently for a day.
      - name: Queue
        rules:
          # Deep for long: consumers are stuck.
          - alert: QueueDeep
            expr: queue_depth{job="q"} > 100  # 100 = one hour of work
            for: 15m
          - alert: QueueStale  # promcontract-lint: disable=absent-coverage -- fed elsewhere
            expr: time() - queue_last_run{job="q"} > 3600
      # Payments: the next group's history, not QueueStale's.
      - name: Payments
        rules:
          - alert: PaymentsDown
            expr: up{job="payments"} == 0
      # BEGIN promcontract group: Drift [contract: drift]
      - name: Drift
        rules: []
      # END promcontract group: Drift
alertmanager:
  config:
    route: {receiver: default}
    receivers: [{name: default}]
"""


def test_groups_rules_and_lines_are_the_templates() -> None:
    read = reader.read("t.tpl", TEMPLATE)
    lines = TEMPLATE.split("\n")
    assert [g.name for g in read.groups] == ["Queue", "Payments", "Drift"]
    for group in read.groups:
        assert lines[group.line - 1].strip() == f"- name: {group.name}"
        for rule in group.rules:
            assert lines[rule.line - 1].strip().startswith(f"- alert: {rule.name}")
    queue = read.group("Queue")
    assert [r.name for r in queue.alerts] == ["QueueDeep", "QueueStale"]
    assert queue.alerts[0].data["for"] == "15m"
    assert read.group("Drift").rules_missing and not read.group("Queue").rules_missing
    assert read.alertmanager is not None


def test_each_group_stands_alone_without_its_neighbour() -> None:
    read = reader.read("t.tpl", TEMPLATE)
    for group in read.groups:
        data = yaml.safe_load(group.rule_file())
        assert [g["name"] for g in data["groups"]] == [group.name]  # no next `- name:` line
    assert "INC-1" in read.group("Queue").text
    assert "Payments: the next group's history" not in read.group("Queue").text


def test_comments_attach_to_what_they_precede() -> None:
    read = reader.read("t.tpl", TEMPLATE)
    queue, payments = read.group("Queue"), read.group("Payments")
    assert queue.comments == ["Queue workers.", "", "INC-1: the queue filled silently for a day."]
    deep, stale = queue.alerts
    assert deep.comments == ["Deep for long: consumers are stuck.", "100 = one hour of work"]
    assert stale.comments == []  # a lint disable says nothing about the alert
    assert payments.comments == ["Payments: the next group's history, not QueueStale's."]
    assert read.group("Drift").comments == []  # markers are promcontract's, not the user's


def test_a_template_without_alerting_rules_is_one_located_error() -> None:
    broken = TEMPLATE.replace("rules:\n          # Deep", "rules: [\n          # Deep")
    with pytest.raises(UserError) as info:
        _ = reader.read("t.tpl", broken).groups
    assert str(info.value).startswith("t.tpl:")
    with pytest.raises(UserError, match="no alert group named 'Nope'"):
        reader.read("t.tpl", TEMPLATE).group("Nope")


PLAIN = """\
groups:
  # Queue workers.
  - name: Queue
    rules:
      - alert: QueueDeep
        expr: max(queue_depth{job="q"}) > 100
        for: 15m
        annotations:
          summary: "{{ $labels.instance }} is deep"
"""

MANIFEST = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: queue}
spec:
  groups:
    - name: Queue
      rules:
        - alert: QueueDeep
          expr: max by (job) (queue_depth{job="q"}) > 100
          for: 15m
        - alert: QueueDeep
          expr: queue_depth{job="q"} > 1
"""


def test_rule_files_are_read_by_kind_with_their_own_lines(tmp_path) -> None:
    plain = reader.read_rules("p.yml", PLAIN)
    manifest = reader.read_rules("m.yaml", MANIFEST)
    assert (plain.kind, manifest.kind) == ("rules", "prometheusrule")
    assert plain.group("Queue").comments == ["Queue workers."]
    assert [r.line for r in manifest.group("Queue").rules] == [8, 11]
    assert yaml.safe_load(manifest.rules_text)["groups"][0]["name"] == "Queue"
    assert yaml.safe_load(manifest.group("Queue").rule_file())["groups"][0]["rules"][1][
        "expr"] == 'queue_depth{job="q"} > 1'
    with pytest.raises(UserError, match="not a Prometheus rule file"):
        reader.read_rules("x.yml", "foo: 1\n")


# kube-prometheus writes its manifests with indentless sequences: `- name:` at the column of
# `groups:`, `- alert:` at the column of `rules:`; a later key of spec follows the groups.
INDENTLESS = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
spec:
  groups:
  - name: Queue
    rules:
    - alert: QueueDeep
      expr: |
        max by (job) (queue_depth{job="q"})
          > 100
      for: 15m
  - name: Other
    rules:
    - alert: OtherDown
      expr: up{job="o"} == 0
  other: 1
"""


def test_an_indentless_prometheusrule_keeps_every_group_and_rule() -> None:
    manifest = reader.read_rules("m.yaml", INDENTLESS)
    assert [g.name for g in manifest.groups] == ["Queue", "Other"]
    assert [[r.line for r in g.rules] for g in manifest.groups] == [[7], [14]]
    data = yaml.safe_load(manifest.rules_text)
    assert data == {"groups": [
        {"name": "Queue", "rules": [{"alert": "QueueDeep", "for": "15m",
                                     "expr": 'max by (job) (queue_depth{job="q"})\n  > 100\n'}]},
        {"name": "Other", "rules": [{"alert": "OtherDown", "expr": 'up{job="o"} == 0'}]}]}


@pytest.mark.integration
def test_lint_characterize_and_import_take_rule_files(cli, tmp_path, promtool_bin) -> None:
    plain, manifest = tmp_path / "p.yml", tmp_path / "m.yaml"
    plain.write_text(PLAIN)
    manifest.write_text(MANIFEST)
    linted = cli("lint", "--rules", str(plain), str(manifest))
    assert linted.code == 1
    assert f"{plain}:5: aggregated-label:" in linted.out
    assert f"{manifest}:11: duplicate-alert:" in linted.out
    assert "promtool" not in linted.out and "terraform-syntax" not in linted.out
    bad = tmp_path / "bad.yml"
    bad.write_text("foo: 1\n")
    refused = cli("lint", "--rules", str(bad))
    assert refused.code == 2 and f"{bad}:1:1: not a Prometheus rule file" in refused.err
    out = tmp_path / "out"
    recorded = cli("characterize", "--rules", str(plain), str(manifest), "-o", str(out))
    assert recorded.code == 0, recorded.err
    assert sorted(p.name for p in out.iterdir()) == ["queue-2.rules.yml", "queue-2.test.yml",
                                                     "queue.rules.yml", "queue.test.yml"]
    assert "alerts" in recorded.out and "in 2 group(s)" in recorded.out
    again = cli("characterize", "--rules", str(plain), str(manifest), "-o", str(out), "--check")
    assert again.code == 0, again.out
    imported = cli("import", "--rules", str(plain), "--group", "Queue",
                   "-o", str(tmp_path / "q.yaml"))
    assert imported.code == 0, imported.err
    assert f"{plain}:5: QueueDeep: imported as expr" in imported.out
    assert yaml.safe_load((tmp_path / "q.yaml").read_text())["description"] == "Queue workers."
