"""No fixed sleeps on any robot path: every `time.sleep`, `asyncio.sleep` and Playwright
`wait_for_timeout` in robot/ and flows/ must say why on its own line with `# allowed-sleep: why`
(a back-off, the next TOTP window). Anything else waits on page state, a response or an event.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("robot", "flows")
#: a call of a fixed sleep, or `sleep` imported bare (so a plain `sleep(...)` is one too)
SLEEP = re.compile(r"\b(?:time|asyncio|anyio|trio)\s*\.\s*sleep\s*\(|\bwait_for_timeout\s*\("
                   r"|^\s*from\s+(?:time|asyncio)\s+import\s+[^#]*\bsleep\b")
ALLOWED = re.compile(r"#\s*allowed-sleep:\s*\S")


class Sleep(BaseModel):
    path: str
    line: int
    text: str
    allowed: bool


def scan_text(text: str, path: str = "<text>") -> list[Sleep]:
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        if SLEEP.search(line.split("#", 1)[0]):  # code, not a comment that names a sleep
            found.append(Sleep(path=path, line=n, text=line.strip(), allowed=bool(ALLOWED.search(line))))
    return found


def scan(root: Path = ROOT) -> list[Sleep]:
    """Every fixed sleep in the robot's code, allowed or not."""
    out: list[Sleep] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            out += scan_text(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    return out


def unmarked(root: Path = ROOT) -> list[Sleep]:
    return [s for s in scan(root) if not s.allowed]
