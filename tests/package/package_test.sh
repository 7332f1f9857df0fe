#!/usr/bin/env bash
# The install layout and the Debian package end to end, on this machine (root; ctest label
# "package"):
#   cmake --install into a temporary prefix -> the binary, reached through a symbolic link from
#   elsewhere, finds the installed plugins -> cpack -G DEB in the build folder -> the .deb's
#   files, dependencies and conffile -> lintian reports no error -> dpkg -i (user, data folder, unit enabled but not started) ->
#   systemd-analyze verify accepts the installed unit -> check-config accepts the installed
#   configuration -> the installed binary run the way the unit's ExecStart runs it (as the
#   service user, with NOTIFY_SOCKET) serves /, /readyz, /metrics, /api/openapi.json and reports READY=1 ->
#   dpkg -r keeps the data and the configuration -> dpkg --purge removes both.
# Whatever it installed is purged on any exit (and the system user removed when it made it).
# Exit 77 (skipped) without root or the tools, unless ZC_REQUIRE_PACKAGE=1.
#   tests/package/package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
pkg=zynd-collector
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  if [[ "${ZC_REQUIRE_PACKAGE:-0}" == 1 ]]; then fail "$* (ZC_REQUIRE_PACKAGE=1)"; fi
  echo "SKIP: $*"; exit 77
}

[[ $(id -u) == 0 ]] || skip "dpkg -i needs root"
for tool in cpack dpkg-deb dpkg-shlibdeps lintian systemd-analyze python3 curl setpriv; do
  command -v "$tool" >/dev/null || skip "$tool missing (scripts/install-deps.sh --test)"
done
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed"; then
  fail "$pkg is already installed here: not touching it"
fi

tmp=$(mktemp -d /tmp/zc-package-test.XXXXXX)
chmod 755 "$tmp"
user_existed=0
getent passwd "$pkg" >/dev/null && user_existed=1
daemon_pid=""
receiver_pid=""
cleanup() {
  local rc=$?
  [[ -n "$daemon_pid" ]] && kill -KILL "$daemon_pid" 2>/dev/null || true
  [[ -n "$receiver_pid" ]] && kill -KILL "$receiver_pid" 2>/dev/null || true
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv "not-installed"; then
    dpkg --purge "$pkg" >/dev/null 2>&1 || echo "cleanup: dpkg --purge $pkg failed" >&2
  fi
  if ((!user_existed)) && getent passwd "$pkg" >/dev/null; then
    userdel "$pkg" 2>/dev/null || true
  fi
  if ((!user_existed)) && getent group "$pkg" >/dev/null; then groupdel "$pkg" 2>/dev/null || true; fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

# dpkg takes a lock other installs may hold for a while: retried, bounded.
dpkg_locked() {
  local i
  for i in $(seq 1 60); do
    if out=$("$@" 2>&1); then echo "$out"; return 0; fi
    if ! grep -q "lock" <<<"$out"; then echo "$out" >&2; return 1; fi
    sleep 2
  done
  echo "$out" >&2
  return 1
}

step "cmake --install into a prefix, run through a symbolic link"
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null || fail "cmake --install"
for f in bin/zynd-collector lib/zynd-collector/plugins/zc_storage_rocksdb.so \
         share/zynd-collector/web/index.html etc/zynd-collector/collector.properties \
         lib/systemd/system/zynd-collector.service; do
  [[ -f "$tmp/prefix/$f" ]] || fail "cmake --install: no $f"
done
mkdir -p "$tmp/elsewhere"
ln -s "$tmp/prefix/bin/zynd-collector" "$tmp/elsewhere/zynd-collector"
(cd / && "$tmp/elsewhere/zynd-collector" plugins --runtime none) >"$tmp/plugins.txt" || \
  fail "plugins through a link"
grep -q "$tmp/prefix/lib/zynd-collector/plugins/zc_storage_rocksdb.so" "$tmp/plugins.txt" || \
  { cat "$tmp/plugins.txt"; fail "the linked binary did not find the installed plugins"; }

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack"; }
deb=$(ls "$tmp"/out/${pkg}_*.deb)
echo "$deb"

step "contents, dependencies, conffiles"
dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/zynd-collector ./usr/lib/zynd-collector/plugins/zc_storage_rocksdb.so \
         ./usr/lib/zynd-collector/plugins/zc_runtime_docker.so \
         ./usr/share/zynd-collector/web/index.html ./etc/zynd-collector/collector.properties \
         ./lib/systemd/system/zynd-collector.service ./usr/share/doc/zynd-collector/copyright; do
  grep -q " $f\$" "$tmp/contents" || fail "$f is not in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for d in adduser libc6 librocksdb libpoco; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d (shlibdeps)"
done
dpkg-deb -e "$deb" "$tmp/control"
grep -qx "/etc/zynd-collector/collector.properties" "$tmp/control/conffiles" || fail "conffiles"

step "lintian"
lintian --fail-on error "$deb" | tee "$tmp/lintian.log" || \
  fail "lintian reports errors"

step "dpkg -i"
dpkg_locked dpkg -i "$deb" >/dev/null || fail "dpkg -i"
getent passwd "$pkg" >/dev/null || fail "no system user $pkg"
[[ $(stat -c '%U:%G %a' /var/lib/zynd-collector) == "$pkg:$pkg 750" ]] || \
  fail "/var/lib/zynd-collector: $(stat -c '%U:%G %a' /var/lib/zynd-collector)"
[[ -L /etc/systemd/system/multi-user.target.wants/zynd-collector.service ]] || \
  fail "the unit is not enabled"
if pgrep -x zynd-collector -u "$pkg" >/dev/null; then fail "the install started the daemon"; fi

step "systemd-analyze verify"
unit=/lib/systemd/system/zynd-collector.service
systemd-analyze verify "$unit" 2>&1 | tee "$tmp/verify.log"
[[ ${PIPESTATUS[0]} == 0 ]] || fail "systemd-analyze verify"

step "check-config of the installed configuration"
/usr/bin/zynd-collector check-config --config /etc/zynd-collector/collector.properties || \
  fail "check-config"

step "the installed binary as the unit's ExecStart runs it"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ "$exec_start" == "/usr/bin/zynd-collector --config /etc/zynd-collector/collector.properties" ]] || \
  fail "ExecStart is '$exec_start'"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
