#!/usr/bin/env bash
# Installs what `npm run tier` needs from Debian packages: iproute2 (ip netns,
# veth, bridge) and HAProxy (the ALB stand-in). Idempotent: a no-op when both
# binaries are present. apt runs under `flock /tmp/apt.lock` so parallel
# installs on one machine do not collide on the dpkg lock.
# Exit 0: ready; 3: missing and no way to install them here (no root or no
# apt-get), which the tier reports as SKIPPED; anything else: install failed.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

pkgs=()
have ip || pkgs+=(iproute2)
have haproxy || pkgs+=(haproxy)
if [ "${#pkgs[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-tier-deps: ${pkgs[*]} missing and cannot apt-get install here (need root and apt-get)" >&2
  exit 3
fi
echo "install-tier-deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
flock /tmp/apt.lock apt-get update -q >&2
flock /tmp/apt.lock apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
# The package may start a system HAProxy; the tier runs its own in a namespace.
if command -v service >/dev/null 2>&1; then service haproxy stop >/dev/null 2>&1 || true; fi
echo "install-tier-deps: done" >&2
