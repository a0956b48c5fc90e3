"""Named crash points for the reliability tests: kill -9 this process at a chosen spot.

Inert unless JOBBER_ROBOT_CRASH_AT names the point. With JOBBER_ROBOT_CRASH_MARKER set to a file
path, the crash happens once (the marker records it), so the restarted worker gets through.

Points used: "before:<step>", "after:<step>" (around every flow stage; "after" fires once the
stage's result is checkpointed), "gateway:after_call" (money moved, stage not yet finished),
"jobber:after_save" (payment saved in Jobber, stage not yet finished), "jobber:before_save"
(record stage: the look for an existing payment found none, the save not yet made),
"webhooks:after_capture" (a job's final event is captured, its deliveries not yet queued),
"evidence:raw_trace" (a failed job's raw trace is on disk, not yet scrubbed).

JOBBER_ROBOT_CRASH_AT may name several points, comma-separated ("before:verify,after:gateway"):
with a marker, each fires once (the marker lists those that fired, one a line), so one job can be
killed at every point of its flow in turn, a new worker resuming it each time.

Inside-step points of the other flows: "gateway:after_call" after a void and after a payment link
is created, "gateway:after_send" after a link is sent, "jobber:after_save" after a void deleted
the Jobber payment and after an ACH return was written into Jobber.

JOBBER_ROBOT_CRASH_SIGNAL=SIGSTOP stalls the process there instead of killing it (a worker that
is alive but frozen: a VM pause, a stopped container); SIGCONT lets it go on from that line.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV_POINT = "JOBBER_ROBOT_CRASH_AT"
ENV_MARKER = "JOBBER_ROBOT_CRASH_MARKER"
ENV_SIGNAL = "JOBBER_ROBOT_CRASH_SIGNAL"


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV_POINT)
    if not wanted:
        return
    points = wanted.split(",")
    if name not in points:
        return
    marker = os.environ.get(ENV_MARKER)
    if marker:
        path = Path(marker)
        if len(points) == 1:
            if path.exists():
                return
            path.write_text(name)
        else:
            fired = path.read_text().splitlines() if path.exists() else []
            if name in fired:
                return
            with path.open("a") as f:
                f.write(name + "\n")
                f.flush()
                os.fsync(f.fileno())
    sig = signal.SIGSTOP if os.environ.get(ENV_SIGNAL) == "SIGSTOP" else signal.SIGKILL
    os.kill(os.getpid(), sig)
