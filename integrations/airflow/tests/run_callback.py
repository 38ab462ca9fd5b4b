"""Driver for the jest integration test: calls one callback of incidentflow_callbacks with a fake Airflow
context, the way Airflow would, against the API named by INCIDENTFLOW_URL.

    python3 run_callback.py failure <dag_id> <task_id> <run_id> <try_number> <exception message>
    python3 run_callback.py success <dag_id> <task_id> <run_id> <try_number>
    python3 run_callback.py sla <dag_id> <task_id>
    python3 run_callback.py deadline <dag_id> <run_id>

Prints one JSON line: {"returned": <callback return value>, "seconds": <elapsed>}. Exit status 0 unless the
callback raised (which it must never do).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import incidentflow_callbacks  # noqa: E402
from fake_airflow import FakeDag, FakeDagRun, sla_miss, task_context  # noqa: E402


def run(kind: str, args: list) -> object:
    if kind == "failure":
        dag_id, task_id, run_id, try_number, message = args
        ctx = task_context(dag_id, task_id, run_id, int(try_number), exception=RuntimeError(message))
        return incidentflow_callbacks.on_failure_callback(ctx)
    if kind == "success":
        dag_id, task_id, run_id, try_number = args
        return incidentflow_callbacks.on_success_callback(task_context(dag_id, task_id, run_id, int(try_number)))
    if kind == "sla":
        dag_id, task_id = args
        misses = [sla_miss(dag_id, task_id)]
        return incidentflow_callbacks.sla_miss_callback(FakeDag(dag_id), f"{task_id} on 2026-11-25", "", misses, [])
    if kind == "deadline":
        dag_id, run_id = args
        context = {"dag_run": FakeDagRun(dag_id, run_id)}
        return asyncio.run(incidentflow_callbacks.dag_deadline_missed_async(context))
    raise SystemExit(f"unknown callback kind {kind}")


def main(argv: list) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    started = time.monotonic()
    returned = run(argv[1], argv[2:])
    print(json.dumps({"returned": returned, "seconds": round(time.monotonic() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
