#!/usr/bin/env bash
# Builds zynd-test-busybox:latest (tests/images/busybox/Dockerfile) FROM scratch with the static
# busybox of Debian's busybox-static. Idempotent: skips when the image exists, unless --force.
# Needs a running engine (scripts/start-dockerd.sh). Uses Debian's docker.io client with the
# legacy builder (DOCKER_BUILDKIT=0): no registry is reachable here.
set -euo pipefail

IMAGE="${ZC_TEST_IMAGE:-zynd-test-busybox:latest}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DOCKER=/usr/bin/docker
SOCK="${DOCKER_SOCKET:-/var/run/docker.sock}"
export DOCKER_HOST="unix://$SOCK"
force=0
[ "${1:-}" = "--force" ] && force=1

log() { echo "build-test-image: $*" >&2; }

if [ $force -eq 0 ] && $DOCKER image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE exists"
  exit 0
fi
if ! dpkg -s busybox-static >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi

ctx="$(mktemp -d /tmp/zc-image-XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
cp "$HERE/tests/images/busybox/Dockerfile" "$ctx/Dockerfile"
cp /bin/busybox "$ctx/busybox"
log "building $IMAGE"
DOCKER_BUILDKIT=0 $DOCKER build -q -t "$IMAGE" "$ctx" >/dev/null
log "built $IMAGE"
