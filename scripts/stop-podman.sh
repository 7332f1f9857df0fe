#!/usr/bin/env bash
# Stops the Podman API service that scripts/start-podman.sh started (by the pid it recorded):
# SIGTERM, wait up to 15 s, then SIGKILL. A no-op when none is recorded or it is already gone;
# never touches a service started by anything else. Containers keep running (conmon holds them).
set -euo pipefail

PIDFILE="${ZC_PODMAN_PIDFILE:-/tmp/zc-podman.pid}"
log() { echo "stop-podman: $*" >&2; }

if [ ! -f "$PIDFILE" ]; then
  log "no service started by start-podman.sh ($PIDFILE absent); nothing to do"
  exit 0
fi
pid="$(cat "$PIDFILE")"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null \
   || ! grep -q podman "/proc/$pid/comm" 2>/dev/null; then
  log "recorded podman service $pid is not running; removing $PIDFILE"
  rm -f "$PIDFILE"
  exit 0
fi
log "stopping podman service $pid"
kill -TERM "$pid"
for _ in $(seq 1 30); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; exit 0; }
  sleep 0.5
done
log "podman service $pid ignored SIGTERM for 15 s; sending SIGKILL"
kill -KILL "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
