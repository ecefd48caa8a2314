#!/usr/bin/env bash
# The smbx failover demo, in one screen: a local smbxd serves a continuously
# available share (persistent handles in its state store), mount.smbx mounts
# it, a writer writes steadily (1 MiB writes, fsync every 8 MiB) and smbxd is
# killed with -9 and restarted twice under it. Printed: each failover's
# application-visible stall, the server's restart time, and the sha256 of
# the file on the share against what the writer wrote.
#
#   tools/demo.sh [--build-dir DIR] [--no-deps] [--kills N] [--rate MIB/S]
#
# On a fresh Debian 12 it first runs packaging/install-deps.sh and builds the
# release preset (build/release) unless the binaries are there. Needs root
# (a private network namespace and a FUSE mount; it re-runs itself with sudo
# otherwise). Everything runs in that namespace, on a tmpfs, and is removed
# on exit, also on failure or Ctrl-C. Exit status 0 when no byte was lost and
# the writer saw no error.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$src/build/release
deps=1
kills=2
rate=32
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --kills) kills=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
build_dir=$(cd "$build_dir" 2>/dev/null && pwd || echo "$build_dir")

now_ms() { date +%s%3N; }
die() { echo "demo.sh: $*" >&2; exit 1; }
# shellcheck source=../tests/lib/listening.sh
source "$src/tests/lib/listening.sh"

