# shellcheck shell=bash
# Shared by the failover tests (sourced, not run). Builds on tests/fs/lib.sh
# (fs_mount, fs_umount, fail, note, now_ms, ...). A test script is
#
#   source "$(dirname "$0")/lib.sh"
#   scenario() { fo_start_smbxd; fs_mount -o hard; ...; fo_kill_smbxd; fo_start_smbxd; ...; fs_umount; }
#   fo_main scenario
#
# and is run as
#
#   TEST.sh --mount PATH/mount.smbx --smbxd PATH/smbxd --smbxctl PATH/smbxctl [TEST ARGS...]
#
# fo_main (outside) makes a private network namespace, a tmpfs for the share
# (SHARE_PATH) and one for scratch files (SCRATCH), then runs the script
# again inside the namespace (`ip netns exec`: also a private mount
# namespace). There the scenario starts, kills and restarts smbxd itself, on
# 127.0.0.1:445 with a continuously available share and a state directory:
#
#   smbxd --share data=SHARE_PATH,ca --state-dir STATE_DIR --control SOCK ...
#
# and mounts it with mount.smbx (fs_mount). Everything is stopped by PID and
# removed on exit, also on failure.
# Environment: SMBX_TEST_KEEP=1 keeps the scratch directory (smbxd.log, mount.log).

# shellcheck source=../fs/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../fs/lib.sh"

fo_smbxctl=${FO_SMBXCTL:-}
fo_args=()
if [[ -z ${FS_INSIDE:-} ]]; then
  set -- "${test_args[@]}"
  while [[ $# -gt 0 ]]; do
    case $1 in
      --smbxctl) fo_smbxctl=$2; shift 2 ;;
      *) fo_args+=("$1"); shift ;;
    esac
  done
  [[ $fs_server == smbxd ]] || fail "usage: $0 --mount PATH/mount.smbx --smbxd PATH/smbxd --smbxctl PATH/smbxctl"
  [[ -n $fo_smbxctl && -x $fo_smbxctl ]] || fail "--smbxctl ${fo_smbxctl:-PATH} is not executable"
  fo_smbxctl=$(cd "$(dirname "$fo_smbxctl")" && pwd)/$(basename "$fo_smbxctl")
  smbxd=$(cd "$(dirname "$smbxd")" && pwd)/$(basename "$smbxd")
else
  fo_args=("${test_args[@]}")
fi

