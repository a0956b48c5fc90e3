#!/usr/bin/env bash
# Make a fresh machine ready: venv, the project, a Chromium, the data dirs. Safe to re-run: a
# second run installs nothing when pyproject.toml is unchanged and a browser is found.
# Needs no standard input (CI runs it on a fresh Debian machine).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

# A venv made without ensurepip (Debian without python3-venv) has a python but no pip:
# it is half made, so make it again rather than fail on every later run.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "==> creating $VENV"
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    echo "==> $PYTHON cannot make a venv: installing Debian's python3-venv"
    rm -rf "$VENV"
    bash scripts/apt-install.sh python3-venv
    "$PYTHON" -m venv "$VENV"
  fi
fi

stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the project and its test tools"
  "$VENV/bin/python" -m pip install -q --upgrade pip </dev/null
  "$VENV/bin/python" -m pip install -q -e '.[dev]' </dev/null
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

# --check starts the browser once: a Chromium can exist and still lack its system libraries.
has_browser() { "$VENV/bin/python" -m robot browser --check >/dev/null 2>&1 </dev/null; }
if ! has_browser; then
  echo "==> no Chromium that starts yet: trying Playwright's own download"
  if timeout 300 "$VENV/bin/python" -m playwright install chromium >/dev/null 2>&1 </dev/null && ! has_browser; then
    echo "==> Playwright's Chromium needs system libraries: installing them"
    if [ "$(id -u)" -eq 0 ]; then deps=(); else deps=(sudo -n); fi
    "${deps[@]}" "$VENV/bin/python" -m playwright install-deps chromium >/dev/null 2>&1 </dev/null || true
  fi
fi
if ! has_browser; then
  echo "==> Playwright cannot download a browser here: installing Debian's chromium"
  bash scripts/apt-install.sh chromium || true  # the check below says what to do instead
fi
"$VENV/bin/python" -m robot browser --check </dev/null  # the browser and its version, or what to do (exit 1)

mkdir -p .data
