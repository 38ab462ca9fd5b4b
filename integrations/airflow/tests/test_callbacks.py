"""Unit tests of incidentflow_callbacks (stdlib unittest). The jest test test/integration/airflow-callback.test.ts
runs them (python3 -m unittest discover -s integrations/airflow/tests) and also drives the callbacks against
the real API."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import incidentflow_callbacks as cb  # noqa: E402
from fake_airflow import FakeDag, FakeDagRun, sla_miss, task_context  # noqa: E402


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EnvTestCase(unittest.TestCase):
    def setUp(self) -> None:
        patcher = mock.patch.dict(
            os.environ,
            {
                "INCIDENTFLOW_URL": f"http://127.0.0.1:{closed_port()}",
                "INCIDENTFLOW_INGEST_TOKEN": "secret-token",
                "INCIDENTFLOW_TIMEOUT_SECONDS": "1",
                "INCIDENTFLOW_RETRIES": "2",
                "INCIDENTFLOW_BACKOFF_SECONDS": "0.01",
            },
        )
        patcher.start()
        self.addCleanup(patcher.stop)


class NeverRaisesTest(EnvTestCase):
    def test_failure_callback_returns_none_and_logs_when_the_api_is_down(self) -> None:
        started = time.monotonic()
        with self.assertLogs("incidentflow", level="WARNING") as logs:
            result = cb.on_failure_callback(task_context("customer_etl", "transform", exception=ValueError("x")))
        self.assertIsNone(result)
        self.assertLess(time.monotonic() - started, 5)
        retries = [r for r in logs.output if "retry" in r]
        self.assertEqual(len(retries), 2)
        self.assertIn("giving up", logs.output[-1])
        self.assertIn("after 3 attempts", logs.output[-1])
        self.assertFalse(any("secret-token" in line for line in logs.output))

    def test_every_callback_survives_an_empty_context(self) -> None:
        with self.assertLogs("incidentflow", level="ERROR"):
            cb.on_failure_callback({})
            cb.on_success_callback({"params": {"incidentflow_checks": "customers"}})
            cb.sla_miss_callback(None, None, None, None, None)
            cb.dag_deadline_missed(None)
            asyncio.run(cb.dag_deadline_missed_async(None))

    def test_callbacks_skip_reporting_without_incidentflow_url(self) -> None:
        with mock.patch.dict(os.environ, {"INCIDENTFLOW_URL": ""}):
            with mock.patch("urllib.request.urlopen") as urlopen:
                with self.assertLogs("incidentflow", level="WARNING") as logs:
                    cb.on_failure_callback(task_context("customer_etl", "transform"))
        urlopen.assert_not_called()
        self.assertIn("INCIDENTFLOW_URL is not set", logs.output[0])

    def test_a_bad_retries_setting_falls_back_to_the_default(self) -> None:
        with mock.patch.dict(os.environ, {"INCIDENTFLOW_RETRIES": "many", "INCIDENTFLOW_BACKOFF_SECONDS": "0"}):
            with self.assertLogs("incidentflow", level="WARNING") as logs:
                cb.on_failure_callback(task_context("customer_etl", "transform"))
        self.assertIn("INCIDENTFLOW_RETRIES is not an integer", logs.output[0])
        self.assertIn("after 4 attempts", logs.output[-1])


class FailureAlertTest(unittest.TestCase):
    def test_carries_the_task_identity_as_labels(self) -> None:
        alert = cb.failure_alert(
            task_context("customer_etl", "transform", "manual__1", try_number=2, exception=RuntimeError("db down"))
        )
        self.assertEqual(alert["name"], "AirflowTaskFailed")
        self.assertEqual(alert["source"], "airflow")
        self.assertEqual(alert["status"], "firing")
        self.assertEqual(
            alert["labels"],
            {
                "dag_id": "customer_etl",
                "task_id": "transform",
                "run_id": "manual__1",
                "try_number": "2",
                "operator": "PythonOperator",
            },
        )
        self.assertEqual(alert["summary"], "customer_etl.transform failed (try 2): RuntimeError: db down")
        self.assertTrue(alert["annotations"]["log_url"].startswith("http://airflow.example:8080/dags/customer_etl"))
        self.assertEqual(alert["url"], alert["annotations"]["log_url"])
        self.assertNotIn("severity", alert)

    def test_truncates_long_exception_text(self) -> None:
        alert = cb.failure_alert(task_context("d", "t", exception=RuntimeError("x" * 5000)))
        self.assertEqual(len(alert["annotations"]["exception"]), cb.MAX_EXCEPTION_CHARS)
        self.assertTrue(alert["annotations"]["exception"].endswith("…"))
        self.assertLessEqual(len(alert["summary"]), cb.MAX_SUMMARY_CHARS)

    def test_keeps_one_fingerprint_per_task_and_run_across_tries(self) -> None:
        first = cb.failure_alert(task_context("d", "t", "run1", try_number=1))
        second = cb.failure_alert(task_context("d", "t", "run1", try_number=3))
        other_run = cb.failure_alert(task_context("d", "t", "run2", try_number=1))
        self.assertEqual(first["fingerprint"], second["fingerprint"])
        self.assertNotEqual(first["fingerprint"], other_run["fingerprint"])
        self.assertRegex(first["fingerprint"], r"^[A-Za-z0-9_.:-]{1,64}$")

    def test_takes_severity_from_task_params(self) -> None:
        alert = cb.failure_alert(task_context("d", "t", params={"incidentflow_severity": "P1"}))
        self.assertEqual(alert["severity"], "P1")


class SuccessCallbackTest(EnvTestCase):
    def test_resolves_the_failure_alert_when_a_retry_succeeds(self) -> None:
        with mock.patch.object(cb, "post_alert") as post:
            cb.on_success_callback(task_context("d", "t", "run1", try_number=2))
        sent = post.call_args.args[0]
        self.assertEqual(sent["status"], "resolved")
        self.assertEqual(sent["fingerprint"], cb.failure_alert(task_context("d", "t", "run1"))["fingerprint"])

    def test_sends_nothing_for_a_first_try_success_without_checks(self) -> None:
        with mock.patch.object(cb, "post_alert") as post, mock.patch.object(cb, "run_check") as run:
            cb.on_success_callback(task_context("d", "t", try_number=1))
        post.assert_not_called()
        run.assert_not_called()

    def test_runs_the_check_sets_named_in_params_or_environment(self) -> None:
        with mock.patch.object(cb, "run_check") as run:
            cb.on_success_callback(task_context("d", "t", "r", params={"incidentflow_checks": ["customers", "orders"]}))
        self.assertEqual([c.args[0] for c in run.call_args_list], ["customers", "orders"])
        self.assertEqual(run.call_args.args[1], {"dag_id": "d", "task_id": "t", "run_id": "r"})
        with mock.patch.dict(os.environ, {"INCIDENTFLOW_CHECKS_ON_SUCCESS": "events, sessions"}):
            with mock.patch.object(cb, "run_check") as run:
                cb.on_success_callback(task_context("d", "t"))
        self.assertEqual([c.args[0] for c in run.call_args_list], ["events", "sessions"])

    def test_trigger_checks_on_success_runs_the_given_check_sets(self) -> None:
        with mock.patch.object(cb, "run_check") as run:
            cb.trigger_checks_on_success("customers")(task_context("d", "t"))
        self.assertEqual([c.args[0] for c in run.call_args_list], ["customers"])

    def test_run_check_url_encodes_the_name(self) -> None:
        with mock.patch.object(cb, "_post_json") as post:
            cb.run_check("team/customers", {"dag_id": "d"})
        self.assertEqual(post.call_args.args, ("/api/v1/checks/team%2Fcustomers/run", {"source": "airflow", "dag_id": "d"}))


class LateDagTest(EnvTestCase):
    def test_sla_miss_callback_sends_a_p1_sla_alert_for_the_dag(self) -> None:
        with mock.patch.object(cb, "post_alert") as post:
            cb.sla_miss_callback(
                FakeDag("customer_etl"),
                "load on 2026-11-25T09:00:00+00:00",
                "",
                [sla_miss("customer_etl", "load"), sla_miss("customer_etl", "extract")],
                [],
            )
        sent = post.call_args.args[0]
        self.assertEqual((sent["name"], sent["severity"], sent["labels"]), ("AirflowSlaMiss", "P1", {"dag_id": "customer_etl"}))
        self.assertEqual(sent["summary"], "DAG customer_etl missed its SLA: extract, load")

    def test_deadline_callback_reads_the_dag_run_from_the_context(self) -> None:
        with mock.patch.object(cb, "post_alert") as post:
            asyncio.run(
                cb.dag_deadline_missed_async(
                    {"dag_run": FakeDagRun("customer_etl", "scheduled__1"), "deadline": {"deadline_time": "11:00"}}
                )
            )
        sent = post.call_args.args[0]
        self.assertEqual(sent["name"], "AirflowDagDeadlineMissed")
        self.assertEqual(sent["labels"], {"dag_id": "customer_etl", "run_id": "scheduled__1"})
        self.assertEqual(sent["summary"], "DAG customer_etl run scheduled__1 missed its deadline (11:00)")


if __name__ == "__main__":
    unittest.main()