# ---- outside ----------------------------------------------------------------------
fo_outer_cleanup() {
  local rc=$?
  # The inner script stops its smbxd; should it have died first, the
  # namespace's processes are ours to end (by PID, found by namespace).
  if [[ -n ${fo_ns:-} ]]; then
    local p
    for p in $(ip netns pids "$fo_ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$fo_ns" 2>/dev/null || true
  fi
  local m
  for m in "$work/share" "$work/scratch"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" 2>/dev/null || umount -l "$m" || true; fi
  done
  if [[ -n ${SMBX_TEST_KEEP:-} || $rc -ne 0 && -n ${SMBX_TEST_KEEP_FAILED:-} ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}

fo_main() {
  local scenario=$1
  if [[ -n ${FS_INSIDE:-} ]]; then
    fs_inside_setup
    trap fo_inside_cleanup EXIT
    "$scenario"
    return
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-fo.XXXXXX")
  chmod 755 "$work"
  trap fo_outer_cleanup EXIT
  trap 'exit 130' INT TERM
  fo_ns="smbx-fo-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  ip netns add "$fo_ns" || fail "ip netns add"
  ip -n "$fo_ns" link set lo up || fail "cannot bring up lo in $fo_ns"
  mkdir -p "$work/share" "$work/scratch" "$work/state"
  mount -t tmpfs -o "size=${FO_SHARE_SIZE:-4g},mode=0777" smbx-fo-share "$work/share" || fail "mount tmpfs"
  mount -t tmpfs -o "size=${FO_SCRATCH_SIZE:-3g},mode=0755" smbx-fo-scratch "$work/scratch" || fail "mount tmpfs"
  NETNS=$fo_ns HOST=127.0.0.1 PORT=445 USER=smbxfo DOMAIN=SMBXTEST SHARE=data SECRET_SHARE="" SECRET_PATH=""
  SHARE_PATH=$work/share
  PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  export NETNS HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE SHARE_PATH SECRET_PATH
  local rc=0
  FS_INSIDE=1 FS_WORK=$work FS_MOUNT_SMBX=$mount_smbx FS_POSIX_SUITE="" FS_PEER=$fs_peer FS_SERVER=smbxd \
    FS_TEST_ARGS="${fo_args[*]}" FO_SMBXD=$smbxd FO_SMBXCTL=$fo_smbxctl \
    ip netns exec "$fo_ns" bash "$0" || rc=$?
  if [[ $rc -ne 0 ]]; then
    [[ -s $work/mount.log ]] && { echo "---- last lines of the mount log:" >&2; tail -n 40 "$work/mount.log" >&2; }
    [[ -s $work/smbxd.log ]] && { echo "---- last lines of the smbxd log:" >&2; tail -n 30 "$work/smbxd.log" >&2; }
  fi
  return "$rc"
}

# ---- inside: smbxd ------------------------------------------------------------------
SCRATCH=${FS_WORK:-}/scratch
STATE_DIR=${FS_WORK:-}/state
SOCK=${FS_WORK:-}/smbxd.sock
smbxd_pid=""
smbxd_start_ms=""  # how long the last start took until it accepted connections

fo_inside_cleanup() {
  local rc=$?
  fs_umount_quietly
  fo_stop_smbxd
  exit "$rc"
}

# fo_start_smbxd [EXTRA SMBXD ARGS]: starts smbxd (same arguments and state
# directory every time) and waits, at most 20 s, until it accepts connections.
fo_start_smbxd() {
  local started
  started=$(now_ms)
  echo "==== smbxd start at $(date -u +%T.%3N)" >>"$work/smbxd.log"
  "$FO_SMBXD" --listen 127.0.0.1:445 --share "$SHARE=$SHARE_PATH${FO_SHARE_OPTIONS-,ca}" --state-dir "$STATE_DIR" --control "$SOCK" \
    --user "$USER:$PASSWORD" --log "${FO_SMBXD_LOG:-info}" "$@" >>"$work/smbxd.log" 2>&1 &
  smbxd_pid=$!
  local rc=0
  wait_listening "$smbxd_pid" 445 400 0.05 || rc=$?
  if [[ $rc -eq 0 ]]; then
    smbxd_start_ms=$(($(now_ms) - started))
    return 0
  fi
  [[ $rc -eq 1 ]] && { tail -n 20 "$work/smbxd.log" >&2; fail "smbxd exited at start"; }
  fail "smbxd did not accept connections within 20 s"
}

# fo_kill_smbxd: kill -9, as a crash; waits until the process is gone.
fo_kill_smbxd() {
  [[ -n $smbxd_pid ]] || fail "fo_kill_smbxd: smbxd is not running"
  kill -KILL "$smbxd_pid" 2>/dev/null || true
  wait "$smbxd_pid" 2>/dev/null || true
  echo "==== smbxd killed (-9) at $(date -u +%T.%3N)" >>"$work/smbxd.log"
  smbxd_pid=""
}

fo_stop_smbxd() {
  [[ -n $smbxd_pid ]] || return 0
  kill -TERM "$smbxd_pid" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$smbxd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$smbxd_pid" 2>/dev/null || true
  wait "$smbxd_pid" 2>/dev/null || true
  smbxd_pid=""
}

# fault WORDS...: `smbxctl server SOCK fault WORDS`; fails the test on an error.
fault() {
  "$FO_SMBXCTL" server "$SOCK" fault "$@" >"$work/fault.out" 2>&1 || { cat "$work/fault.out" >&2; fail "fault $*"; }
}

# sha FILE: its sha256.
sha() { sha256sum "$1" | cut -d' ' -f1; }

# wait_for COMMAND... : runs COMMAND every 50 ms until it succeeds (at most
# $WAIT_LIMIT_MS, default 60000); false on timeout.
wait_for() {
  local limit=${WAIT_LIMIT_MS:-60000} started
  started=$(now_ms)
  until "$@"; do
    [[ $(($(now_ms) - started)) -lt $limit ]] || return 1
    sleep 0.05
  done
}

# tree_list DIR OUT: the tree's entries (type, size, path) and every file's sha256.
tree_list() {
  (cd "$1" && find . -mindepth 1 \( -type f -printf 'f %s %p\n' \) -o \( -type d -printf 'd - %p\n' \) -o -printf '%y - %p\n' |
     LC_ALL=C sort -k3 &&
     find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) >"$2"
}

# lock_holder: a process that write-locks bytes 0-99 of $MNT/lock.dat without
# waiting and prints "locked", unlocks at the first line on its stdin and
# prints "unlocked", and ends at the second. Run in the background with stdin
# from a FIFO: lock_holder <"$fifo" >"$out" 2>&1 &
lock_holder() {
  timeout 120 python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1] + "/lock.dat", os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
print("locked", flush=True)
sys.stdin.readline()
fcntl.lockf(fd, fcntl.LOCK_UN, 100, 0)
print("unlocked", flush=True)
sys.stdin.readline()
os.close(fd)
' "$MNT"
}

# lock_probe LEN START: from a new process (so a new SMB handle), tries a
# write lock on LEN bytes at START of $MNT/lock.dat without waiting; prints
# "granted" or "refused ERRNO".
lock_probe() {
  timeout 60 python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1] + "/lock.dat", os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, int(sys.argv[2]), int(sys.argv[3]))
    print("granted")
except OSError as e:
    print("refused", e.errno)
' "$MNT" "$1" "$2" 2>&1
}
