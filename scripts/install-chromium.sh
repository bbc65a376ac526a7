#!/usr/bin/env bash
# Installs Debian's `chromium` for the admin dashboard's browser test
# (test/admin/dashboard-browser.test.ts drives it with playwright-core at
# /usr/bin/chromium). Idempotent; apt runs under `flock /tmp/apt.lock`
# because other jobs on the machine may run apt at the same time.
# Exits 0 without installing where there is no apt-get (the test then prints
# SKIPPED); fails when apt-get is there but the install fails.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed and no apt-get on this machine; the dashboard browser test will print SKIPPED"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { if command -v flock >/dev/null 2>&1; then flock /tmp/apt.lock apt-get "$@"; else apt-get "$@"; fi; }
# The package lists may be missing or old on a fresh machine.
if ! apt-cache show chromium >/dev/null 2>&1; then apt_get update -qq; fi
apt_get install -y -qq --no-install-recommends chromium || { apt_get update -qq && apt_get install -y -qq --no-install-recommends chromium; }
/usr/bin/chromium --version
