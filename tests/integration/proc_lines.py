"""A subprocess's output read line by line as it comes, so a test waits on what the process
says (never a fixed sleep)."""

from __future__ import annotations

import queue
import threading
from typing import IO


class Lines:
    """A process's stream (stdout or stderr), line by line, as it comes (a reader thread feeds a queue)."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._q.put(line)
        self._q.put(None)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first line holding `text` (waiting for it as long as `timeout` for each new line)."""
        while True:
            for line in self.seen:
                if text in line:
                    return line
            got = self._q.get(timeout=timeout)
            assert got is not None, f"the stream ended before {text!r}:\n{''.join(self.seen)}"
            self.seen.append(got)

    def rest(self, timeout: float = 60) -> str:
        while (line := self._q.get(timeout=timeout)) is not None:
            self.seen.append(line)
        return "".join(self.seen)
