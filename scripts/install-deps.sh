#!/usr/bin/env bash
# Installs, from Debian's archive, what zynd-collector needs. Idempotent: installs only what is
# missing, and runs 'apt-get update' only when something is.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suites drive for real (Docker engine, Podman,
#                                    busybox for the test image, Caddy, Prometheus, Chromium, Node,
#                                    PostgreSQL 15)
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libpoco-dev librocksdb-dev libspdlog-dev libfmt-dev
            prometheus-cpp-dev libgtest-dev libgmock-dev libssl-dev libpq-dev libre2-dev curl ca-certificates
            zlib1g-dev dpkg-dev)
# openssl: the TLS tests make their throwaway certificates with its CLI.
# postgresql-15: the postgres sink's tests start their own server (initdb + postgres as the
# unprivileged 'postgres' user the package creates); the packaged cluster is not used.
# podman: the runtime_podman suites (scripts/start-podman.sh starts its API service).
test_pkgs=(docker.io busybox-static caddy prometheus chromium iproute2 procps python3 openssl
           postgresql-15 podman)
# The package test (tests/package): lintian checks the .deb, systemd's systemd-analyze verify
# checks the unit.
test_pkgs+=(lintian systemd)

want=("${build_pkgs[@]}")
# Node.js builds the pages (web/): Debian's only when the machine has no node/npm of its own
# (Debian's npm conflicts with a Node.js installed another way).
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
