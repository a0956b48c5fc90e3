"""Named crash points for the reliability tests: kill -9 this process at a chosen spot.

Inert unless JOBBER_ROBOT_CRASH_AT names the point. With JOBBER_ROBOT_CRASH_MARKER set to a file
path, the crash happens once (the marker records it), so the restarted worker gets through.

Points used: "before:<step>", "after:<step>" (around every flow stage; "after" fires once the
stage's result is checkpointed), "gateway:after_call" (money moved, stage not yet finished),
"jobber:after_save" (payment saved in Jobber, stage not yet finished).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV_POINT = "JOBBER_ROBOT_CRASH_AT"
ENV_MARKER = "JOBBER_ROBOT_CRASH_MARKER"


def crash_point(name: str) -> None:
    if os.environ.get(ENV_POINT) != name:
        return
    marker = os.environ.get(ENV_MARKER)
    if marker:
        path = Path(marker)
        if path.exists():
            return
        path.write_text(name)
    os.kill(os.getpid(), signal.SIGKILL)
