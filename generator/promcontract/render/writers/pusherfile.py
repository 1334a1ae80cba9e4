"""rules/generated/<contract>.push.py: a pusher generated from the contract, one file, Python
>= 3.8 standard library only, so the job's CI image (Alpine with python3, no pip) runs it as
``python3 -I -S`` with nothing installed. Written for contracts the reference pusher serves
(a state enum with clean/drift/error, counts, a streak start, an age and a heartbeat); the code
is the template's, the data (names, HELP text, roles, states) the contract's."""

from __future__ import annotations

import os
import pprint

from promcontract.payload import pusher
from promcontract.problems import UserError
from promcontract.render import group
from promcontract.runners.http import MAX_BODY_BYTES

NAME = "pusherfile"


def path(contract, dirs) -> str:  # noqa: ANN001
    return os.path.join(dirs.generated, f"{contract.name}.push.py")


def data(contract) -> dict:  # noqa: ANN001

    r = pusher.roles(contract)
    return {
        "name": contract.name,
        "job": contract.job,
        "grouping_key": {k: v for k, v in contract.grouping_key if k != "job"},
        "metrics": [{"name": m.name, "help": m.help, "type": m.type}
                    for m in contract.metrics],
        "roles": {"state": r.state, "item": r.item_label, "states": dict(r.state_values),
                  "counts": sorted(r.counts.items()), "first_seen": r.first_seen,
                  "age": r.age, "age_unit": r.age_unit_s, "heartbeat": r.heartbeat},
    }


def generated(contract, dirs, notes: list[str]) -> tuple[str, str] | None:  # noqa: ANN001

    try:
        values = data(contract)
    except UserError:
        return None  # no push roles: no generated pusher (see the README)

    target = path(contract, dirs)
    text = group.template("push.py.j2").render(
        name=contract.name, source=os.path.basename(contract.source), file=target,
        line_pattern=repr(pusher.LINE_PATTERN), max_bytes=MAX_BODY_BYTES,
        data=pprint.pformat(values, width=92, sort_dicts=False).replace("\n", "\n" + " " * 11))
    return target, text + "\n"
