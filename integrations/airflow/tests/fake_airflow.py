"""Airflow-shaped stand-ins for callback contexts: the attributes incidentflow_callbacks reads from a
TaskInstance, DAG, DagRun and SlaMiss, without installing Airflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Optional


@dataclass
class FakeTaskInstance:
    dag_id: str
    task_id: str
    run_id: str
    try_number: int = 1
    map_index: int = -1
    operator: str = "PythonOperator"
    log_url: Optional[str] = None


@dataclass
class FakeDag:
    dag_id: str


@dataclass
class FakeDagRun:
    dag_id: str
    run_id: str


@dataclass
class FakeSlaMiss:
    task_id: str
    dag_id: str
    execution_date: datetime


def task_context(
    dag_id: str,
    task_id: str,
    run_id: str = "scheduled__2026-11-25T09:00:00+00:00",
    try_number: int = 1,
    exception: Optional[BaseException] = None,
    params: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The parts of an Airflow task callback context the callbacks use."""
    ti = FakeTaskInstance(
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        try_number=try_number,
        log_url=f"http://airflow.example:8080/dags/{dag_id}/grid?task_id={task_id}&tab=logs",
    )
    return {
        "ti": ti,
        "task_instance": ti,
        "dag": FakeDag(dag_id),
        "dag_run": FakeDagRun(dag_id, run_id),
        "run_id": run_id,
        "exception": exception,
        "params": params or {},
    }


def sla_miss(dag_id: str, task_id: str) -> FakeSlaMiss:
    return FakeSlaMiss(task_id=task_id, dag_id=dag_id, execution_date=datetime(2026, 11, 25, 9, tzinfo=timezone.utc))
