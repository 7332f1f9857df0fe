#!/usr/bin/env bash
# Starts a Docker engine for zynd-collector's tests and development, idempotently.
#
# - If the socket ($DOCKER_SOCKET, default /var/run/docker.sock) already answers /_ping: exit 0
#   and touch nothing (an engine someone else started is never recorded as ours).
# - Otherwise installs docker.io and busybox-static with apt-get only when missing, starts dockerd
#   in the background (no systemd here), logs to $ZC_DOCKERD_LOG (default /tmp/zc-dockerd.log),
#   records its pid in $ZC_DOCKERD_PIDFILE (default /tmp/zc-dockerd.pid) and waits up to 60 s
#   for /_ping. Storage driver: overlay2 when the kernel takes it, else vfs.
# scripts/stop-dockerd.sh stops only an engine recorded in that pid file.
set -euo pipefail

SOCK="${DOCKER_SOCKET:-/var/run/docker.sock}"
PIDFILE="${ZC_DOCKERD_PIDFILE:-/tmp/zc-dockerd.pid}"
LOG="${ZC_DOCKERD_LOG:-/tmp/zc-dockerd.log}"
DATA_ROOT="${ZC_DOCKERD_DATA_ROOT:-/var/lib/docker}"
EXEC_ROOT="${ZC_DOCKERD_EXEC_ROOT:-/var/run/docker}"

log() { echo "start-dockerd: $*" >&2; }

ping_ok() {
  [ -S "$SOCK" ] || return 1
  curl -fsS --max-time 3 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1
}

if command -v curl >/dev/null 2>&1 && ping_ok; then
  log "engine already answers on $SOCK"
  exit 0
fi

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
[ -x /usr/bin/docker ] || missing+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ping_ok; then
  exit 0
fi

# A pid file of ours whose engine still runs but does not answer yet: just wait for it below.
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null \
   && grep -q dockerd "/proc/$(cat "$PIDFILE")/comm" 2>/dev/null; then
  log "dockerd $(cat "$PIDFILE") (started by this script) is starting"
else
  rm -f "$PIDFILE"
  # Any other dockerd running but not answering is not ours to touch.
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "a dockerd not started by this script runs but $SOCK does not answer; giving up"
    exit 1
  fi
  # A stale socket or pid file from a killed engine blocks a new start.
  [ -S "$SOCK" ] && rm -f "$SOCK"
  rm -f "$EXEC_ROOT/../docker.pid" /var/run/docker.pid 2>/dev/null || true

  driver="${ZC_DOCKERD_STORAGE_DRIVER:-}"
  if [ -z "$driver" ]; then
    driver=vfs
    # overlay2 needs the module and a backing filesystem that supports it: try a real mount.
    if grep -qw overlay /proc/filesystems; then
      t=$(mktemp -d /var/tmp/zc-ovl-XXXXXX)
      mkdir -p "$t"/{l,u,w,m}
      if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
        umount "$t/m"
        driver=overlay2
      fi
      rm -rf "$t"
    fi
  fi
  log "starting dockerd (storage driver $driver), log $LOG"
  mkdir -p "$(dirname "$LOG")"
  # setsid: the engine must outlive the shell (and CI step) that started it.
  setsid /usr/sbin/dockerd \
    --host "unix://$SOCK" \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$EXEC_ROOT.pid" \
    --storage-driver "$driver" \
    --log-driver json-file \
    </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
fi

pid="$(cat "$PIDFILE")"
for _ in $(seq 1 120); do
  if ping_ok; then
    log "engine ready on $SOCK (dockerd pid $pid)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "dockerd exited during start-up; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.5
done
log "dockerd $pid did not answer /_ping within 60 s; see $LOG"
exit 1
