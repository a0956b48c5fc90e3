"""`selectors check --fixtures`: every selector file checked against the recorded snapshots, offline.

Each snapshot (`snapshots/NN-PAGE.html`, the DOM as the robot saw it, scripts removed) is loaded
into a page with JavaScript off and every request refused, and the page's selectors are resolved
there with the robot's own resolver (robot.locators). Judged per snapshot: every required
(non-optional) selector of that page, and the optional ones the robot required right there (a
Collect Payment button on an open invoice). A selector found by none of its locators is drift;
one found only by a fallback is named too (the robot still works, but Jobber changed it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robot.locators import PageLocators, Resolution, registry

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page


@dataclass
class SnapshotRef:
    scenario: str
    directory: Path
    file: str
    page: str
    url: str
    required: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def html_path(self) -> Path:
        return self.directory / "snapshots" / f"{self.file}.html"

    @property
    def aria_path(self) -> Path:
        return self.directory / "snapshots" / f"{self.file}.aria.yml"

    @property
    def name(self) -> str:
        return f"{self.scenario}/snapshots/{self.file}"

    def judged(self, key: str) -> bool:
        spec = registry()[self.page].selectors[key]
        return not spec.optional or key in self.required or key in self.missing


@dataclass
class Finding:
    """One selector on one snapshot."""

    snapshot: SnapshotRef
    resolution: Resolution


def snapshots(directories: Iterable[Path]) -> list[SnapshotRef]:
    out = []
    for d in directories:
        index = json.loads((d / "snapshots.json").read_text(encoding="utf-8"))
        for row in index["snapshots"]:
            if row["page"] not in registry():
                continue
            out.append(SnapshotRef(scenario=d.name, directory=d, file=row["file"], page=row["page"], url=row["url"],
                                   required=row.get("required", []), missing=row.get("missing", [])))
    return out


async def offline_page(browser: "Browser") -> "Page":
    """A page that runs no script and reaches no network (a snapshot is loaded into it)."""
    context = await browser.new_context(java_script_enabled=False, offline=True)

    async def refuse(route: Any) -> None:
        await route.abort("blockedbyclient")

    await context.route("**/*", refuse)
    return await context.new_page()


async def load_snapshot(page: "Page", snap: SnapshotRef) -> None:
    await page.set_content(snap.html_path.read_text(encoding="utf-8"), wait_until="domcontentloaded")


async def check(browser: "Browser", directories: Iterable[Path]) -> list[Finding]:
    page = await offline_page(browser)
    findings: list[Finding] = []
    try:
        for snap in snapshots(directories):
            await load_snapshot(page, snap)
            loc = PageLocators(page, snap.page, timeout_ms=0)
            for key in loc.spec.selectors:
                if not snap.judged(key):
                    continue
                res = await loc.probe(key, timeout_ms=0)
                res.optional = False
                findings.append(Finding(snapshot=snap, resolution=res))
    finally:
        await page.context.close()
    return findings


def drifted(findings: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """(page, selector) → the snapshots where it was missing or found only by a fallback."""
    out: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.resolution.status in ("missing", "fallback"):
            out.setdefault((f.resolution.page, f.resolution.selector), []).append(f)
    return out


def message(findings: list[Finding]) -> str:
    r = findings[0].resolution
    where = ", ".join(sorted({f.snapshot.name for f in findings}))
    if all(f.resolution.status == "fallback" for f in findings):
        return (f"drift: {r.description} on the {r.page} page was found only by a fallback ({r.via}) "
                f"(selector {r.page}.{r.selector}) in {where}")
    return f"{r.description} not found on {r.page} page (selector {r.page}.{r.selector}) in {where}"
