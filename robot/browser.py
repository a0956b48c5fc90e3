"""Finding and launching Chromium, used by the robot, the tests and the CLI.

Order: an explicit path from settings, Playwright's own Chromium if installed, then the
system Chromium (Debian's package). Anything else is a clear error saying how to install one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import sync_playwright

from robot.errors import BrowserNotFound

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

# Cut background traffic on closed networks and keep start-up short.
LAUNCH_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]

# What a robot's job never needs, blocked without intercepting requests (a Playwright route would
# turn the HTTP cache off and send every request through the driver): images and web fonts are
# not loaded, and known analytics / tag hosts resolve to nothing. Only the robot's own browser
# (SessionPool); a person's or a test's browser (`launch_options`) loads everything.
LEAN_ARGS = [
    "--blink-settings=imagesEnabled=false",
    "--disable-remote-fonts",
]
BLOCKED_HOSTS = (
    "*.google-analytics.com", "*.googletagmanager.com", "*.doubleclick.net", "*.segment.io", "*.segment.com",
    "*.hotjar.com", "*.intercom.io", "*.intercomcdn.com", "*.fullstory.com", "*.mixpanel.com",
    "*.heap.io", "*.heapanalytics.com", "*.facebook.net", "*.hubspot.com", "*.hs-analytics.net",
    "*.nr-data.net", "*.newrelic.com", "*.sentry.io", "*.bugsnag.com", "*.pendo.io", "*.appcues.com",
)

INSTALL_HINT = (
    "No Chromium found. Install one of:\n"
    "  python -m playwright install chromium      (needs internet)\n"
    "  apt-get install -y chromium                (Debian/Ubuntu; gives /usr/bin/chromium)\n"
    "or point JOBBER_ROBOT_BROWSER_PATH at a Chromium executable."
)


def playwright_chromium() -> Path | None:
    """Path of Playwright's downloaded Chromium, if it is there."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    if not root.exists():
        return None
    # Cheap check first: avoid starting the driver when nothing was downloaded.
    if not any(root.glob("chromium*")):
        return None
    try:
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
    except Exception:
        return None
    return path if path.exists() else None


def find_browser(explicit: Path | str | None = None) -> Path:
    """The Chromium to launch: `explicit` (settings) when given, else Playwright's own, else the
    system one. A path that does not exist is an error, not a silent fall-back to another browser."""
    if explicit:
        path = Path(explicit)
        if path.exists():
            return path
        raise BrowserNotFound(f"browser path {path} does not exist.\n{INSTALL_HINT}")
    own = playwright_chromium()
    if own:
        return own
    for candidate in SYSTEM_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    found = shutil.which("chromium")
    if found:
        return Path(found)
    raise BrowserNotFound(INSTALL_HINT)


def launch_options(headless: bool = True, explicit: Path | str | None = None,
                   host_resolver_rules: str | None = None, *, lean: bool = False) -> dict[str, Any]:
    """Keyword arguments for `chromium.launch`, shared by the robot and pytest-playwright.

    `host_resolver_rules` ("MAP *.jobber.test 127.0.0.1") lets the test world give the mock's
    identity and app hosts real names, so cookies, redirects and origins behave as on Jobber.
    `lean`: no images, no web fonts, analytics hosts unresolvable (the robot's browser)."""
    args = list(LAUNCH_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses its sandbox as root (CI containers)
    rules = [host_resolver_rules] if host_resolver_rules else []
    if lean:
        args += LEAN_ARGS
        rules += [f"MAP {host} ~NOTFOUND" for host in BLOCKED_HOSTS]
    if rules:
        args.append(f"--host-resolver-rules={', '.join(rules)}")
    return {"executable_path": str(find_browser(explicit)), "headless": headless, "args": args}


async def launch(playwright: "Playwright", headless: bool = True, explicit: Path | str | None = None,
                 host_resolver_rules: str | None = None, *, lean: bool = False,
                 traces_dir: Path | None = None) -> "Browser":
    """`traces_dir`: where the browser's traces are recorded (else a folder in the system temp)."""
    return await playwright.chromium.launch(**launch_options(headless, explicit, host_resolver_rules, lean=lean),
                                            traces_dir=traces_dir)
