#!/usr/bin/env bash
# Install Debian packages without asking anything: no standard input, no prompts (CI, fresh
# machines). As root directly, else through `sudo -n` (never a password prompt that would hang).
set -euo pipefail
command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found: install $* by hand" >&2; exit 1; }
run=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install $* by hand" >&2; exit 1; }
  run=(sudo -n)
fi
# `env` inside sudo: sudo drops DEBIAN_FRONTEND from the environment it was given.
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >/dev/null
