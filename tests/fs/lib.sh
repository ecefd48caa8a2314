# Shared by the mount.smbx tests (sourced, not run). A test script is
#
#   source "$(dirname "$0")/lib.sh"      # parses the common arguments
#   scenario() { fs_mount; ...; fs_umount; }
#   fs_main scenario
#
# and is run as
#
#   TEST.sh --mount PATH/mount.smbx [--posix PATH/posix_suite] [--server samba|smbxd]
#           [--smbxd PATH/smbxd] [--peer smbx|bind|rclone] [TEST ARGS...]
#
# fs_main starts a private server (the Samba harness, tests/harness/samba.sh,
# or smbxd) in a network namespace of its own, then runs the script again
# inside that namespace (`ip netns exec`, which also gives it a private mount
# namespace) where SCENARIO mounts the share and works on it. Everything
# started is stopped on exit, even on failure: the mounts are unmounted,
# mount.smbx is killed by its PID if it is still alive, the server stopped.
#
# --peer is for checking the tests themselves: `bind` bind-mounts the share's
# directory (what a perfect client would show), `rclone` mounts with
# `rclone mount` (smb backend). Default: smbx (mount.smbx).
#
# Exit 77 (ctest SKIP) only when a prerequisite is missing from the machine.
# Environment: SMBX_TEST_KEEP=1 keeps the scratch directory (SMBX_TEST_KEEP_FAILED=1:
# only when the test failed), with mount.log, the mount.smbx log.

fs_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/listening.sh
source "$fs_lib_dir/../lib/listening.sh"
fs_harness="$fs_lib_dir/../harness/samba.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# ---- arguments ---------------------------------------------------------------
mount_smbx=""
posix_suite=""
fs_server=samba
smbxd=""
fs_peer=${SMBX_FS_PEER:-smbx}
test_args=()
if [[ -z ${FS_INSIDE:-} ]]; then
  while [[ $# -gt 0 ]]; do
    case $1 in
      --mount) mount_smbx=$2; shift 2 ;;
      --posix) posix_suite=$2; shift 2 ;;
      --server) fs_server=$2; shift 2 ;;
      --smbxd) smbxd=$2; fs_server=smbxd; shift 2 ;;
      --peer) fs_peer=$2; shift 2 ;;
      *) test_args+=("$1"); shift ;;
    esac
  done
  case $fs_peer in
    smbx)
      [[ -n $mount_smbx ]] || fail "usage: $0 --mount PATH/mount.smbx [...]"
      [[ -x $mount_smbx ]] || fail "$mount_smbx is not executable"
      mount_smbx=$(cd "$(dirname "$mount_smbx")" && pwd)/$(basename "$mount_smbx") ;;
    bind) ;;
    rclone) command -v rclone >/dev/null || skip "rclone is not installed" ;;
    *) fail "unknown --peer $fs_peer (smbx, bind or rclone)" ;;
  esac
  if [[ -n $posix_suite ]]; then
    [[ -x $posix_suite ]] || fail "$posix_suite is not executable"
    posix_suite=$(cd "$(dirname "$posix_suite")" && pwd)/$(basename "$posix_suite")
  fi
  [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, mounts)"
  command -v ip >/dev/null || skip "iproute2 is not installed"
  [[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
  command -v smbclient >/dev/null || skip "smbclient is not installed"
  case $fs_server in
    samba) why=$("$fs_harness" check 2>&1) || skip "${why#samba.sh: }" ;;
    smbxd) [[ -x $smbxd ]] || fail "--smbxd $smbxd is not executable" ;;
    *) fail "unknown --server $fs_server" ;;
  esac
else
  # Inside: the outer run passed everything in the environment.
  read -r -a test_args <<< "${FS_TEST_ARGS:-}"
  mount_smbx=$FS_MOUNT_SMBX posix_suite=$FS_POSIX_SUITE fs_peer=$FS_PEER fs_server=$FS_SERVER
fi

