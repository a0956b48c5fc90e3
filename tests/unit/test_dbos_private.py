"""The DBOS internals robot/jobs/dbos_private.py relies on are still there, in the shape it uses.

An upgrade of DBOS past the pinned range (pyproject.toml) fails here, naming the internal, instead
of failing a job's write fence or a dead worker's recovery at run time.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import dbos._context as dbos_context
import dbos._dbos as dbos_dbos
import dbos._error as dbos_error
import dbos._sys_db as dbos_sys_db
from dbos import DBOS, DBOSClient
from dbos._schemas.system_database import SystemSchema

from robot.jobs import dbos_private

ROOT = Path(__file__).resolve().parents[2]


def _pin() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d for d in deps if re.match(r"dbos\b", d))


def _parts(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".")[:2])


def test_the_pin_is_the_tested_range_and_the_installed_dbos_is_in_it() -> None:
    low, high = dbos_private.TESTED_RANGE
    assert _pin().replace(" ", "") == f"dbos>={low},<{high}"
    assert _parts(low) <= _parts(version("dbos")) < _parts(high)


def test_recovery_of_another_executors_workflows() -> None:
    params = list(inspect.signature(DBOS._recover_pending_workflows).parameters)
    assert params[:1] == ["executor_ids"]


def test_the_system_database_row_the_fence_reads() -> None:
    columns = {c.name for c in SystemSchema.workflow_status.c}
    assert {"workflow_uuid", "status", "executor_id", "owner_xid"} <= columns
    assert list(inspect.signature(dbos_sys_db.SystemDatabase._wf).parameters)[:3] == ["self", "table", "workflow_id"]
    assert callable(dbos_dbos._get_dbos_instance)
    assert "self._sys_db" in inspect.getsource(dbos_dbos)


def test_the_ownership_token_of_the_running_execution() -> None:
    assert list(inspect.signature(dbos_context.current_owner_xid).parameters)[:1] == ["workflow_id"]


def test_the_global_instance_and_its_thread_stop_events() -> None:
    assert hasattr(dbos_dbos, "_dbos_global_instance")
    assert "background_thread_stop_events" in inspect.getsource(dbos_dbos)


def test_a_clients_system_database() -> None:
    assert "self._sys_db" in inspect.getsource(DBOSClient.__init__)


def test_the_errors_told_apart() -> None:
    for name in ("DBOSWorkflowIDInUseError", "DBOSWorkflowCancelledError", "DBOSWorkflowConflictIDError"):
        assert issubclass(getattr(dbos_error, name), BaseException)
        assert getattr(dbos_private, name) is getattr(dbos_error, name)
