"""`doctor --bundle FILE.zip`: what a developer needs to see a merchant's access problem, masked.

    checklist.txt      the checklist as printed
    report.json        the report (`--json`)
    versions.json      robot, Python, Playwright, Chromium, platform
    settings.json      the settings, secrets as "**********" and passwords in URLs masked
    evidence/...       screenshot, trace and HTML of the failing step (already scrubbed by
                       robot.evidence, and every text file masked once more here)

The file is written 0600, like every file holding anything about a merchant.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robot.doctor.models import DoctorReport, StepStatus
from robot.logging import redact_text

if TYPE_CHECKING:
    from robot.config import Settings

_MARK = {StepStatus.passed: "PASS", StepStatus.failed: "FAIL", StepStatus.skipped: "SKIP",
         StepStatus.running: "...."}
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]+):([^@/\s]+)@")
_TEXT_SUFFIXES = (".html", ".txt", ".json", ".log", ".md")


def checklist_text(report: DoctorReport) -> str:
    lines = [f"jobber-robot doctor {report.merchant}   run {report.run_id}", ""]
    for s in report.steps:
        lines.append(f"[{_MARK[s.status]}] {s.title:<44} {s.seconds:6.2f} s  {s.detail}".rstrip())
        if s.cause and s.status is not StepStatus.passed:
            lines.append(f"       cause: {s.cause}")
        if s.fix:
            lines.append(f"       fix:   {s.fix}")
    lines += ["", f"result: {report.exit_class.value} (exit {report.exit_code})"]
    return redact_text("\n".join(lines)) + "\n"


def settings_document(settings: "Settings") -> dict[str, Any]:
    doc = json.loads(settings.model_dump_json())  # SecretStr fields come out as "**********"
    for k, v in list(doc.items()):
        if isinstance(v, str):
            doc[k] = redact_text(_URL_PASSWORD.sub(r"\1:**********@", v))
    return doc


def write_bundle(report: DoctorReport, settings: "Settings", path: str | Path) -> Path:
    """Write the zip; returns its path."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("checklist.txt", checklist_text(report))
        z.writestr("report.json", redact_text(json.dumps(report.to_json(), indent=1)))
        z.writestr("versions.json", json.dumps(report.versions, indent=1))
        z.writestr("settings.json", json.dumps(settings_document(settings), indent=1))
        for a in report.artifacts:
            f = Path(a)
            if not f.is_file():
                continue
            data = f.read_bytes()
            if f.suffix in _TEXT_SUFFIXES:
                data = redact_text(data.decode("utf-8", "replace")).encode()
            z.writestr(f"evidence/{f.name}", data)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(buf.getvalue())
    os.chmod(path, 0o600)
    return path
