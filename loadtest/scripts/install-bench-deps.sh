#!/usr/bin/env bash
# Installs the reverse proxies the benchmark compares against (nginx, HAProxy)
# from Debian packages. Idempotent: a no-op when both binaries are present.
# Needs root (or sudo) and access to the Debian mirrors.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

if have nginx && have haproxy; then
  echo "install-bench-deps: nginx and haproxy already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-bench-deps: need root or sudo to apt-get install nginx haproxy" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
pkgs=()
if ! have nginx; then
  # nginx-light is the small build (Debian <= 12); newer releases only ship nginx.
  if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
fi
if ! have haproxy; then pkgs+=(haproxy); fi
$SUDO apt-get install -y --no-install-recommends "${pkgs[@]}"

# The packages may start system services on ports 80/443; the bench runs its
# own instances on free ports, so stop them if they were started (best effort).
if command -v service >/dev/null 2>&1; then
  $SUDO service nginx stop >/dev/null 2>&1 || true
  $SUDO service haproxy stop >/dev/null 2>&1 || true
fi
echo "install-bench-deps: done ($(command -v nginx || echo /usr/sbin/nginx), $(command -v haproxy || echo /usr/sbin/haproxy))"
