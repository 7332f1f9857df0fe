#!/usr/bin/env bash
# Starts Podman's API service for zynd-collector's tests and development, idempotently.
#
# - Writes /etc/containers/containers.conf with the ulimits Podman needs on these machines
#   (without them every `podman run` fails with "error setting rlimit type 7") ONLY when the
#   file is missing; an existing file is left in place as it is, never edited or removed (and
#   scripts/stop-podman.sh leaves the written one in place too).
# - If the socket ($PODMAN_SOCKET, default /run/podman/podman.sock) already answers /_ping:
#   exit 0 and touch nothing (a service someone else started is never recorded as ours).
# - A socket that does not answer within 3 s is removed only when no live process holds it
#   (no listener in `ss -xlp`, no process in `fuser`, and not our recorded pid): a slow but live
#   service keeps its socket, and the script waits for it to answer (up to 30 s) instead of
#   starting a second one.
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

# The pids of live processes that hold the socket (listen on it or have it open), if any.
socket_holders() {
  local pids=""
  if command -v ss >/dev/null 2>&1; then
    pids+=" $(ss -xlpH 2>/dev/null | awk -v s="$SOCK" '$5 == s' \
              | grep -o 'pid=[0-9]*' | cut -d= -f2 | tr '\n' ' ' || true)"
  fi
  if command -v fuser >/dev/null 2>&1; then
    pids+=" $(fuser "$SOCK" 2>/dev/null || true)"
  fi
  local p
  # Succeeds whatever the last pid's state (under pipefail a dead last pid must not hide a live
  # one found before it).
  for p in $pids; do
    if kill -0 "$p" 2>/dev/null; then echo "$p"; fi
  done | sort -u | tr '\n' ' '
  return 0
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
elif [ -S "$SOCK" ] && holders="$(socket_holders)" && [ -n "${holders// /}" ]; then
  # Slow but alive (under load the service can take longer than 3 s to answer): never pull
  # its socket away; wait for it below like for our own.
  log "$SOCK does not answer yet but is held by live process(es) $holders; waiting for it"
  end=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$end" ]; do
    if ping_ok; then
      log "podman answers on $SOCK"
      exit 0
    fi
    sleep 0.5
  done
  log "$SOCK held by $holders did not answer /_ping within 30 s; not removing it (stop that" \
      "service first)"
  exit 1
else
  rm -f "$PIDFILE"
  if [ -S "$SOCK" ]; then
    log "removing stale socket $SOCK (no live process holds it)"
    rm -f "$SOCK"
  fi
  mkdir -p "$(dirname "$SOCK")" "$(dirname "$LOG")"
  log "starting podman system service on $SOCK, log $LOG"
  # setsid: the service must outlive the shell (and CI step) that started it.
  setsid podman system service --time=0 "unix://$SOCK" </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
fi

pid="$(cat "$PIDFILE")"
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ]; do
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
