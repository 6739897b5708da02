#!/usr/bin/env python3
"""Seeds a TestMesh database and Redis with the scenario of dashboard/e2e/fixtures, so that the
dashboard's end-to-end test can run against the real `testmesh api`.

The fixtures were written as if "now" were 2026-01-15T09:00:00Z; every time is moved by the
same amount so that instant becomes the real now (as the fixture server does).

  e2e_seed.py sql FIXTURES_DIR          prints SQL (runs, steps, metrics rows) for psql
  e2e_seed.py redis FIXTURES_DIR URL    publishes the live events of the running run

Only the Python standard library; Redis is written with redis-cli.
"""

import datetime as dt
import json
import pathlib
import re
import subprocess
import sys

FIXTURE_NOW = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.timezone.utc)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ACTIVE = {"queued", "running"}


def shift(value, offset):
    if isinstance(value, str) and ISO.match(value):
        moved = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) + offset
        return moved.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return [shift(item, offset) for item in value]
    if isinstance(value, dict):
        return {key: shift(item, offset) for key, item in value.items()}
    return value


def load(folder, name, offset):
    return shift(json.loads((folder / f"{name}.json").read_text()), offset)


def literal(value):
    """A SQL literal: NULL, a number, or a quoted string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def jsonb(value):
    return "NULL" if value is None else literal(json.dumps(value)) + "::jsonb"


def spec_of(flow, folder, offset):
    """The checkout flow's full spec from its fixture; a one-step spec for the others."""
    detail = folder / f"flow-{flow['namespace']}-{flow['name']}.json"
    if detail.exists():
        return load(folder, f"flow-{flow['namespace']}-{flow['name']}", offset)["spec"]
    return {
        "name": flow["displayName"],
        "tags": flow["tags"],
        "steps": [{"id": "call", "name": flow["displayName"], "action": "http_request"}],
    }


def sql(folder, offset):
    flows = {(f["namespace"], f["name"]): f for f in load(folder, "flows", offset)["items"]}
    schedules = {(s["namespace"], s["flow"]): s for s in load(folder, "schedules", offset)["items"]}
    runs = load(folder, "executions", offset)["items"]
    out = ["BEGIN;"]
    for run in runs:
        key = (run["namespace"], run["flowName"])
        flow = flows.get(key, {"namespace": key[0], "name": key[1], "displayName": key[1], "tags": []})
        schedule = schedules.get(key)
        detail = {"kind": run["trigger"]}
        if run["trigger"] == "schedule" and schedule:
            detail["schedule"] = {"namespace": schedule["namespace"], "name": schedule["name"], "uid": "e2e"}
        out.append(
            "INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, environment, "
            "trigger, trigger_detail, status, queued_at, started_at, finished_at, duration_ms, "
            "passed_steps, failed_steps, error, attempt) VALUES ("
            + ", ".join([
                literal(run["runId"]), literal(run["namespace"]), literal(run["flowName"]),
                literal(run["generation"]), jsonb(spec_of(flow, folder, offset)), literal(run["environment"]),
                literal(run["trigger"]), jsonb(detail), literal(run["status"]), literal(run["queuedAt"]),
                literal(run["startedAt"]), literal(run["finishedAt"]), literal(run["durationMs"]),
                literal(run["passedSteps"]), literal(run["failedSteps"]), literal(run["error"]), "1",
            ])
            + ");"
        )
        if run["status"] not in ACTIVE:
            out.append(
                "INSERT INTO metrics.run_metrics (time, namespace, flow_name, environment, status, duration_ms) "
                f"VALUES ({literal(run['startedAt'] or run['queuedAt'])}, {literal(run['namespace'])}, "
                f"{literal(run['flowName'])}, {literal(run['environment'])}, {literal(run['status'])}, "
                f"{literal(run['durationMs'] or 0)});"
            )
    for path in sorted(folder.glob("execution-*.json")):
        run = load(folder, path.stem, offset)
        if run["status"] in ACTIVE:
            continue  # executors store steps when a run finishes; this one's arrive live
        for step in run["steps"]:
            out.append(
                "INSERT INTO executions.steps (run_id, step_index, attempt, step_id, name, action, phase, "
                "status, started_at, duration_ms, assertions, captured, request, response, error) VALUES ("
                + ", ".join([
                    literal(run["runId"]), literal(step["stepIndex"]), literal(step["attempt"]),
                    literal(step["stepId"]), literal(step["name"]), literal(step["action"]),
                    literal(step["phase"]), literal(step["status"]),
                    # A skipped step never started: the store keeps the run's end and 0 ms.
                    literal(step["startedAt"] or run["finishedAt"] or run["queuedAt"]),
                    literal(step["durationMs"] or 0), jsonb(step["assertions"]), jsonb(step["captured"]),
                    jsonb(step["request"]), jsonb(step["response"]), literal(step["error"]),
                ])
                + ");"
            )
    out.append("COMMIT;")
    return "\n".join(out)


def publish(folder, offset, redis_url):
    """The running run's events as an executor writes them: its steps, then `finished`."""
    for path in sorted(folder.glob("execution-*.json")):
        run = load(folder, path.stem, offset)
        if run["status"] not in ACTIVE:
            continue
        stream = f"testmesh:events:{run['runId']}"
        entries = [("started", {"runId": run["runId"]})]
        entries += [("step", step) for step in run["steps"]]
        finished_at = dt.datetime.now(dt.timezone.utc)
        started_at = dt.datetime.fromisoformat((run["startedAt"] or run["queuedAt"]).replace("Z", "+00:00"))
        entries.append(("finished", {
            "runId": run["runId"], "status": "passed",
            "startedAt": run["startedAt"], "finishedAt": finished_at.isoformat().replace("+00:00", "Z"),
            "durationMs": int((finished_at - started_at).total_seconds() * 1000),
            "passedSteps": len(run["steps"]), "failedSteps": 0, "error": None,
        }))
        for event, data in entries:
            subprocess.run(
                ["redis-cli", "-u", redis_url, "XADD", stream, "*", "event", event, "data", json.dumps(data)],
                check=True, stdout=subprocess.DEVNULL,
            )


def main():
    command, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    offset = dt.datetime.now(dt.timezone.utc) - FIXTURE_NOW
    if command == "sql":
        print(sql(folder, offset))
    elif command == "redis":
        publish(folder, offset, sys.argv[3])
    else:
        sys.exit(f"unknown command {command!r}: expected sql or redis")


if __name__ == "__main__":
    main()
