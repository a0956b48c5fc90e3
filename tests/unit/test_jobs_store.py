"""Job views never show a card number from a crashed job's exception text."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from robot.jobs.store import view


class _NoEvents:
    """Stands in for DBOSClient (the library), with no events and no steps."""

    def get_event(self, *_a: Any, **_k: Any) -> None:
        return None

    def list_workflow_steps(self, _wf: str) -> list[Any]:
        return []

    def list_workflows(self, **_k: Any) -> list[Any]:
        return []


def test_a_failed_jobs_error_text_is_masked() -> None:
    st = SimpleNamespace(workflow_id="job-1", status="ERROR", attributes={"merchant": "acme", "kind": "charge"},
                         input=None, output=None, error=RuntimeError("page said: card 4111 1111 1111 1111 refused"),
                         created_at=None, updated_at=None, executor_id="w1")
    v = view(_NoEvents(), st)
    assert v.status == "failed" and v.error is not None and v.error.startswith("RuntimeError: page said")
    assert "4111 1111 1111 1111" not in v.error and "[CARD]" in v.error


def test_retry_of_a_job_whose_workflow_raised_is_refused_not_silently_ignored() -> None:
    """DBOS's resume leaves an ERROR workflow as it is: `jobs retry` must say so, not print the id."""
    import pytest

    from robot.errors import RobotError
    from robot.jobs.queue import WORKFLOW
    from robot.jobs.steering import retry

    st = SimpleNamespace(workflow_id="job-2", name=WORKFLOW, status="ERROR", attributes={"merchant": "acme",
                         "kind": "charge"}, input=None, output=None, error=RuntimeError("boom"),
                         created_at=None, updated_at=None, executor_id="w1")
    resumed: list[str] = []

    class Client(_NoEvents):
        def list_workflows(self, **_k: Any) -> list[Any]:
            return [st]

        def resume_workflow(self, wf: str, **_k: Any) -> None:
            resumed.append(wf)

    with pytest.raises(RobotError, match="cannot be resumed.*job-2:gateway"):
        retry(Client(), "job-2")
    assert resumed == []