groups=(--clear-groups)
getent group docker >/dev/null && groups=(--groups docker)
as_service=(setpriv --reuid "$pkg" --regid "$pkg" "${groups[@]}" --no-new-privs)
runtime_env=()
if ! "${as_service[@]}" curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://docker/_ping \
     >/dev/null 2>&1; then
  echo "(no Docker engine the service user can reach: --runtime none)"
  runtime_env=(ZC_RUNTIME=none)
fi
# systemd's notify socket, played by a datagram socket that records what it receives.
python3 - "$tmp/notify.sock" "$tmp/notify.log" <<'PY' &
import socket, sys, os, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
s.settimeout(1.0)
end = time.time() + 60
with open(sys.argv[2], "a") as log:
    while time.time() < end:
        try:
            log.write(s.recv(4096).decode() + "\n"); log.flush()
        except socket.timeout:
            pass
PY
receiver_pid=$!
for _ in $(seq 1 50); do [[ -S "$tmp/notify.sock" ]] && break; sleep 0.1; done
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$tmp/notify.sock" \
  ZC_LISTEN="127.0.0.1:$port" "${runtime_env[@]}" \
  "${as_service[@]}" $exec_start 2>"$tmp/daemon.log" &
daemon_pid=$!
url="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 300); do  # 30 s
  code=$(curl -s -o "$tmp/readyz" -w '%{http_code}' --max-time 2 "$url/readyz" || true)
  if [[ "$code" == 200 ]]; then ready=1; break; fi
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/daemon.log"; fail "the daemon exited"; }
  sleep 0.1
done
((ready)) || { cat "$tmp/daemon.log"; fail "/readyz never 200 (last: $code $(cat "$tmp/readyz"))"; }
grep -q '"ready":true' "$tmp/readyz" || fail "/readyz body: $(cat "$tmp/readyz")"
# Each body to a file first: `curl | grep -q` fails under pipefail when grep stops reading early.
fetch() { curl -fsS --max-time 5 -o "$tmp/body" "$url$1" || fail "GET $1"; }
fetch /; grep -qi "<html" "$tmp/body" || fail "/ is not the list page"
fetch /metrics; grep -q "^zynd_collector_" "$tmp/body" || fail "/metrics"
fetch /healthz; grep -q '"status":"ok"' "$tmp/body" || fail "/healthz"
fetch /api/openapi.json; grep -q '"openapi":"3.1' "$tmp/body" || fail "/api/openapi.json"
for _ in $(seq 1 50); do grep -q "READY=1" "$tmp/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q "READY=1" "$tmp/notify.log" || fail "no READY=1 on NOTIFY_SOCKET: $(cat "$tmp/notify.log")"
kill -TERM "$daemon_pid"
rc=0
for _ in $(seq 1 150); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon_pid" 2>/dev/null && fail "the daemon did not stop within 15 s of SIGTERM"
wait "$daemon_pid" || rc=$?
daemon_pid=""
((rc == 0)) || { cat "$tmp/daemon.log"; fail "the daemon exited $rc"; }
for _ in $(seq 1 20); do grep -q "STOPPING=1" "$tmp/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q "STOPPING=1" "$tmp/notify.log" || fail "no STOPPING=1"
kill -TERM "$receiver_pid" 2>/dev/null || true
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=""
[[ -f /var/lib/zynd-collector/CURRENT ]] || fail "no RocksDB data in /var/lib/zynd-collector"
[[ $(stat -c %U /var/lib/zynd-collector/CURRENT) == "$pkg" ]] || fail "data not owned by $pkg"

step "dpkg -r keeps the data and the configuration"
dpkg_locked dpkg -r "$pkg" >/dev/null || fail "dpkg -r"
[[ ! -e /usr/bin/zynd-collector ]] || fail "/usr/bin/zynd-collector left after dpkg -r"
[[ -f /var/lib/zynd-collector/CURRENT ]] || fail "dpkg -r removed the data"
[[ -f /etc/zynd-collector/collector.properties ]] || fail "dpkg -r removed the conffile"

step "dpkg --purge removes them"
dpkg_locked dpkg --purge "$pkg" >/dev/null || fail "dpkg --purge"
[[ ! -e /var/lib/zynd-collector ]] || fail "/var/lib/zynd-collector left after purge"
[[ ! -e /etc/zynd-collector ]] || fail "/etc/zynd-collector left after purge"
echo "PASS"
