"""`jobber-robot serve`: the HTTP API for the POS back end (robot/api/, docs/api.md).

The app is built by `robot.api.app.create_app`; this module keeps the entry point, which puts
the support dashboard (robot/dashboard/) in front of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robot import serving
from robot.api.app import create_app
from robot.api.auth import MAX_BODY_BYTES, PUBLIC_PATHS, KeyThenSizeGate, key_ok
from robot.dashboard.mount import with_support
from robot.errors import ConfigError

if TYPE_CHECKING:
    from robot.config import Settings

__all__ = ["MAX_BODY_BYTES", "PUBLIC_PATHS", "KeyThenSizeGate", "create_app", "key_ok", "serve"]


def serve(settings: "Settings", host: str | None = None, port: int | None = None) -> None:
    if settings.api_key is None:
        raise ConfigError("set JOBBER_ROBOT_API_KEY: the API refuses every request without one")

    # the support dashboard answers under /support, in front of the API's key gate (robot/dashboard/mount.py)
    serving.run(with_support(create_app(settings), settings), host=host or settings.serve_host,
                port=settings.serve_port if port is None else port,
                announce=lambda base: [f"POS API:              {base}/jobs  (docs: {base}/docs)",
                                       f"Support dashboard:    {base}/support/"])
