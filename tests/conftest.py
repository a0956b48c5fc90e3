"""Test-wide fixtures. Servers of the test world live in their own plugin modules."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins: list[str] = ["tests.plugin_mock_jobber"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Point pytest-playwright at the browser the robot itself would use."""
    from robot.browser import launch_options

    return {**browser_type_launch_args, **launch_options(headless=True)}