# ---- the outer run: scratch directory, server, re-run inside the namespace ----
fs_outer_cleanup() {
  local rc=$?
  if [[ -n ${smbxd_pid:-} ]] && kill -0 "$smbxd_pid" 2>/dev/null; then
    kill -TERM "$smbxd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$smbxd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$smbxd_pid" 2>/dev/null || true
  fi
  if [[ -n ${smbxd_ns:-} ]]; then ip netns del "$smbxd_ns" 2>/dev/null || true; fi
  if [[ -n ${smbxd_share:-} ]] && mountpoint -q "$smbxd_share"; then umount "$smbxd_share" || umount -l "$smbxd_share" || true; fi
  "$fs_harness" stop "$work/samba" >/dev/null 2>&1 || true
  if [[ -n ${SMBX_TEST_KEEP:-} || $rc -ne 0 && -n ${SMBX_TEST_KEEP_FAILED:-} ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}

start_samba_server() {
  "$fs_harness" start "$work/samba" >"$work/harness.out" 2>&1 || { cat "$work/harness.out" >&2; fail "the Samba harness did not start"; }
  # shellcheck disable=SC1091
  source "$work/samba/env"
  export NETNS HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE SHARE_PATH SECRET_PATH
}

# smbxd on 127.0.0.1:445 in its own namespace, over a tmpfs share (sparse,
# like the harness'), with the same variables as the harness' env file.
start_smbxd_server() {
  smbxd_ns="smbx-f-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  ip netns add "$smbxd_ns" || fail "ip netns add"
  ip -n "$smbxd_ns" link set lo up || fail "cannot bring up lo in $smbxd_ns"
  smbxd_share=$work/smbxd-share
  mkdir -p "$smbxd_share"
  mount -t tmpfs -o "size=${SMB_TMPFS_SIZE:-8g},mode=0777" smbx-fs-smbxd "$smbxd_share" || fail "mount tmpfs"
  NETNS=$smbxd_ns HOST=127.0.0.1 PORT=445 USER=smbxfs DOMAIN=SMBXTEST SHARE=plain SECRET_SHARE="" SHARE_PATH=$smbxd_share SECRET_PATH=""
  PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  export NETNS HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE SHARE_PATH SECRET_PATH
  ip netns exec "$NETNS" "$smbxd" --listen 127.0.0.1:445 --share "$SHARE=$SHARE_PATH" --user "$USER:$PASSWORD" \
    >"$work/smbxd.log" 2>&1 &
  smbxd_pid=$!
  wait_listening -n "$NETNS" "$smbxd_pid" 445 && return 0
  [[ $? -eq 1 ]] && { cat "$work/smbxd.log" >&2; fail "smbxd exited at start"; }
  fail "smbxd did not accept connections within 10 s"
}

# fs_main SCENARIO: outside, start the server and re-run this script inside
# its namespace; inside, run SCENARIO.
fs_main() {
  local scenario=$1
  if [[ -n ${FS_INSIDE:-} ]]; then
    fs_inside_setup
    "$scenario"
    return
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-fs.XXXXXX")
  chmod 755 "$work"  # smbd (as the test user) and uid 65534 (posix eacces) pass through it
  trap fs_outer_cleanup EXIT
  trap 'exit 130' INT TERM
  case $fs_server in
    samba) start_samba_server ;;
    smbxd) start_smbxd_server ;;
  esac
  local rc=0
  FS_INSIDE=1 FS_WORK=$work FS_MOUNT_SMBX=$mount_smbx FS_POSIX_SUITE=$posix_suite FS_PEER=$fs_peer \
    FS_SERVER=$fs_server FS_TEST_ARGS="${test_args[*]}" \
    ip netns exec "$NETNS" bash "$0" || rc=$?
  [[ $rc -eq 0 ]] || { [[ -s $work/mount.log ]] && { echo "---- last lines of the mount log:" >&2; tail -n 30 "$work/mount.log" >&2; }; }
  return "$rc"
}

# ---- inside the namespace: mounting ---------------------------------------------
MNT=""
mount_pid=""

fs_inside_setup() {
  work=$FS_WORK
  MNT=$work/mnt
  mkdir -p "$MNT"
  chmod 755 "$MNT"
  trap fs_inside_cleanup EXIT
  trap 'exit 130' INT TERM
  printf 'username=%s\npassword=%s\ndomain=%s\n' "$USER" "$PASSWORD" "$DOMAIN" > "$work/credentials"
  chmod 600 "$work/credentials"
}

fs_inside_cleanup() {
  local rc=$?
  fs_umount_quietly
  exit "$rc"
}

# The PID of the FUSE daemon serving $MNT: mount.smbx forks into the
# background, so it is found by its command line (which names $MNT).
find_daemon_pid() {
  local want=$1 p cmd
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    cmd=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline") || continue
    [[ $cmd == *"$want"* && $cmd == *" $MNT"* ]] || continue
    echo "${p#/proc/}"
    return 0
  done
  return 1
}

# fs_mount [-o EXTRA_OPTIONS]: mounts //HOST/SHARE on $MNT and returns once it
# is usable; fails the test with the mount's own message if it does not mount.
fs_mount() {
  local extra=""
  if [[ ${1:-} == -o ]]; then extra=$2; shift 2; fi
  mountpoint -q "$MNT" && fail "fs_mount: $MNT is already mounted"
  local rc=0 started
  started=$(now_ms)
  case $fs_peer in
    smbx)
      local opts="credentials=$work/credentials"
      [[ $PORT == 445 ]] || opts+=",port=$PORT"
      [[ -z $extra ]] || opts+=",$extra"
      timeout 30 "$mount_smbx" "//$HOST/$SHARE" "$MNT" -o "$opts" --log "$work/mount.log" \
        >"$work/mount.out" 2>&1 || rc=$?
      [[ $rc -eq 0 ]] || { cat "$work/mount.out" >&2; fail "mount.smbx //$HOST/$SHARE $MNT -o ${opts} exited $rc"; }
      mount_pid=$(find_daemon_pid mount.smbx) || fail "mount.smbx returned 0 but no mount.smbx process serves $MNT"
      ;;
    bind)
      mount --bind "$SHARE_PATH" "$MNT" || fail "mount --bind"
      ;;
    rclone)
      local obscured
      obscured=$(rclone obscure "$PASSWORD")
      RCLONE_CONFIG=/dev/null timeout 30 rclone mount ":smb:$SHARE" "$MNT" --smb-host "$HOST" --smb-port "$PORT" \
        --smb-user "$USER" --smb-pass "$obscured" --smb-domain "$DOMAIN" --vfs-cache-mode writes \
        --dir-cache-time 1s --attr-timeout 1s --daemon --daemon-timeout 20s --log-file "$work/mount.log" ||
        fail "rclone mount exited $?"
      mount_pid=$(find_daemon_pid rclone) || fail "rclone mount: no daemon found"
      ;;
  esac
  mountpoint -q "$MNT" || fail "$MNT is not a mount point after the mount returned"
  note "mounted //$HOST/$SHARE on $MNT with $fs_peer${extra:+ ($extra)} in $(($(now_ms) - started)) ms${mount_pid:+, daemon pid $mount_pid}"
}

