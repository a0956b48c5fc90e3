"""Steering a job from outside it: cancel and retry, as `jobs cancel` / `jobs retry`, the API and the
dashboard do. Above the job views (robot/jobs/store.py) because a cancellation also wakes a waiting
job (robot/jobs/handoff.py) and publishes the job's final state (robot/webhooks/events.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robot.errors import RobotError
from robot.jobs.handoff import CANCELLED, TOPIC_2FA, TOPIC_CONFIRM, waiting_for
from robot.jobs.links import link
from robot.jobs.queue import QUEUE, enqueue, store_url
from robot.jobs.resource import resource
from robot.jobs.store import JobView, find_workflow, get_job, view
from robot.webhooks.events import publish_with_client

if TYPE_CHECKING:
    from dbos import DBOSClient

#: outcomes of a finished job in which no money moved: such a job may be run again as a new one
_NO_MONEY_MOVED = {"needs_2fa", "needs_confirmation", "access_failed", "unavailable", "refused",
                   "declined", "cancelled", "timed_out", "dry_run"}


def cancel(client: "DBOSClient", job_id: str) -> JobView:
    v = get_job(client, job_id)
    if v.status in ("finished", "failed", "cancelled"):
        raise RobotError(f"job {job_id} is already {v.status}; nothing to cancel")
    question = waiting_for(client, job_id)
    client.cancel_workflow(job_id)
    if question:
        # a job waiting for a person: wake its wait so it stops now, not at the handoff timeout
        client.send(question["to"], CANCELLED, question["topic"])
    _wake_waiters(client, job_id, question)
    after = get_job(client, job_id)
    # the final state's webhook (robot/webhooks): the cancelling process captures it
    publish_with_client(client, "job.cancelled", job_id, resource(after).model_dump(mode="json"))
    return after


def _wake_waiters(client: "DBOSClient", job_id: str, question: dict[str, Any] | None) -> None:
    """End every other wait of the job too: an earlier execution's (a worker killed while the job
    waited) is still pending, and would hold whichever process picks it up until its timeout."""
    answered = question["to"] if question else None
    for st in client.list_workflows(workflow_id_prefix=f"{job_id}.wait-", status=["PENDING", "ENQUEUED"],
                                    load_input=False, load_output=False):
        if st.workflow_id != answered:
            for topic in (TOPIC_2FA, TOPIC_CONFIRM):
                client.send(st.workflow_id, CANCELLED, topic)


def retry(client: "DBOSClient", job_id: str) -> str:
    """Run a job again. A cancelled job, or one that crashed its worker too often, resumes under its
    own id (finished stages are not run again; gateway keys stay the same); one whose workflow
    raised cannot be resumed and is refused. A finished job whose outcome moved no money
    (needs_2fa, needs_confirmation, unavailable, ...) is enqueued again as a new job."""
    st = find_workflow(client, job_id)
    v = view(client, st)
    if st.status == "ERROR":
        # DBOS does not run a workflow that ended in an error again (resume leaves it as it is)
        raise RobotError(f"job {job_id} ended with an error ({v.error}) and cannot be resumed; check it with "
                         f"`jobs show {job_id}` and the gateway (reference {job_id}:gateway) before charging again")
    if v.status in ("failed", "cancelled"):
        client.resume_workflow(job_id, queue_name=QUEUE)
        return job_id
    if v.status != "finished":
        raise RobotError(f"job {job_id} is {v.status}; only failed, cancelled or finished jobs can be retried")
    if v.outcome not in _NO_MONEY_MOVED or (v.result is not None and v.result.gateway_transaction_id):
        raise RobotError(f"job {job_id} finished {v.outcome}; money may have moved, so it is not run again "
                         "(check it with `jobs show` and the gateway)")
    if v.result is not None and v.result.error_code == "gateway_unavailable" and any(
            s.name == "gateway" for s in v.steps):
        # the money call went out and no answer came back: a new job (new idempotency key) could
        # charge a second time
        raise RobotError(f"job {job_id} finished {v.outcome}: the gateway did not answer its money call, so the "
                         f"money may have moved (gateway reference {job_id}:gateway); it is not run again as a "
                         f"new job. Look the reference up at the gateway; `jobber-robot reconcile -m "
                         f"{v.merchant} --repair` records it in Jobber if it moved")
    job = st.input["args"][0]
    n = 1
    existing = {w.workflow_id for w in client.list_workflows(workflow_id_prefix=f"{job_id}-r", load_input=False,
                                                             load_output=False)}
    while f"{job_id}-r{n}" in existing:
        n += 1
    new_id, _ = enqueue(job, client=client, job_id=f"{job_id}-r{n}")
    link(store_url(client), new_id, job_id)  # retry_of / retried_as (robot/jobs/links.py)
    return new_id
