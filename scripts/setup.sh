#!/usr/bin/env bash
# Make a fresh machine ready: venv, the project, a Chromium, the data dirs. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the project and its test tools"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e '.[dev]'
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

if ! "$VENV/bin/python" -m robot browser >/dev/null 2>&1; then
  echo "==> no Chromium yet: trying Playwright's own download"
  timeout 300 "$VENV/bin/python" -m playwright install chromium >/dev/null 2>&1 || true
fi
if ! "$VENV/bin/python" -m robot browser >/dev/null 2>&1; then
  echo "==> Playwright cannot download a browser here: installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi
if ! "$VENV/bin/python" -m robot browser; then
  exit 1
fi

mkdir -p .data