# bounded_umount [-l]: runs umount on $MNT and waits at most 2 s for it. Sets
# umount_ms and umount_rc (124 when it did not return within 2 s: then the
# daemon is killed, which aborts the FUSE connection and releases umount).
bounded_umount() {
  local started upid
  started=$(now_ms)
  umount "$@" "$MNT" 2>"$work/umount.err" &
  upid=$!
  umount_rc=""
  while kill -0 "$upid" 2>/dev/null; do
    if [[ $(($(now_ms) - started)) -ge 2000 ]]; then
      umount_ms=$(($(now_ms) - started))
      umount_rc=124
      if [[ -n $mount_pid ]]; then kill -KILL "$mount_pid" 2>/dev/null || true; fi
      wait "$upid" 2>/dev/null || true
      return 0
    fi
    sleep 0.02
  done
  umount_rc=0
  wait "$upid" || umount_rc=$?
  umount_ms=$(($(now_ms) - started))
}

# fs_umount: unmounts $MNT; fails the test if umount takes more than 2 s or
# the daemon is still alive 5 s later.
fs_umount() {
  bounded_umount
  [[ $umount_rc != 124 ]] || fail "umount did not return within 2 s (the daemon was killed to release it)"
  [[ $umount_rc -eq 0 ]] || { cat "$work/umount.err" >&2; fail "umount $MNT failed (exit $umount_rc after $umount_ms ms)"; }
  fs_wait_daemon_gone 5000 || fail "the FUSE daemon (pid $mount_pid) still runs 5 s after umount"
  mount_pid=""
}

# fs_wait_daemon_gone MS: true once $mount_pid has exited (or was never set).
fs_wait_daemon_gone() {
  local limit=$1 started
  started=$(now_ms)
  [[ -n $mount_pid ]] || return 0
  while kill -0 "$mount_pid" 2>/dev/null; do
    [[ $(($(now_ms) - started)) -lt $limit ]] || return 1
    sleep 0.05
  done
  return 0
}

# Best effort, for cleanup after a failure: never hangs.
fs_umount_quietly() {
  if [[ -n $MNT ]] && mountpoint -q "$MNT" 2>/dev/null; then
    timeout 5 umount "$MNT" 2>/dev/null || timeout 5 umount -l "$MNT" 2>/dev/null || true
  fi
  if [[ -n $mount_pid ]] && kill -0 "$mount_pid" 2>/dev/null; then
    fs_wait_daemon_gone 2000 || {
      kill -TERM "$mount_pid" 2>/dev/null || true
      fs_wait_daemon_gone 2000 || kill -KILL "$mount_pid" 2>/dev/null || true
    }
  fi
  mount_pid=""
}

# ---- inside: the second client ---------------------------------------------------
# smbclient_do COMMANDS: runs smbclient commands on the share (a second client).
smbclient_do() {
  timeout 60 smbclient "//$HOST/$SHARE" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 -c "$1" </dev/null \
    >"$work/smbclient.out" 2>&1 || { cat "$work/smbclient.out" >&2; fail "smbclient: $1"; }
}

# manifest DIR OUT: one line per entry below DIR (sorted by path): type, link
# count and size and mtime (whole seconds) for files, symlink targets, then a
# sha256 of every file. Modes and owners are left out: an SMB mount shows
# file_mode/dir_mode and uid=/gid=.
manifest() {
  (cd "$1" && find . -mindepth 1 \( -type f -printf 'f %n %s %T@ %p\n' \) -o \
     \( -type l -printf 'l - - - %p -> %l\n' \) -o \( -type d -printf 'd - - - %p\n' \) |
     sed -E 's/^(f [0-9]+ [0-9]+ [0-9]+)\.[0-9]+ /\1 /' | LC_ALL=C sort -k5) > "$2.entries"
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) > "$2.sha"
  cat "$2.entries" "$2.sha" > "$2"
}

# same_manifest WHAT A B: fails with the first differences.
same_manifest() {
  if ! cmp -s "$2" "$3"; then
    echo "---- $1: first differences (< expected, > got):" >&2
    diff "$2" "$3" > "$3.diff" || true
    head -n 20 "$3.diff" >&2
    fail "$1: the trees differ"
  fi
}
