"""Flags on jobs: a durable note one job leaves on another, shown by `jobs list|show` and
`GET /jobs/{id}` of the job it is about.

Today: an `ach_check` job that reverses the Jobber payment of a returned ACH debit flags the
charge job that took the debit ("ach_returned R01 (insufficient funds) — Jobber payment reversed
by job <ach_check job>"), and so does a `reconcile --repair` that reverses a return an ACH check
job did not get to. A flow asks for flags in its result (`report["flags"]`:
[{"job", "key", "flag"}]); the job's workflow records each one as a tiny DBOS workflow with id
`<flagged job>.flag-<key>` whose input is the text. So a flag is stored in the job store itself
(SQLite or Postgres), once per (job, key) whatever re-runs or crashes (the first one stays), and
a job's flags are found by workflow-id prefix.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from dbos import DBOS, SetWorkflowID

if TYPE_CHECKING:
    from dbos import DBOSClient

    from robot.jobs.models import JobResult

FLAG_WORKFLOW = "jobber.job_flag"
_SEP = ".flag-"


@DBOS.workflow(name=FLAG_WORKFLOW)
async def job_flag(flag: str) -> str:
    """The record of one flag: its input is the text."""
    return flag


def flag_id(job_id: str, key: str) -> str:
    return f"{job_id}{_SEP}{key}"


async def record(result: "JobResult") -> None:
    """Record the flags a job's result asks for (workflow code of that job; runs again safely)."""
    for f in result.report.get("flags", []):
        with SetWorkflowID(flag_id(f["job"], f["key"])):
            handle = await DBOS.start_workflow_async(job_flag, f["flag"])
        await handle.get_result()


def _text(st: Any) -> str | None:
    args = st.input.get("args") if isinstance(st.input, dict) else None
    return str(args[0]) if args else None


def flags_of(client: "DBOSClient", job_id: str) -> list[str]:
    prefix = job_id + _SEP
    rows = client.list_workflows(workflow_id_prefix=prefix, load_output=False, sort_desc=False)
    return [t for st in rows if st.name == FLAG_WORKFLOW and st.workflow_id.startswith(prefix) and (t := _text(st))]


def all_flags(client: "DBOSClient") -> dict[str, list[str]]:
    """Every flag in the store by flagged job id (flags are rare: one query for a job list)."""
    out: dict[str, list[str]] = defaultdict(list)
    for st in client.list_workflows(name=FLAG_WORKFLOW, load_output=False, sort_desc=False):
        job_id = st.workflow_id.rsplit(_SEP, 1)[0]
        if t := _text(st):
            out[job_id].append(t)
    return out
