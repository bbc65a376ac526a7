#!/usr/bin/env bash
# Installs valgrind (callgrind, callgrind_control) from Debian packages for
# npm run bench:instr. Idempotent: a no-op when both are present. apt runs
# under flock /tmp/apt.lock so parallel installs on one machine do not collide
# on the dpkg lock. Needs root (or sudo) and access to the Debian mirrors.
set -euo pipefail

if command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1; then
  echo "install-valgrind: valgrind already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-valgrind: need root or sudo to apt-get install valgrind" >&2
    exit 1
  fi
fi

# Only refresh the package lists when apt knows no valgrind candidate yet.
if ! apt-cache show valgrind >/dev/null 2>&1; then
  $SUDO flock /tmp/apt.lock apt-get update
fi
$SUDO env DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y --no-install-recommends valgrind
echo "install-valgrind: done ($(command -v valgrind))"
