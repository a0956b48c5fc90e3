"""The direct commands as a person at a terminal sees them (real CLI processes).

- Ctrl-C in a payment command: the job is cancelled in the job store (never left `running`), one
  line says so, the exit code is 130, and no asyncio or DBOS noise reaches the person. The real
  SIGINT is sent once the process's output says the job waits (never after a fixed sleep).
- No silent wait: at a pty, a spinner line says what the command waits for (`charge`,
  `selectors check`).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.proc_lines import Lines
from tests.reliability.queue_env import CLI, RobotEnv, make_env, reset_world

#: real CLI processes: the slow run (CI runs it too)
pytestmark = pytest.mark.slow

NOISE = ("Traceback", "asyncio", "Asyncio", "Task was destroyed", "WARNING", "warning", "DBOS Error", "Exception")


def _charge(env: RobotEnv, merchant: str, invoice: int, customer: str) -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen([CLI, "charge", "-m", merchant, "--invoice", str(invoice), "--card-on-file", customer],
                            env={**env.env, "JOBBER_ROBOT_LOG_LEVEL": "INFO", "COLUMNS": "200"}, cwd=env.tmp,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env.procs.append(proc)  # type: ignore[arg-type]
    assert proc.stderr is not None
    return proc, Lines(proc.stderr)


def _interrupt(proc: subprocess.Popen[str], lines: Lines) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    assert proc.stdout is not None
    return code, proc.stdout.read(), lines.rest()


def _job_id(stderr: str) -> str:
    line = next(line for line in stderr.splitlines() if "queued; running it here" in line)
    return line.split()[1]


def _clean(stderr: str, job_id: str) -> None:
    for noise in NOISE:
        assert noise not in stderr, stderr
    [last] = [line for line in stderr.splitlines() if line.startswith("interrupted")]
    assert last.startswith(f"interrupted: job {job_id} cancelled"), stderr
    assert f"jobber-robot jobs retry {job_id}" in last


def test_ctrl_c_while_the_job_waits_for_a_code_cancels_it(tmp_path: Path, mock_jobber: Any,
                                                          world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=300)
    try:
        proc, lines = _charge(env, "bravo", 2001, "cus_rivers")
        # no terminal: the job waits for the code through the queue and says how to answer it
        lines.wait_for("waits for a verification code")
        job_id = _job_id("".join(lines.seen))
        assert f"jobber-robot handoff {job_id} CODE" in "".join(lines.seen)
        assert env.job(job_id).status == "waiting_for_2fa"
        code, stdout, stderr = _interrupt(proc, lines)
        assert code == 130, stderr
        _clean(stderr, job_id)
        assert stdout == ""
        job = env.job(job_id)
        assert job.status == "cancelled" and job.waiting_for is None
        # its wait for the code ended too: no workflow of the job is left for another process to hold
        assert env.client.list_workflows(workflow_id_prefix=job_id, status=["PENDING", "ENQUEUED"]) == []
        assert mock_jobber.admin.state()["code_posts"] == 0  # nothing was typed for it
        assert world_sandbox.admin.transactions("bravo") == []
    finally:
        env.stop_all()


def test_ctrl_c_while_the_job_signs_in_cancels_it_and_moves_no_money(tmp_path: Path, mock_jobber: Any,
                                                                    world_sandbox: Any) -> None:
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    try:
        proc, lines = _charge(env, "acme", 1042, "cus_chen")
        lines.wait_for("queued; running it here")
        job_id = _job_id("".join(lines.seen))
        code, stdout, stderr = _interrupt(proc, lines)
        assert code == 130, stderr
        _clean(stderr, job_id)
        assert env.job(job_id).status == "cancelled"
        assert world_sandbox.admin.transactions("acme") == []
        assert mock_jobber.admin.invoice(1042)["payments"] == []
    finally:
        env.stop_all()


def test_at_a_terminal_a_spinner_says_what_the_command_waits_for(tmp_path: Path, mock_jobber: Any,
                                                                world_sandbox: Any) -> None:
    """No silent wait: from the start (browser and job store) through each stage, one line says
    what the robot does, then the result panel."""
    from tests.integration.test_doctor_cli import Terminal

    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    term = Terminal([CLI, "charge", "-m", "acme", "--invoice", "1042", "--card-on-file", "cus_chen"],
                    {**env.env, "COLUMNS": "120"})
    try:
        term.expect(r"starting the robot: browser and job store")
        term.expect(r"job job-\w+: (waiting for its turn|signing in to Jobber and checking the invoice)")
        term.expect(r"job job-\w+: signing in to Jobber and checking the invoice")
        code = term.finish()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert code == 0, term.plain[-3000:]
    shown = term.plain
    assert shown.index("signing in to Jobber") < shown.index("succeeded")
    assert "recording the payment in Jobber" in shown
    assert mock_jobber.admin.invoice(1042)["status"] == "paid"


def test_selectors_check_at_a_terminal_says_each_phase(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    from tests.integration.test_doctor_cli import Terminal

    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    term = Terminal([CLI, "selectors", "check", "--merchant", "acme"], {**env.env, "COLUMNS": "120"})
    try:
        for phase in ("starting the browser", r"checking Jobber's sign-in page \(signed out\)",
                      "signing in to Jobber as acme", "checking the app's pages"):
            term.expect(phase)
        code = term.finish()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert code == 0, term.plain[-3000:]
    assert term.plain.index("checking the app's pages") < term.plain.index("every required selector resolves")


def test_other_jobs_the_command_took_are_named_and_ctrl_c_hands_them_back(tmp_path: Path, mock_jobber: Any,
                                                                          world_sandbox: Any) -> None:
    """The command's in-process worker serves the shared queue: a job queued by someone else may be
    taken too. After its own result, the command says which job it lets finish; Ctrl-C then hands
    that one back to the queue (not cancelled: a worker resumes it) and the command ends with its own
    result."""
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox, handoff_timeout_seconds=300)
    try:
        other = env.enqueue({"kind": "charge", "merchant": "bravo", "invoice": 2001,
                             "tender": {"type": "card_on_file", "customer_id": "cus_rivers"}})
        proc, lines = _charge(env, "acme", 1042, "cus_chen")
        lines.wait_for(f"this process also took {other} from the queue", timeout=180)
        code, stdout, stderr = _interrupt(proc, lines)
        assert code == 0, stderr
        assert "succeeded" in stdout and mock_jobber.admin.invoice(1042)["status"] == "paid"
        assert "Traceback" not in stderr and "interrupted" not in stderr
        assert env.job(other).status not in ("cancelled", "finished", "failed")  # handed back, resumable
        assert world_sandbox.admin.transactions("bravo") == []
    finally:
        env.stop_all()


def test_ctrl_c_in_the_doctor_says_so_and_exits_130(tmp_path: Path, mock_jobber: Any, world_sandbox: Any) -> None:
    """Outside a payment job (typer turns Ctrl-C into a silent exit 130): one line, no traceback."""
    reset_world(mock_jobber, world_sandbox)
    env = make_env(tmp_path, mock_jobber, world_sandbox)
    proc = subprocess.Popen([CLI, "doctor", "acme"], env={**env.env, "COLUMNS": "200"}, cwd=env.tmp,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env.procs.append(proc)  # type: ignore[arg-type]
    try:
        assert proc.stderr is not None
        lines = Lines(proc.stderr)
        lines.wait_for("Vault key and credentials decrypt")
        code, _, stderr = _interrupt(proc, lines)
        assert code == 130, stderr
        assert stderr.strip().splitlines()[-1] == "interrupted (Ctrl-C): nothing more was done", stderr
        for noise in NOISE:
            assert noise not in stderr, stderr
    finally:
        env.stop_all()
