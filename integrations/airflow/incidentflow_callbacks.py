"""Airflow callbacks that report to incidentflow (Airflow 2.x and 3.x, Python 3.8+, standard library only).

Attach them to DAGs (see README.md next to this file):

    from incidentflow_callbacks import on_failure_callback, on_success_callback, sla_miss_callback

    DAG("customer_etl", default_args={"on_failure_callback": on_failure_callback}, ...)

Every function here is safe to call from Airflow: it never raises. Problems are logged on the
``incidentflow`` logger and the callback returns ``None``. Requests use a short timeout and retry with
exponential backoff on 5xx answers and connection errors only (a 4xx is a permanent problem: bad token,
bad payload).

Environment:
    INCIDENTFLOW_URL               base URL of the incidentflow API, e.g. http://incidentflow:8080 (required)
    INCIDENTFLOW_INGEST_TOKEN      bearer token (the API's INCIDENTFLOW_INGEST_TOKEN), if it requires one
    INCIDENTFLOW_TIMEOUT_SECONDS   per-request timeout (default 5)
    INCIDENTFLOW_RETRIES           retries after the first attempt (default 3)
    INCIDENTFLOW_BACKOFF_SECONDS   first retry delay, doubled each retry, capped at 10 s (default 0.5)
    INCIDENTFLOW_CHECKS_ON_SUCCESS comma-separated data-quality check sets on_success_callback runs
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

log = logging.getLogger("incidentflow")

ALERT_PATH = "/api/v1/alerts"
CHECK_RUN_PATH = "/api/v1/checks/{name}/run"
MAX_EXCEPTION_CHARS = 500
MAX_SUMMARY_CHARS = 1024
MAX_DESCRIPTION_CHARS = 8192
MAX_BACKOFF_SECONDS = 10.0

__all__ = [
    "on_failure_callback",
    "on_success_callback",
    "sla_miss_callback",
    "dag_deadline_missed",
    "dag_deadline_missed_async",
    "trigger_checks_on_success",
    "post_alert",
    "run_check",
    "failure_alert",
]


# --------------------------------------------------------------------------------------------------------
# HTTP


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        log.warning("incidentflow: %s is not a number; using %s", name, default)
        return default


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        log.warning("incidentflow: %s is not an integer; using %s", name, default)
        return default


def _safe_base(url: str) -> str:
    """The URL without credentials, for log messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _post_json(path: str, body: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep) -> Optional[Dict[str, Any]]:
    """POSTs JSON to incidentflow. Returns the decoded answer on 2xx, else None. Never raises."""
    base = os.environ.get("INCIDENTFLOW_URL", "").strip().rstrip("/")
    if not base:
        log.warning("incidentflow: INCIDENTFLOW_URL is not set; not reporting %s", path)
        return None
    url = base + path
    token = os.environ.get("INCIDENTFLOW_INGEST_TOKEN", "").strip()
    timeout = _env_float("INCIDENTFLOW_TIMEOUT_SECONDS", 5.0)
    retries = _env_int("INCIDENTFLOW_RETRIES", 3)
    backoff = _env_float("INCIDENTFLOW_BACKOFF_SECONDS", 0.5)
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "incidentflow-airflow-callbacks/1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    for attempt in range(retries + 1):
        problem: str
        try:
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode("utf-8", errors="replace")
                try:
                    return json.loads(text) if text else {}
                except ValueError:
                    return {}
        except urllib.error.HTTPError as err:
            detail = _error_message(err)
            if err.code < 500:
                log.error(
                    "incidentflow: %s answered %s (%s); not retrying%s",
                    _safe_base(url),
                    err.code,
                    detail,
                    " (check INCIDENTFLOW_INGEST_TOKEN)" if err.code == 401 else "",
                )
                return None
            problem = f"HTTP {err.code} ({detail})"
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            problem = f"{type(reason).__name__}: {reason}"
        except Exception as err:  # noqa: BLE001 - a callback must never break the task
            log.error("incidentflow: unexpected error posting to %s: %r", _safe_base(url), err)
            return None
        if attempt == retries:
            log.error("incidentflow: giving up on %s after %d attempts: %s", _safe_base(url), attempt + 1, problem)
            return None
        delay = min(MAX_BACKOFF_SECONDS, backoff * (2**attempt)) * random.uniform(0.8, 1.2)
        log.warning(
            "incidentflow: %s failed (%s); retry %d/%d in %.1fs", _safe_base(url), problem, attempt + 1, retries, delay
        )
        sleep(delay)
    return None


