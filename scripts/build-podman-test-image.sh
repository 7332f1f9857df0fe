#!/usr/bin/env bash
# Builds zynd-test-busybox:latest for Podman (its own image store) from the same Dockerfile as
# scripts/build-test-image.sh (tests/images/busybox/Dockerfile, FROM scratch with Debian's static
# busybox), with `podman build --network none` (no registry here; a RUN step with networking
# would make netavark add iptables chains). Idempotent: skips when the image exists, unless
# --force. Needs podman (scripts/start-podman.sh installs it).
set -euo pipefail

IMAGE="${ZC_TEST_IMAGE:-zynd-test-busybox:latest}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
force=0
[ "${1:-}" = "--force" ] && force=1

log() { echo "build-podman-test-image: $*" >&2; }

if [ $force -eq 0 ] && podman image exists "$IMAGE" 2>/dev/null; then
  log "$IMAGE exists"
  exit 0
fi
if ! dpkg -s busybox-static >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi

ctx="$(mktemp -d /tmp/zc-podman-image-XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
cp "$HERE/tests/images/busybox/Dockerfile" "$ctx/Dockerfile"
cp /bin/busybox "$ctx/busybox"
log "building $IMAGE"
podman build --network none -q -t "$IMAGE" "$ctx" >/dev/null
log "built $IMAGE"
