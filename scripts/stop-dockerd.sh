#!/usr/bin/env bash
# Stops the dockerd that scripts/start-dockerd.sh started (by the pid it recorded): SIGTERM, wait
# up to 30 s, then SIGKILL. A no-op when no such engine is recorded or it is already gone; never
# touches an engine started by anything else.
set -euo pipefail

PIDFILE="${ZC_DOCKERD_PIDFILE:-/tmp/zc-dockerd.pid}"
log() { echo "stop-dockerd: $*" >&2; }

if [ ! -f "$PIDFILE" ]; then
  log "no engine started by start-dockerd.sh ($PIDFILE absent); nothing to do"
  exit 0
fi
pid="$(cat "$PIDFILE")"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null \
   || ! grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
  log "recorded dockerd $pid is not running; removing $PIDFILE"
  rm -f "$PIDFILE"
  exit 0
fi
log "stopping dockerd $pid"
kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; exit 0; }
  sleep 0.5
done
log "dockerd $pid ignored SIGTERM for 30 s; sending SIGKILL"
kill -KILL "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
