#!/usr/bin/env bash
# Starts Podman's API service for zynd-collector's tests and development, idempotently.
#
# - Writes /etc/containers/containers.conf with the ulimits Podman needs on these machines
#   (without them every `podman run` fails with "error setting rlimit type 7"), only when the
#   file does not exist.
# - If the socket ($PODMAN_SOCKET, default /run/podman/podman.sock) already answers /_ping:
#   exit 0 and touch nothing (a service someone else started is never recorded as ours).
# - Otherwise installs podman and busybox-static with apt-get only when missing, starts
#   `podman system service --time=0 unix://<socket>` in the background, records its pid in
#   $ZC_PODMAN_PIDFILE (default /tmp/zc-podman.pid), logs to $ZC_PODMAN_LOG (default
#   /tmp/zc-podman.log) and waits up to 30 s for /_ping.
# scripts/stop-podman.sh stops only a service recorded in that pid file.
set -euo pipefail

SOCK="${PODMAN_SOCKET:-/run/podman/podman.sock}"
PIDFILE="${ZC_PODMAN_PIDFILE:-/tmp/zc-podman.pid}"
LOG="${ZC_PODMAN_LOG:-/tmp/zc-podman.log}"
CONF=/etc/containers/containers.conf

log() { echo "start-podman: $*" >&2; }

ping_ok() {
  [ -S "$SOCK" ] || return 1
  curl -fsS --max-time 3 --unix-socket "$SOCK" http://podman/_ping >/dev/null 2>&1
}

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v podman >/dev/null 2>&1 || missing+=(podman)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -e "$CONF" ]; then
  log "writing $CONF (default_ulimits)"
  mkdir -p "$(dirname "$CONF")"
  printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n' >"$CONF"
fi

if ping_ok; then
  log "podman already answers on $SOCK"
  exit 0
fi

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null \
   && grep -q podman "/proc/$(cat "$PIDFILE")/comm" 2>/dev/null; then
  log "podman service $(cat "$PIDFILE") (started by this script) is starting"
else
  rm -f "$PIDFILE"
  [ -S "$SOCK" ] && rm -f "$SOCK"
  mkdir -p "$(dirname "$SOCK")" "$(dirname "$LOG")"
  log "starting podman system service on $SOCK, log $LOG"
  # setsid: the service must outlive the shell (and CI step) that started it.
  setsid podman system service --time=0 "unix://$SOCK" </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
fi

pid="$(cat "$PIDFILE")"
for _ in $(seq 1 60); do
  if ping_ok; then
    log "podman ready on $SOCK (pid $pid)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "podman service exited during start-up; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.5
done
log "podman service $pid did not answer /_ping within 30 s; see $LOG"
exit 1
