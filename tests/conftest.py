"""Test-wide fixtures. Servers of the test world live in their own plugin modules."""

from __future__ import annotations

from typing import Any

import pytest

#: the mock Jobber's identity and app hosts (login./secure.jobber.test) resolved to loopback in Chromium
MOCK_RESOLVER_RULES = "MAP *.jobber.test 127.0.0.1"

pytest_plugins: list[str] = [
    "tests.plugin_secrets", "tests.plugin_mock_jobber", "tests.plugin_gateway", "tests.plugin_world"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Point pytest-playwright at the browser the robot itself would use."""
    from robot.browser import launch_options

    return {**browser_type_launch_args, **launch_options(headless=True, host_resolver_rules=MOCK_RESOLVER_RULES)}


_SYNC_PLAYWRIGHT_FIXTURES = {"page", "context", "browser", "playwright", "new_context"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run tests on pytest-playwright's sync fixtures last.

    Its sync API keeps an event loop running in the main thread from the first such test to the
    end of the session; an async test (the robot's own code is async) scheduled after it could
    not start its loop. Moving them to the end keeps both kinds in one run.
    """
    def uses_sync_playwright(item: pytest.Item) -> bool:
        return bool(_SYNC_PLAYWRIGHT_FIXTURES & set(getattr(item, "fixturenames", ())))

    items.sort(key=uses_sync_playwright)  # stable: order within each group is kept