# ---- inside the namespace: the demo itself -----------------------------------------
if [[ -n ${DEMO_INSIDE:-} ]]; then
  work=$DEMO_WORK
  smbxd=$build_dir/tools/smbxd
  mount_smbx=$build_dir/tools/mount.smbx
  smbxctl=$build_dir/tools/smbxctl
  writer=$src/tests/failover/writer.py
  mnt=$work/mnt
  sock=$work/smbxd.sock
  user=demo
  password="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  smbxd_pid=""
  writer_pid=""
  inside_cleanup() {
    local rc=$?
    [[ -z $writer_pid ]] || kill -TERM "$writer_pid" 2>/dev/null || true
    [[ -z $writer_pid ]] || wait "$writer_pid" 2>/dev/null || true
    if mountpoint -q "$mnt" 2>/dev/null; then timeout 5 umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; fi
    if [[ -n $smbxd_pid ]]; then kill -TERM "$smbxd_pid" 2>/dev/null || true; wait "$smbxd_pid" 2>/dev/null || true; fi
    exit "$rc"
  }
  trap inside_cleanup EXIT
  trap 'exit 130' INT TERM

  start_smbxd() {  # sets restart_ms: from exec to accepting connections
    local t0
    t0=$(now_ms)
    "$smbxd" --listen 127.0.0.1:445 --share "data=$work/share,ca" --state-dir "$work/state" --control "$sock" \
      --user "$user:$password" --log info >>"$work/smbxd.log" 2>&1 &
    smbxd_pid=$!
    local rc=0
    wait_listening "$smbxd_pid" 445 400 0.01 || rc=$?
    if [[ $rc -eq 0 ]]; then restart_ms=$(($(now_ms) - t0)); return 0; fi
    [[ $rc -eq 1 ]] && { tail -n 5 "$work/smbxd.log" >&2; die "smbxd exited at start"; }
    die "smbxd did not accept connections within 4 s"
  }

  mkdir -p "$mnt" "$work/state"
  start_smbxd
  printf 'username=%s\npassword=%s\n' "$user" "$password" >"$work/credentials"
  chmod 600 "$work/credentials"
  timeout 30 "$mount_smbx" //127.0.0.1/data "$mnt" -o "credentials=$work/credentials,hard" --log "$work/mount.log" \
    >"$work/mount.out" 2>&1 || { cat "$work/mount.out" >&2; die "mount.smbx failed"; }

  echo "smbxd serves a continuously available share; mount.smbx mounted it on $mnt."
  echo "A writer writes ${rate} MiB/s to it (1 MiB writes, fsync every 8 MiB); smbxd is killed"
  echo "with -9 and restarted $kills times under it."
  echo
  python3 "$writer" write "$mnt/demo.bin" --copy "$work/written.copy" --chunk 1048576 --fsync-every 8 \
    --rate-mbps "$rate" --stop-file "$work/stop" --gaps "$work/gaps.log" --gap-ms 20 >"$work/writer.out" 2>&1 &
  writer_pid=$!
  sleep 3
  kill_ms=()
  restarts=()
  for k in $(seq "$kills"); do
    kill -0 "$writer_pid" 2>/dev/null || die "the writer stopped early: $(cat "$work/writer.out")"
    kill_ms+=("$(now_ms)")
    kill -KILL "$smbxd_pid"
    wait "$smbxd_pid" 2>/dev/null || true
    start_smbxd
    restarts+=("$restart_ms")
    sleep 3
  done
  end_ms=$(now_ms)
  touch "$work/stop"
  writer_rc=0
  wait "$writer_pid" || writer_rc=$?
  writer_pid=""

  # The stall of failover k: the longest pause between two successful
  # writes that ended after the kill and before the next one.
  stall_of() {
    local from=$1 to=$2
    awk -v from="$from" -v to="$to" '$1 == "gap" && $2 >= from && $2 < to && $3 > max { max = $3 } END { print max + 0 }' \
      "$work/gaps.log"
  }
  baseline=$(awk -v to="${kill_ms[0]}" '$1 == "gap" && $2 < to && $3 > max { max = $3 } END { print max + 0 }' "$work/gaps.log")
  printf '  %-12s %16s %20s\n' "failover" "smbxd restart" "application stall"
  for k in $(seq "$kills"); do
    next=$end_ms
    [[ $k -lt $kills ]] && next=${kill_ms[$k]}
    printf '  %-12s %13s ms %17s ms\n' "kill -9 #$k" "${restarts[$((k - 1))]}" "$(stall_of "${kill_ms[$((k - 1))]}" "$next")"
  done
  echo "  (longest pause between writes before the first kill: ${baseline} ms)"
  read -r _ bytes _ _ _ errors _ _ <"$work/writer.out" || true
  echo
  seen=$(awk '$1 == "error" { print $4 }' "$work/gaps.log" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
  echo "  writer: $((${bytes:-0} / 1048576)) MiB written, ${errors:-?} error(s) seen by the application${seen:+ ($seen)}"
  want=$(sha256sum "$work/written.copy" | cut -d' ' -f1)
  got=$(sha256sum "$work/share/demo.bin" | cut -d' ' -f1)
  echo "  sha256 written by the application: $want"
  echo "  sha256 of the file on the share:   $got"
  reconnects=$("$smbxctl" status "$mnt" 2>/dev/null | sed -n 's/^reconnects: //p' || true)
  [[ -z $reconnects ]] || echo "  mount.smbx reconnects: $reconnects"
  umount "$mnt" || true
  echo
  if [[ $writer_rc -eq 0 && $want == "$got" ]]; then
    echo "RESULT: $kills kill -9 failovers, no error, no byte lost."
    exit 0
  fi
  echo "RESULT: FAILED ($([[ $want == "$got" ]] && echo "writer errors: ${errors:-?}" || echo "the file on the share differs"))."
  echo "        logs: $work/smbxd.log $work/mount.log (kept)"
  exit 1
fi

# ---- outside: dependencies, build, namespace ----------------------------------------
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "needs root (network namespace, FUSE mount)"
  exec sudo -E "$0" --build-dir "$build_dir" $([[ $deps -eq 1 ]] || echo --no-deps) --kills "$kills" --rate "$rate"
fi
if [[ $deps -eq 1 ]]; then
  deps_out=$("$src/packaging/install-deps.sh" 2>&1) || { echo "$deps_out" | tail -n 20 >&2; die "packaging/install-deps.sh failed"; }
  echo "$deps_out" | tail -n 1
fi
if [[ ! -x $build_dir/tools/smbxd || ! -x $build_dir/tools/mount.smbx || ! -x $build_dir/tools/smbxctl ]]; then
  [[ $build_dir == "$src/build/release" ]] || die "$build_dir/tools lacks smbxd, mount.smbx or smbxctl"
  echo "demo.sh: building the release preset (build/release; the log is build/release-demo.log)..."
  mkdir -p "$src/build"
  (cd "$src" && cmake --preset release && cmake --build --preset release --target smbxd mount.smbx smbxctl) \
    >"$src/build/release-demo.log" 2>&1 || { tail -n 30 "$src/build/release-demo.log" >&2; die "the build failed"; }
fi
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"

work=$(mktemp -d /tmp/smbx-demo.XXXXXX)
chmod 755 "$work"
ns="smbx-demo-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
outer_cleanup() {
  local rc=$?
  local p
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  if mountpoint -q "$work/share" 2>/dev/null; then umount "$work/share" 2>/dev/null || umount -l "$work/share" || true; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "demo.sh: kept $work for its logs" >&2; fi
}
trap outer_cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$work/share"
mount -t tmpfs -o size=4g,mode=0777 smbx-demo "$work/share"
DEMO_INSIDE=1 DEMO_WORK=$work ip netns exec "$ns" bash "$0" --build-dir "$build_dir" --no-deps --kills "$kills" --rate "$rate"
