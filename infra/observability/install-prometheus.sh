#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package for the
# observability tests (promtool check/test rules, a real Prometheus scraping
# the local stack). Idempotent: a no-op when both binaries are present. apt
# runs under `flock /tmp/apt.lock` so parallel installs do not collide.
# Exit 0: ready; 3: missing and no way to install here (no root or no
# apt-get), which the tests report as SKIPPED; anything else: install failed.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prometheus: prometheus/promtool missing and cannot apt-get install here (need root and apt-get)" >&2
  exit 3
fi
echo "install-prometheus: installing prometheus" >&2
export DEBIAN_FRONTEND=noninteractive
flock /tmp/apt.lock apt-get update -q >&2
flock /tmp/apt.lock apt-get install -y -q --no-install-recommends prometheus >&2
# The package may start a system Prometheus on :9090 (the local stack's admin
# port); the tests run their own on a free port.
if command -v service >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
echo "install-prometheus: done" >&2
