"""promcontract routes: delivery tests against amtool's routing and a real Alertmanager
(Debian prometheus-alertmanager on 127.0.0.1); each check fails on the defect it is for."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import ROOT, TEMPLATE

pytestmark = pytest.mark.integration

CONFIG = """\
route:
  receiver: default
  group_by: [alertname, job]
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['team="infra"']
      receiver: infra
receivers:
  - name: default
  - name: pager
    pagerduty_configs: [{routing_key: "0123"}]   # never used: receivers are emptied
  - name: infra
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"""

TESTS = """\
tests:
  - name: critical of infra pages, then continues to infra
    alert: {alertname: DiskFull, severity: critical, team: infra, job: node}
    receivers: [pager, infra]
    group_labels: {alertname: DiskFull, job: node}
  - name: the warning is inhibited while the critical one fires
    alert: {alertname: DiskFull, severity: warning, job: node}
    firing: [{alertname: DiskFull, severity: critical, job: node}]
    inhibited: true
  - name: the warning alone is not (the last test's alerts are gone)
    alert: {alertname: DiskFull, severity: warning, job: node}
    inhibited: false
    receivers: [default]
"""


@pytest.fixture
def files(tmp_path, amtool_bin, alertmanager_bin):
    (tmp_path / "am.yml").write_text(CONFIG)
    (tmp_path / "t.routes.yml").write_text(TESTS)
    return tmp_path


def test_receivers_inhibition_and_groups_pass(cli, files) -> None:
    result = cli("routes", "--config", str(files / "am.yml"), str(files / "t.routes.yml"),
                 "--junit", str(files / "r.xml"))
    assert result.code == 0, result.out + result.err
    assert result.out.count(": ok") == 3
    assert "routes: 3/3 tests pass" in result.out
    assert '<testsuite name="promcontract routes" tests="3"' in (files / "r.xml").read_text()


@pytest.mark.parametrize("old, new, message", [
    # the pager route no longer continues: infra never hears of its critical alerts
    ("      continue: true\n", "", r"receivers: expected \['pager', 'infra'\], got \['pager'\]"),
    # routes swapped: order matters
    ("    - matchers: ['severity=\"critical\"']\n      receiver: pager\n      continue: true\n"
     "    - matchers: ['team=\"infra\"']\n      receiver: infra\n",
     "    - matchers: ['team=\"infra\"']\n      receiver: infra\n      continue: true\n"
     "    - matchers: ['severity=\"critical\"']\n      receiver: pager\n",
     r"receivers: expected \['pager', 'infra'\], got \['infra', 'pager'\]"),
    # the inhibit rule now needs the same instance, which the two alerts do not share
    ("    equal: [alertname]\n", "    equal: [alertname, instance]\n", None),
    # the inhibit rule deleted
    ("inhibit_rules:\n  - source_matchers: ['severity=\"critical\"']\n"
     "    target_matchers: ['severity=\"warning\"']\n    equal: [alertname]\n", "",
     r"inhibited: expected yes, got no"),
    # grouping changed
    ("  group_by: [alertname, job]\n", "  group_by: [alertname]\n",
     r"group labels at pager: expected \{'alertname': 'DiskFull', 'job': 'node'\}, got "
     r"\{'alertname': 'DiskFull'\}"),
])
def test_each_defect_of_the_config_fails_its_test(cli, files, old, new, message) -> None:
    assert old in CONFIG
    (files / "am.yml").write_text(CONFIG.replace(old, new))
    result = cli("routes", "--config", str(files / "am.yml"), str(files / "t.routes.yml"))
    if message is None:  # a label neither alert carries is equal on both (empty): still
        assert result.code == 0, result.out  # inhibited, as Alertmanager does it
        return
    assert result.code == 1, result.out
    assert re.search(message, result.out), result.out
    assert "delivery test(s) fail" in result.err


@pytest.mark.parametrize("text, where", [
    ("tests:\n  - name: x\n    receivers: [a]\n", r"t\.routes\.yml:2:\d+: test 'x': give "
                                                   r"alert \(its labels\) or exp_alerts_of"),
    ("tests:\n  - name: x\n    alert: {a: b}\n    recievers: [a]\n",
     r"t\.routes\.yml:4:\d+: unknown field 'recievers'"),
    ("tests:\n  - name: x\n    alert: {a: b}\n",
     r"t\.routes\.yml:2:\d+: test 'x' checks nothing: give receivers, inhibited, "
     r"group_labels or muted \(tests\[0\]\)"),
    ("tests: [\n", r"t\.routes\.yml:\d+:\d+: .*YAML"),
])
def test_a_malformed_test_file_is_one_located_line(cli, files, text, where) -> None:
    (files / "t.routes.yml").write_text(text)
    result = cli("routes", "--config", str(files / "am.yml"), str(files / "t.routes.yml"))
    assert result.code == 2, result.out + result.err
    assert len(result.err_lines) == 1 and re.search(where, result.err), result.err


def test_the_bundled_template_runs_with_no_flags(cli, amtool_bin, alertmanager_bin,
                                                 monkeypatch) -> None:
    """Evaluated with stacks/monitoring/example.tfvars.json as templatefile() would (the
    `%{ for team, channel in team_channels }` routes expanded), against rules/*.routes.yml."""
    monkeypatch.chdir(ROOT)
    result = cli("routes")
    assert result.code == 0, result.out + result.err
    assert re.search(r"routes: (\d+)/\1 tests pass against "
                     r"stacks/monitoring/prometheus_chart_values\.tpl", result.out)


def test_a_reordered_bundled_config_fails(cli, tmp_path, amtool_bin, alertmanager_bin) -> None:
    """The pager route moved above the team routes: the bundled tests say which alerts now go
    elsewhere."""
    tpl = tmp_path / "values.tpl"
    text = TEMPLATE.read_text()
    pager = "        - receiver: pager\n          matchers:\n            - severity=\"critical\"\n"
    teams = text[text.index("%{ for team, channel in team_channels ~}\n        - receiver"):
                 text.index(pager)]
    assert pager in text and teams
    tpl.write_text(text.replace(teams + pager, pager + teams))
    shutil.copy(ROOT / "stacks" / "monitoring" / "example.tfvars.json", tmp_path)
    result = cli("routes", "--tpl", str(tpl), str(ROOT / "rules" / "delivery.routes.yml"))
    assert result.code == 1, result.out
    assert "a critical alert of team infra reaches the infra channel only: receivers: " \
           "expected ['infra'], got ['pager']" in result.out


def test_directives_without_vars_are_refused(cli, tmp_path, amtool_bin) -> None:
    tpl = tmp_path / "values.tpl"
    tpl.write_text(TEMPLATE.read_text())
    result = cli("routes", "--tpl", str(tpl), str(ROOT / "rules" / "delivery.routes.yml"))
    assert result.code == 2 and len(result.err_lines) == 1
    assert "holds Terraform directives" in result.err and "--vars FILE" in result.err


def test_no_alertmanager_is_left_running(cli, files) -> None:
    assert cli("routes", "--config", str(files / "am.yml"),
               str(files / "t.routes.yml")).code == 0
    left = subprocess.run(["pgrep", "-f", "promcontract-am-"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


E2E_CONFIG = """\
route:
  receiver: default
  group_by: [alertname, job]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: default
    webhook_configs: [{url: "SINK/default", send_resolved: false}]
  - name: pager
    webhook_configs: [{url: "SINK/pager", send_resolved: false}]
inhibit_rules:
  # while many stacks drift, the errored-stack alert of the same job is held back
  - source_matchers: ['alertname="DriftStacksMany"']
    target_matchers: ['alertname="DriftStackErrored"']
    equal: [job]
"""


class _Sink:
    """A webhook receiver on 127.0.0.1: what Alertmanager delivers, by path."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading

        got: list[tuple[str, dict]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 1 << 20))
                got.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 1024  # Alertmanager sends many groups at once

        self.got = got
        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Sink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def alerts(self) -> list[tuple[str, dict, dict]]:
        """(receiver path, group labels, alert labels) of every alert delivered so far."""
        return [(path, note["groupLabels"], alert["labels"]) for path, note in list(self.got)
                for alert in note["alerts"]]


@pytest.mark.timeout(120)
def test_end_to_end_pushgateway_prometheus_alertmanager_webhook(
        drift_contract, pushgateway_bin, alertmanager_bin, promtool_bin) -> None:
    """A push reaches a real Pushgateway; a real Prometheus scrapes it, evaluates the
    rendered group and sends to a real Alertmanager, which delivers to a webhook sink here:
    DriftStacksMany arrives at the default receiver grouped by alertname and job, and the
    DriftStackErrored it inhibits never arrives. The rendered `for:` durations (30m and more)
    are set to 0s here: the derived promtool tests pin them; this test proves delivery."""
    import time

    from promcontract.payload import gateway, pusher
    from promcontract.render import group
    from promcontract.runners.servers import Alertmanager, Prometheus, Pushgateway

    rules = "groups:\n" + "\n".join(
        "  " + line if line else line
        for line in re.sub(r"(?m)^(\s+)for: \S+$", r"\1for: 0s",
                           group.render_group(drift_contract)).split("\n")) + "\n"
    with _Sink() as sink, Pushgateway(binary=pushgateway_bin) as pgw, \
            Alertmanager(E2E_CONFIG.replace("SINK", sink.url),
                         binary=alertmanager_bin) as am, \
            Prometheus(rules, pgw.url, alertmanager_url=am.url) as prom:
        assert prom.proc is not None
        now = time.time()
        results = "".join(f"stack-{i} 2\n" for i in range(11)) + "broken 1\n"
        pusher.push(drift_contract, results, "r", pgw.url, now)
        gateway.fetch_metrics(pgw.url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            names = {labels["alertname"] for _, _, labels in sink.alerts()}
            if "DriftStacksMany" in names:
                break
            time.sleep(0.5)
        delivered = sink.alerts()
        many = [(path, grouping) for path, grouping, labels in delivered
                if labels["alertname"] == "DriftStacksMany"]
        assert many, f"nothing delivered for DriftStacksMany in 60 s: {delivered}"
        assert many[0] == ("/default", {"alertname": "DriftStacksMany",
                                        "job": drift_contract.job})
        # the inhibited alert is held by Alertmanager, never delivered (two more intervals)
        time.sleep(3)
        held = [a for a in am.api("GET", "alerts") if a["labels"]["alertname"] ==
                "DriftStackErrored"]
        assert held and held[0]["status"]["inhibitedBy"], held
        assert "DriftStackErrored" not in {labels["alertname"] for _, _, labels in
                                           sink.alerts()}


def test_a_label_change_that_moves_a_page_makes_the_derived_tests_stale(
        cli, workspace, amtool_bin, alertmanager_bin) -> None:
    """Every label set the derived promtool tests expect is routed; raising DriftStackErrored
    to critical sends it to the pager: `routes --derive --check` (make check) fails until
    make rules re-derives it, and the diff says where it now goes."""
    assert cli("routes", "--derive", "--check").code == 0
    contract = workspace / "rules" / "drift.contract.yaml"
    text = contract.read_text()
    start = text.index("  - name: DriftStackErrored")
    at = text.index("severity: warning", start)
    contract.write_text(text[:at] + "severity: critical" + text[at + len("severity: warning"):])
    assert cli("render").code == 0
    stale = cli("routes", "--derive", "--check")
    assert stale.code == 1 and "stale: rules/generated/drift.routes.yml" in stale.out
    assert cli("routes", "--derive").code == 0
    derived = (workspace / "rules" / "generated" / "drift.routes.yml").read_text()
    assert "- name: DriftStackErrored (job=drift-detection, severity=critical)\n" in derived
    entry = derived[derived.index("- name: DriftStackErrored"):]
    assert entry.split("receivers:\n", 1)[1].startswith("  - pager\n")


def test_a_route_the_contract_declares_is_checked_against_the_config(
        cli, workspace, amtool_bin, alertmanager_bin) -> None:
    """DbBackupStale's contract says `route: {receiver: pager, group_by: [alertname, job]}`
    and DriftStacksMany's says DriftDetectionStale inhibits it: the derived tests say so, and
    a config that no longer does fails `promcontract routes` (make check)."""
    derived = (workspace / "rules" / "generated" / "db-backup.routes.yml").read_text()
    assert "DbBackupStale (job=db-backup, severity=critical): as its contract says" in derived
    drift = (workspace / "rules" / "generated" / "drift.routes.yml").read_text()
    assert "DriftStacksMany (job=drift-detection, severity=warning): inhibited while " \
           "DriftDetectionStale\n    fires'\n" in drift
    assert cli("routes").code == 0

    tpl = workspace / "stacks" / "monitoring" / "prometheus_chart_values.tpl"
    text = tpl.read_text()
    pager = '          matchers:\n            - severity="critical"\n'
    assert pager in text
    tpl.write_text(text.replace(pager, '          matchers:\n            - severity="page"\n'))
    moved = cli("routes")
    assert moved.code == 1, moved.out
    assert re.search(r"db-backup\.routes\.yml:\d+: DbBackupStale \(job=db-backup, "
                     r"severity=critical\): as its contract says: receivers: expected "
                     r"\['pager'\], got \['default'\]", moved.out), moved.out

    start = text.index("    inhibit_rules:\n")
    end = text.index("    receivers:\n", start)
    tpl.write_text(text[:start] + text[end:])
    uninhibited = cli("routes")
    assert uninhibited.code == 1, uninhibited.out
    assert re.search(r"inhibited while DriftDetectionStale fires: inhibited: expected yes, "
                     r"got no", uninhibited.out), uninhibited.out


@pytest.mark.parametrize("route, words", [
    ({"receiver": "pager", "receivers": ["pager"]},
     "give 'receiver' or 'receivers', not both (alerts[0].route)"),
    ({"recievers": ["pager"]}, "unknown field 'recievers'"),
    ({"inhibited_by": [{}]}, "needs at least 1 field(s) (alerts[0].route.inhibited_by[0])"),
    ({}, "needs at least 1 field(s) (alerts[0].route)"),
])
def test_a_malformed_route_is_refused_by_validate(cli, workspace, route, words) -> None:
    import yaml

    contract = workspace / "rules" / "db-backup.contract.yaml"
    data = yaml.safe_load(contract.read_text())
    data["alerts"][0]["route"] = route
    contract.write_text(yaml.safe_dump(data, sort_keys=False))
    result = cli("validate", str(contract))
    assert result.code == 2, result.out + result.err
    assert len(result.err_lines) == 1 and words in result.err, result.err
    assert re.match(r".*rules/db-backup\.contract\.yaml:\d+:\d+: ", result.err), result.err


def test_amtool_and_alertmanager_disagreeing_fails_the_test() -> None:
    """The cross-check between the two readings of the route tree fails when they differ (a
    fake server stands in here: the real two have agreed on every test above)."""
    from promcontract.workflows import routes

    class Fake:
        def __init__(self) -> None:
            self.posted: list = []

        def api(self, method: str, path: str, body: object = None) -> object:
            if method == "POST":
                self.posted.append(body)
                return None
            if path == "alerts/groups":
                return [{"labels": {}, "receiver": {"name": "pager"},
                         "alerts": [{"labels": {"alertname": "A"}}]}]
            return [{"labels": {"alertname": "A"}, "receivers": [{"name": "pager"}],
                     "status": {"inhibitedBy": []}}]

    test = routes.RouteTest("t.yml", 2, "t", {"alertname": "A"}, receivers=("default",))
    result = routes.Result(test)
    fake = Fake()
    routes.check_one(fake, result, ("default",))
    assert result.failures == ["amtool routes it to ['default'], Alertmanager to ['pager']"]
    assert len(fake.posted) == 2  # posted, then resolved


def test_config_mutants_a_test_file_does_not_pin_are_reported(cli, files) -> None:
    """No test says a critical alert of another name leaves the warning alone, so dropping
    `alertname` from the inhibit rule's `equal` survives; the test that pins it kills it."""
    result = cli("routes", "--config", str(files / "am.yml"), str(files / "t.routes.yml"),
                 "--mutate", "--junit", str(files / "r.xml"))
    assert result.code == 1, result.out + result.err
    survivors = [line for line in result.out.splitlines() if "SURVIVED" in line]
    assert survivors == [f"{files / 'am.yml'}: inhibit_rules[0].equal: SURVIVED [equal] "
                         "dropped alertname"], result.out
    assert re.search(r"config mutants killed: 18/19 \(94\.7%\); 1 equivalent", result.out)
    assert "1 config mutant(s) not killed" in result.err
    xml = (files / "r.xml").read_text()
    assert xml.count('type="config-mutant"') == 1 and "dropped alertname" in xml

    (files / "t.routes.yml").write_text(TESTS + """\
  - name: a critical alert of another name does not inhibit the warning
    alert: {alertname: DiskFull, severity: warning, job: node}
    firing: [{alertname: NodeDown, severity: critical, job: node}]
    inhibited: false
""")
    result = cli("routes", "--config", str(files / "am.yml"), str(files / "t.routes.yml"),
                 "--mutate")
    assert result.code == 0, result.out + result.err
    assert "config mutants killed: 19/19 (100.0%)" in result.out


def test_each_kind_of_config_mutant_is_made() -> None:
    import yaml

    from promcontract.workflows import routes_mutate

    config = yaml.safe_load(CONFIG)
    config["route"]["routes"].insert(1, {"receiver": "infra", "match": {"team": "data"},
                                         "match_re": {"env": "prod|stage"}})
    made = {(m.operator, m.where): m for m in routes_mutate.mutants(config)}
    operators = {op for op, _ in made}
    assert operators == {"receiver", "group-by", "matcher-value", "matcher-operator",
                         "continue", "route-deleted", "route-order", "equal",
                         "inhibit-deleted"}
    # match/match_re spellings: the operator change moves the matcher to `matchers`
    flipped = made[("matcher-operator", "route.routes[1].match_re.env")].config
    assert flipped["route"]["routes"][1]["matchers"] == ['env!~"prod|stage"']
    assert "match_re" not in flipped["route"]["routes"][1]
    # team="data" then team="infra": disjoint, the swap is equivalent; the pager route is not
    assert made[("route-order", "route.routes[1]")].equivalent
    assert not made[("route-order", "route.routes[0]")].equivalent
    # the original is never changed by making mutants
    assert config == {**yaml.safe_load(CONFIG), "route": config["route"]}
    assert config["route"]["routes"][0] == yaml.safe_load(CONFIG)["route"]["routes"][0]


@pytest.mark.parametrize("text, parsed", [
    ('team="infra"', ("team", "=", "infra")),
    ('severity =~ "crit.*"', ("severity", "=~", "crit.*")),
    ("env!=prod", ("env", "!=", "prod")),
    ('a="x\\"y"', ("a", "=", 'x"y')),
    ('{a="b", c="d"}', None),
])
def test_matchers_are_read_as_alertmanager_writes_them(text, parsed) -> None:
    from promcontract.workflows import routes_mutate

    assert routes_mutate.parse_matcher(text) == parsed
    if parsed:
        again = routes_mutate.format_matcher(*parsed)
        assert routes_mutate.parse_matcher(again) == parsed


def _random_interval(rng, now) -> dict:  # noqa: ANN001 - random.Random, datetime
    """One time interval with some of its fields, often close to ``now``."""
    from zoneinfo import ZoneInfo

    from promcontract.template import amtime

    interval: dict = {}
    zone = rng.choice([None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                       "Australia/Adelaide", "Pacific/Chatham"])
    local = now.astimezone(ZoneInfo(zone)) if zone else now
    if zone:
        interval["location"] = zone
    if rng.random() < 0.6:
        times = []
        for _ in range(rng.randint(1, 2)):
            mid = local.hour * 60 + local.minute + rng.randint(-240, 240)
            start = max(0, min(1439, mid - rng.randint(0, 180)))
            end = max(start + 1, min(1440, mid + rng.randint(1, 180)))
            times.append({"start_time": f"{start // 60:02d}:{start % 60:02d}",
                          "end_time": f"{end // 60:02d}:{end % 60:02d}"})
        interval["times"] = times
    if rng.random() < 0.5:
        today = (local.weekday() + 1) % 7
        begin = max(0, today - rng.randint(0, 3)) if rng.random() < 0.6 else rng.randint(0, 6)
        end = rng.randint(begin, 6)
        names = amtime.WEEKDAYS
        interval["weekdays"] = [names[begin] if begin == end else f"{names[begin]}:{names[end]}"]
    if rng.random() < 0.4:
        if rng.random() < 0.5:
            begin = rng.randint(1, 31)
            interval["days_of_month"] = [f"{begin}:{rng.randint(begin, 31)}"]
        else:
            begin = rng.randint(-31, -1)
            interval["days_of_month"] = [f"{begin}:{rng.randint(begin, -1)}"]
    if rng.random() < 0.3:
        begin = rng.randint(1, 12)
        end = rng.randint(begin, 12)
        interval["months"] = [f"{amtime.MONTHS[begin - 1]}:{end}" if rng.random() < 0.5
                              else f"{begin}:{end}"]
    if rng.random() < 0.2:
        begin = local.year + rng.randint(-1, 1)
        interval["years"] = [f"{begin}:{begin + rng.randint(0, 1)}"]
    return interval


@pytest.mark.timeout(180)
def test_time_intervals_are_evaluated_as_a_real_alertmanager_mutes(alertmanager_bin) -> None:
    """The muted/active evaluation (template/amtime) against a real Alertmanager's deliveries:
    500 generated intervals (times, weekdays, days of month, months, years, time zones), one
    route each, muting or activating it, one alert each, all posted at once; what reaches the
    webhook sink must be exactly what the evaluation says is not muted now. Cases whose verdict
    changes within the next minute are left out (Alertmanager decides when it notifies). An
    evaluation that ignores time zones disagrees with the same deliveries."""
    import datetime
    import random
    import time

    from promcontract.runners.servers import Alertmanager
    from promcontract.template import amtime

    now = datetime.datetime.now(datetime.timezone.utc)
    rng = random.Random(now.toordinal())
    cases = []
    while len(cases) < 500:
        entries = [_random_interval(rng, now) for _ in range(rng.randint(1, 2))]
        how = rng.choice(["mute_time_intervals", "active_time_intervals"])
        route = {how: [f"t{len(cases)}"]}
        named = {f"t{len(cases)}": entries}
        verdicts = {bool(amtime.quiet(route, named, now + datetime.timedelta(seconds=s)))
                    for s in range(-5, 61, 5)}
        if len(verdicts) == 1:
            cases.append((entries, how, verdicts.pop()))
    config = {
        "route": {"receiver": "sink", "group_by": ["case"], "group_wait": "0s",
                  "group_interval": "1h", "repeat_interval": "4h",
                  "routes": [{"matchers": [f'case="{i}"'], "receiver": "sink", how: [f"t{i}"]}
                             for i, (_, how, _) in enumerate(cases)]},
        "receivers": [{"name": "sink", "webhook_configs": [
            {"url": "SINK/", "send_resolved": False}]}],
        "time_intervals": [{"name": f"t{i}", "time_intervals": entries}
                           for i, (entries, _, _) in enumerate(cases)],
    }
    import yaml

    expected = {str(i) for i, (_, _, quiet) in enumerate(cases) if not quiet}
    assert 50 <= len(expected) <= 450, len(expected)  # both outcomes well represented
    with _Sink() as sink, Alertmanager(yaml.safe_dump(config).replace("SINK", sink.url),
                                       binary=alertmanager_bin) as am:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        am.api("POST", "alerts", [{"labels": {"alertname": "T", "case": str(i)},
                                   "startsAt": stamp} for i in range(len(cases))])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if expected <= {labels["case"] for _, _, labels in sink.alerts()}:
                break
            time.sleep(0.2)
        time.sleep(2)  # anything muted that would still arrive
        delivered = {labels["case"] for _, _, labels in sink.alerts()}
    assert delivered == expected, (sorted(delivered - expected), sorted(expected - delivered))

    # the check fails on the defect it is for: time zones ignored
    def no_zone(interval, moment):  # noqa: ANN001, ANN202
        return original({k: v for k, v in interval.items() if k != "location"}, moment)

    original = amtime.contains
    try:
        amtime.contains = no_zone
        wrong = {str(i) for i, (entries, how, _) in enumerate(cases)
                 if not amtime.quiet({how: ["t"]}, {"t": entries}, now)}
    finally:
        amtime.contains = original
    assert wrong != delivered


def test_muted_at_a_time_is_checked_per_route(cli, tmp_path, amtool_bin,
                                              alertmanager_bin) -> None:
    """A route muted at night and a route active in office hours: the tests say which alert is
    quiet when, and a wrong expectation fails in one line naming the routes."""
    (tmp_path / "am.yml").write_text("""\
route:
  receiver: default
  routes:
    - matchers: [team="infra"]
      receiver: infra
      mute_time_intervals: [nights]
      continue: true
    - matchers: [severity="critical"]
      receiver: pager
      active_time_intervals: [office]
receivers: [{name: default}, {name: infra}, {name: pager}]
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}, {start_time: "00:00", end_time: "07:00"}]
        location: Europe/Berlin
  - name: office
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "17:00"}]
""")
    tests = """\
tests:
  - name: infra is quiet at 03:30 in Berlin
    alert: {alertname: A, team: infra}
    at: 2026-12-05T02:30:00Z
    muted: true
  - name: infra is heard at noon
    alert: {alertname: A, team: infra}
    at: "2026-12-05T12:00:00+01:00"
    muted: false
  - name: a critical infra alert on a Saturday night reaches nobody
    alert: {alertname: A, team: infra, severity: critical}
    at: 2026-12-05T02:30:00Z
    muted: true
"""
    (tmp_path / "t.routes.yml").write_text(tests)
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(tmp_path / "t.routes.yml"))
    assert result.code == 0, result.out + result.err
    (tmp_path / "t.routes.yml").write_text(tests + """\
  - name: on a Monday morning it is not
    alert: {alertname: A, team: infra, severity: critical}
    at: 2026-12-07T10:00:00Z
    muted: true
""")
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(tmp_path / "t.routes.yml"))
    assert result.code == 1, result.out
    assert "on a Monday morning it is not: muted at 2026-12-07T10:00:00Z: expected yes, got " \
           "no (not muted: route.routes[0], route.routes[1])" in result.out
    (tmp_path / "t.routes.yml").write_text(tests.replace("    muted: false\n",
                                                                  "    receivers: [infra]\n"))
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(tmp_path / "t.routes.yml"))
    assert result.code == 2 and "at and muted go together" in result.err, result.err


def test_a_test_can_take_the_alerts_a_promtool_test_file_expects(cli, tmp_path, amtool_bin,
                                                                 alertmanager_bin) -> None:
    """`exp_alerts_of` routes every label set a promtool test file expects of one alert; a
    name the file does not expect is one located line."""
    shutil.copy(ROOT / "rules" / "generated" / "drift.test.yml", tmp_path)
    (tmp_path / "am.yml").write_text(CONFIG)
    routes_file = tmp_path / "x.routes.yml"
    routes_file.write_text("""\
tests:
  - name: the heartbeat alert goes to the default receiver
    exp_alerts_of: {file: drift.test.yml, alertname: DriftDetectionStale}
    receivers: [default]
""")
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(routes_file))
    assert result.code == 0, result.out + result.err
    assert "(absent=true, job=drift-detection, severity=warning): ok" in result.out
    assert "routes: 2/2 tests pass" in result.out
    routes_file.write_text(routes_file.read_text().replace("receivers: [default]",
                                                           "receivers: [pager]"))
    assert cli("routes", "--config", str(tmp_path / "am.yml"), str(routes_file)).code == 1
    routes_file.write_text(routes_file.read_text().replace("DriftDetectionStale", "Nope"))
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(routes_file))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert re.search(r"x\.routes\.yml:3:\d+: exp_alerts_of: .*drift\.test\.yml expects no "
                     r"alert named Nope", result.err), result.err
    routes_file.write_text("tests:\n  - name: both\n    alert: {a: b}\n"
                           "    exp_alerts_of: {file: drift.test.yml, alertname: X}\n"
                           "    inhibited: false\n")
    result = cli("routes", "--config", str(tmp_path / "am.yml"), str(routes_file))
    assert result.code == 2 and "give alert (its labels) or exp_alerts_of" in result.err
