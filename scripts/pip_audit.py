"""CI's dependency audit: pip-audit over the project's environment (or a requirements file).

Exit 1 when pip-audit finds a known vulnerability (the table is printed); 0 when it finds none.
pip-audit reports a dependency it could not look up as *skipped*, and still says "No known
vulnerabilities found": a run where its vulnerability service cannot be reached (PyPI's
per-release JSON API, or OSV) would pass having checked nothing. This script says so instead,
loudly, with how many dependencies were not audited and why, and exits 0 then (an unreachable
service is this machine's limit, not a finding) unless --strict.

Usage: python scripts/pip_audit.py [-r requirements.txt] [--strict]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: pip-audit's skip reasons that mean "not looked up", not "nothing to look up"
SERVICES = ("pypi", "osv")
UNREACHABLE = ("not found on PyPI", "could not be audited", "Connection", "connection", "timed out", "HTTP")


def pip_audit_command(requirements: Path | None, service: str) -> list[str]:
    exe = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or "pip-audit"
    cmd = [exe, "--format", "json", "--progress-spinner", "off", "--timeout", "30", "--vulnerability-service", service]
    if requirements is not None:
        cmd += ["-r", str(requirements), "--no-deps", "--disable-pip"]
    else:
        cmd += ["--skip-editable"]  # the project itself is not on PyPI
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-r", "--requirements", type=Path, help="audit these pins instead of the environment")
    parser.add_argument("--strict", action="store_true", help="fail when dependencies could not be audited")
    args = parser.parse_args(argv)

    outcome = 0
    for service in SERVICES:  # PyPI's advisories first; OSV when PyPI could not answer for every pin
        outcome, complete = audit(args.requirements, service, args.strict)
        if complete or outcome not in (0, 1) or (outcome == 1 and not args.strict):
            return outcome
    return outcome


def audit(requirements: Path | None, service: str, strict: bool) -> tuple[int, bool]:
    """(exit code, whether every dependency was looked up) for one vulnerability service."""
    proc = subprocess.run(pip_audit_command(requirements, service), capture_output=True, text=True, cwd=ROOT)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        last = err[-1] if err else f"exit {proc.returncode}"
        if any(word in last for word in UNREACHABLE):
            print(f"pip-audit ({service}): NOT AUDITED: the vulnerability service could not be reached "
                  f"({last[:300]})")
            return (1 if strict else 0), False
        print(f"pip-audit ({service}) failed (exit {proc.returncode}): {last[:300]}", file=sys.stderr)
        return 2, False

    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    for d in vulnerable:
        for v in d["vulns"]:
            fixes = ", ".join(v.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in {fixes})")
    unreachable = [d for d in skipped if any(word in d["skip_reason"] for word in UNREACHABLE)]
    if unreachable:
        print(f"pip-audit ({service}): NOT AUDITED: {len(unreachable)} of {len(deps)} dependencies could not be "
              f"looked up (e.g. {unreachable[0]['name']}: {unreachable[0]['skip_reason']}); "
              "their vulnerabilities are unknown, not absent")
    print(f"pip-audit ({service}): {audited} of {len(deps)} dependencies audited, "
          f"{len(vulnerable)} with known vulnerabilities")
    if vulnerable or (unreachable and strict):
        return 1, not unreachable
    return 0, not unreachable


if __name__ == "__main__":
    sys.exit(main())
