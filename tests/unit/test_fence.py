"""The queue's fence decides from DBOS's row alone whether this execution still owns its job."""

from __future__ import annotations

import pytest

from flows.runtime import no_fence
from robot.errors import JobFenced, RobotError
from robot.jobs.fence import Ownership, WorkflowFence

MINE = WorkflowFence(job_id="job-1", executor_id="w1", token="tok-a")


def test_the_owner_passes() -> None:
    MINE.check(Ownership(status="PENDING", executor_id="w1", owner_xid="tok-a"))


@pytest.mark.parametrize(("now", "outcome"), [
    (Ownership(status="CANCELLED", executor_id="w1", owner_xid=None), "cancelled"),
    (Ownership(status="ENQUEUED", executor_id="w1", owner_xid=None), "superseded"),       # retried, not yet taken
    (Ownership(status="PENDING", executor_id="w2", owner_xid="tok-b"), "superseded"),     # another worker has it
    (Ownership(status="PENDING", executor_id="w1", owner_xid="tok-b"), "superseded"),     # a newer run, same id
    (Ownership(status="SUCCESS", executor_id="w2", owner_xid=None), "superseded"),        # finished by another
    (Ownership(), "superseded"),                                                          # gone
])
def test_a_run_that_lost_its_job_is_fenced(now: Ownership, outcome: str) -> None:
    with pytest.raises(JobFenced) as info:
        MINE.check(now)
    assert info.value.outcome == outcome and info.value.code == "job_fenced"
    assert isinstance(info.value, RobotError)
    assert "job-1" in info.value.message


async def test_direct_runs_have_a_no_op_fence() -> None:
    assert await no_fence() is None
