#!/usr/bin/env bash
# npm run test:busy — the whole test suite with one core saturated, to catch
# tests that depend on wall-clock timing (CI shares its machine). A busy loop
# is pinned with taskset to the last CPU; it is bounded by `timeout`
# (BUSY_MAX_SECONDS, default 1800) and killed when this script exits for any
# reason (pass, failure, Ctrl-C, SIGTERM). Exits with the suite's status.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "test:busy needs taskset (util-linux)" >&2; exit 2; }
cpu=$(( $(nproc) - 1 ))
limit=${BUSY_MAX_SECONDS:-1800}
timeout "$limit" taskset -c "$cpu" node -e 'for (;;) {}' &
busy=$!
stop_busy() { kill "$busy" 2>/dev/null || true; wait "$busy" 2>/dev/null || true; }
trap stop_busy EXIT
trap 'stop_busy; exit 130' INT
trap 'stop_busy; exit 143' TERM
echo "test:busy: busy loop (pid $busy) pinned to CPU $cpu for at most ${limit}s"
npm test