def _error_message(err: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(err.read().decode("utf-8", errors="replace"))
        return str(payload.get("message") or payload.get("error") or payload)[:300]
    except Exception:  # noqa: BLE001
        return err.reason if isinstance(err.reason, str) else "no message"


def post_alert(alert: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Sends one generic alert to ``POST /api/v1/alerts``. Returns incidentflow's answer or None. Never raises."""
    try:
        return _post_json(ALERT_PATH, alert)
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: could not send alert: %r", err)
        return None


def run_check(name: str, trigger: Optional[Mapping[str, str]] = None) -> Optional[Dict[str, Any]]:
    """Asks incidentflow to run data-quality check set ``name`` now (``POST /api/v1/checks/{name}/run``)."""
    try:
        path = CHECK_RUN_PATH.format(name=urllib.parse.quote(name, safe=""))
        return _post_json(path, {"source": "airflow", **(trigger or {})})
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: could not trigger check set %s: %r", name, err)
        return None


# --------------------------------------------------------------------------------------------------------
# Reading Airflow contexts (2.x and 3.x objects, or plain dicts in tests)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    try:
        return getattr(obj, name, default)
    except Exception:  # noqa: BLE001 - some Airflow properties hit the database
        return default


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _fingerprint(prefix: str, *parts: Optional[str]) -> str:
    digest = hashlib.sha256("|".join(p or "" for p in parts).encode("utf-8")).hexdigest()[:16]
    return f"{prefix}-{digest}"


def _task_identity(context: Mapping[str, Any]) -> Dict[str, Optional[str]]:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    task = context.get("task")
    dag_id = _text(_get(ti, "dag_id")) or _text(_get(dag, "dag_id")) or _text(_get(dag_run, "dag_id"))
    task_id = _text(_get(ti, "task_id")) or _text(_get(task, "task_id"))
    run_id = _text(_get(ti, "run_id")) or _text(context.get("run_id")) or _text(_get(dag_run, "run_id"))
    map_index = _get(ti, "map_index")
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": _text(_get(ti, "try_number")),
        "map_index": str(map_index) if isinstance(map_index, int) and map_index >= 0 else None,
        "log_url": _text(_get(ti, "log_url")),
        "operator": _text(_get(ti, "operator")) or _text(type(task).__name__ if task is not None else None),
    }


def _params(context: Mapping[str, Any]) -> Mapping[str, Any]:
    params = context.get("params")
    return params if isinstance(params, Mapping) else {}


def _http_url(value: Optional[str]) -> Optional[str]:
    return value if value and value.startswith(("http://", "https://")) else None


def failure_alert(context: Mapping[str, Any]) -> Dict[str, Any]:
    """The generic alert ``on_failure_callback`` sends for a failed task instance (or DAG run)."""
    ident = _task_identity(context)
    dag_id = ident["dag_id"] or "unknown"
    task_id = ident["task_id"]
    labels = {
        k: v
        for k, v in {
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": ident["run_id"],
            "try_number": ident["try_number"],
            "map_index": ident["map_index"],
            "operator": ident["operator"],
        }.items()
        if v
    }
    exception = context.get("exception") or context.get("reason")
    error = _truncate(f"{type(exception).__name__}: {exception}" if isinstance(exception, BaseException) else str(exception or ""), MAX_EXCEPTION_CHARS)
    what = f"{dag_id}.{task_id}" if task_id else f"DAG {dag_id}"
    try_text = f" (try {ident['try_number']})" if ident["try_number"] else ""
    summary = _truncate(f"{what} failed{try_text}" + (f": {error}" if error else ""), MAX_SUMMARY_CHARS)
    annotations = {k: v for k, v in {"log_url": ident["log_url"], "exception": error or None}.items() if v}
    alert: Dict[str, Any] = {
        "name": "AirflowTaskFailed",
        "source": "airflow",
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "summary": summary,
        "description": _truncate(
            f"Airflow reported {what} as failed in run {ident['run_id'] or 'unknown'}{try_text}.\n{error}".strip(),
            MAX_DESCRIPTION_CHARS,
        ),
        # One identity per task and run, so a later success of the same run resolves this alert.
        "fingerprint": _fingerprint("af", dag_id, task_id, ident["run_id"], ident["map_index"]),
        "starts_at": _now(),
    }
    severity = _text(_params(context).get("incidentflow_severity"))
    if severity:
        alert["severity"] = severity
    url = _http_url(ident["log_url"])
    if url:
        alert["url"] = url
    return alert


# --------------------------------------------------------------------------------------------------------
# Callbacks


def on_failure_callback(context: Mapping[str, Any]) -> None:
    """Task or DAG ``on_failure_callback``: opens (or joins) the incident for this DAG and task."""
    try:
        answer = post_alert(failure_alert(context))
        if answer is not None:
            log.info("incidentflow: reported failure: %s", json.dumps(answer)[:500])
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: on_failure_callback failed: %r", err)


def on_success_callback(context: Mapping[str, Any]) -> None:
    """Task ``on_success_callback``.

    - When an earlier try of this task instance failed (try_number > 1), resolves the failure alert it
      reported, so incidentflow can close the incident once every alert is resolved.
    - Runs the data-quality check sets named in the task's ``params["incidentflow_checks"]`` (a name or a
      list) or in ``INCIDENTFLOW_CHECKS_ON_SUCCESS``: workflow success is not data quality.
    """
    try:
        ident = _task_identity(context)
        try_number = ident["try_number"]
        if try_number and try_number.isdigit() and int(try_number) > 1:
            alert = failure_alert(context)
            alert.update(status="resolved", ends_at=_now(), summary=f"{ident['dag_id']}.{ident['task_id']} succeeded on try {try_number}")
            alert.pop("starts_at", None)
            post_alert(alert)
        for name in _checks_for(context):
            run_check(name, _trigger(ident))
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: on_success_callback failed: %r", err)


def trigger_checks_on_success(*names: str) -> Callable[[Mapping[str, Any]], None]:
    """An ``on_success_callback`` that runs the given data-quality check sets (after the default behaviour)."""

    def callback(context: Mapping[str, Any]) -> None:
        on_success_callback(context)
        try:
            ident = _task_identity(context)
            for name in names:
                run_check(name, _trigger(ident))
        except Exception as err:  # noqa: BLE001
            log.error("incidentflow: trigger_checks_on_success failed: %r", err)

    return callback


def _checks_for(context: Mapping[str, Any]) -> List[str]:
    configured = _params(context).get("incidentflow_checks")
    if configured is None:
        configured = os.environ.get("INCIDENTFLOW_CHECKS_ON_SUCCESS", "")
    if isinstance(configured, str):
        items: Iterable[Any] = configured.split(",")
    elif isinstance(configured, Iterable):
        items = configured
    else:
        items = []
    return [str(i).strip() for i in items if str(i).strip()]


def _trigger(ident: Mapping[str, Optional[str]]) -> Dict[str, str]:
    return {k: v for k, v in {"dag_id": ident["dag_id"], "task_id": ident["task_id"], "run_id": ident["run_id"]}.items() if v}


def sla_miss_callback(dag: Any, task_list: Any, blocking_task_list: Any, slas: Any, blocking_tis: Any) -> None:
    """Airflow 2.x DAG ``sla_miss_callback``: opens the P1 SLA incident of the DAG (alert ``AirflowSlaMiss``).

    Airflow 3 removed SLAs: use :func:`dag_deadline_missed_async` with a Deadline Alert instead.
    """
    try:
        dag_id = _text(_get(dag, "dag_id")) or "unknown"
        misses = []
        for sla in slas or []:
            when = _get(sla, "execution_date") or _get(sla, "logical_date")
            misses.append(f"{_get(sla, 'task_id')}@{when}")
        tasks = ", ".join(sorted({str(_get(s, "task_id")) for s in slas or []})) or _text(task_list) or "unknown"
        blocking = _text(blocking_task_list)
        alert = {
            "name": "AirflowSlaMiss",
            "source": "airflow",
            "status": "firing",
            "severity": "P1",
            "labels": {"dag_id": dag_id},
            "annotations": {k: v for k, v in {"tasks": _truncate(tasks, 1000), "blocking_tasks": _truncate(blocking or "", 1000)}.items() if v},
            "summary": _truncate(f"DAG {dag_id} missed its SLA: {tasks}", MAX_SUMMARY_CHARS),
            "description": _truncate(
                f"Airflow reported SLA misses for {dag_id}.\nTasks:\n{_text(task_list) or tasks}"
                + (f"\nBlocking tasks:\n{blocking}" if blocking else ""),
                MAX_DESCRIPTION_CHARS,
            ),
            "fingerprint": _fingerprint("sla", dag_id, *sorted(misses)),
            "starts_at": _now(),
        }
        post_alert(alert)
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: sla_miss_callback failed: %r", err)


def dag_deadline_missed(context: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
    """A DAG run is late (Airflow 3.1+ Deadline Alert, or any scheduler of your own): alert
    ``AirflowDagDeadlineMissed``, routed like an SLA miss (P1, dedup ``sla/<dag_id>``).

    Reads ``dag_run`` and ``deadline`` from the callback context when Airflow passes one; keyword
    arguments ``dag_id``, ``run_id`` and ``deadline_time`` fill in or override.
    """
    try:
        context = context or {}
        dag_run = context.get("dag_run")
        deadline = context.get("deadline")
        dag_id = _text(kwargs.get("dag_id")) or _text(_get(dag_run, "dag_id")) or "unknown"
        run_id = _text(kwargs.get("run_id")) or _text(_get(dag_run, "run_id"))
        deadline_time = _text(kwargs.get("deadline_time")) or _text(_get(deadline, "deadline_time"))
        labels = {k: v for k, v in {"dag_id": dag_id, "run_id": run_id}.items() if v}
        alert = {
            "name": "AirflowDagDeadlineMissed",
            "source": "airflow",
            "status": "firing",
            "severity": "P1",
            "labels": labels,
            "annotations": {"deadline_time": deadline_time} if deadline_time else {},
            "summary": _truncate(
                f"DAG {dag_id} run {run_id or ''} missed its deadline" + (f" ({deadline_time})" if deadline_time else ""),
                MAX_SUMMARY_CHARS,
            ).replace("  ", " "),
            "fingerprint": _fingerprint("dl", dag_id, run_id),
            "starts_at": _now(),
        }
        post_alert(alert)
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: dag_deadline_missed failed: %r", err)


async def dag_deadline_missed_async(context: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
    """Async form of :func:`dag_deadline_missed` for ``AsyncCallback`` (run by the Triggerer)."""
    try:
        await asyncio.get_running_loop().run_in_executor(None, lambda: dag_deadline_missed(context, **kwargs))
    except Exception as err:  # noqa: BLE001
        log.error("incidentflow: dag_deadline_missed_async failed: %r", err)
