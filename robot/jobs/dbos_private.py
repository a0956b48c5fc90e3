"""Every use of DBOS's private internals, in one place, for the version range pyproject.toml pins.

DBOS's public API has no way to (a) read a workflow's ownership token and row without a
checkpointed step (the write fence needs a fresh read: robot/jobs/fence.py), (b) hand a dead
executor's PENDING workflows to recovery from a live worker (robot/jobs/leases.py), (c) stop a
process's queue threads without destroying DBOS, (d) name the system database a client or this
process writes to (the robot keeps its own tables there), and (e) tell "workflow id in use" and
"workflow cancelled" apart from other errors. Each is wrapped here; tests/unit/test_dbos_private.py
fails when an upgrade moves or renames one, before a job does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import dbos._dbos as _dbos_module
import sqlalchemy as sa
from dbos import DBOS
from dbos._context import current_owner_xid
from dbos._dbos import _get_dbos_instance
from dbos._error import DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError, DBOSWorkflowIDInUseError

if TYPE_CHECKING:
    from dbos import DBOSClient

#: the DBOS versions this module was tested with (keep equal to the pin in pyproject.toml)
TESTED_RANGE = ("3.4", "3.5")

__all__ = ["DBOSWorkflowCancelledError", "DBOSWorkflowConflictIDError", "DBOSWorkflowIDInUseError",
           "TESTED_RANGE", "client_store_url", "owner_token", "recover_pending", "stop_background_threads",
           "store_url_here", "workflow_row"]


def owner_token(workflow_id: str) -> str | None:
    """This execution's ownership token for the workflow (inside it), None outside one."""
    token: str | None = current_owner_xid(workflow_id)
    return token


def workflow_row(workflow_id: str) -> tuple[str | None, str | None, str | None] | None:
    """(status, executor id, ownership token) of a workflow, read from the system database in one
    statement, never through a checkpointed step. Blocking."""
    sys_db = _get_dbos_instance()._sys_db
    ws = sys_db.tables.workflow_status
    with sys_db.engine.begin() as c:
        row = c.execute(sa.select(ws.c.status, ws.c.executor_id, ws.c.owner_xid)
                        .where(*sys_db._wf(ws, workflow_id))).first()
    return None if row is None else (row[0], row[1], row[2])


def recover_pending(executor_ids: Sequence[str]) -> list[Any]:
    """Hand the PENDING workflows of executors that are gone to this process's recovery."""
    return list(DBOS._recover_pending_workflows(list(executor_ids)))


def stop_background_threads() -> None:
    """Stop this process's queue and scheduler threads (workflows already running go on)."""
    inst = _dbos_module._dbos_global_instance
    if inst is None:
        return
    for event in getattr(inst, "background_thread_stop_events", []):
        event.set()


def store_url_here() -> str:
    """The system database of the DBOS launched in this process."""
    url: str = _get_dbos_instance()._sys_db.engine.url.render_as_string(hide_password=False)
    return url


def client_store_url(client: "DBOSClient") -> str:
    """The system database a client writes to."""
    url: str = client._sys_db.engine.url.render_as_string(hide_password=False)
    return url
