"""No fixed sleeps on any robot path (issue 15): every sleep in robot/ and flows/ says why."""

from __future__ import annotations

from benchmarks.sleeps import scan, scan_text, unmarked


def test_every_sleep_in_robot_and_flows_carries_a_reason() -> None:
    bad = unmarked()
    assert not bad, "fixed sleeps on a robot path (wait on page state, a response or an event instead, or mark " \
                    "a real back-off with `# allowed-sleep: why`):\n" + "\n".join(f"{s.path}:{s.line}: {s.text}"
                                                                         for s in bad)


def test_the_scan_reads_the_robot_code() -> None:
    # the one sleep the robot has today (waiting for the next TOTP window) is found, and allowed
    found = scan()
    assert any(s.path == "robot/twofactor.py" and s.allowed for s in found), found


def test_the_scan_finds_each_kind_of_sleep_and_needs_a_reason() -> None:
    code = "\n".join([
        "await asyncio.sleep(0.5)",
        "time.sleep(2)",
        "await page.wait_for_timeout(300)",
        "from time import sleep",
        "await asyncio.sleep(backoff)  # allowed-sleep: retry back-off",
        "await asyncio.sleep(1)  # allowed-sleep:",      # no reason given
        "# time.sleep(1) in a comment is no sleep",
        "await asyncio.wait_for(event.wait(), 5)",       # a wait on an event is fine
    ])
    found = scan_text(code)
    assert [(s.line, s.allowed) for s in found] == [(1, False), (2, False), (3, False), (4, False), (5, True),
                                                    (6, False)]
