# Shared by the mount.smbx and smbxctl tests (sourced, not run). Builds on the
# interop helpers (fail, skip, note, $work, on_exit, start_samba, in_ns).
#
# A mount made by `ip netns exec` lives in that command's private mount
# namespace, and `ip netns exec` makes a new one each time: so every step that
# needs the mount runs in ONE inner script in the harness' namespace
# (run_inner), which unmounts on its way out. The mount's serving process
# keeps that namespace alive; its pid is written to $work/mount.pid so the
# outer script can end it (by pid) should the inner one die first.
# shellcheck disable=SC2034  # variables used by the sourcing scripts
source "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh"
# Inner side: work in the outer script's directory (lib.sh made a fresh one,
# which goes away at exit; the outer one is the outer script's to remove).
if [[ -n ${SMBX_OUTER_WORK:-} ]]; then
  rm -rf "$work"
  work=$SMBX_OUTER_WORK
  cleanup_steps=(inner_cleanup)
fi

# Outer side: runs "$0 --inner CASE" in the harness' namespace with the
# harness variables exported, bounded by a timeout.
run_inner() {
  local case=$1
  on_exit "stop_mount_daemon"
  export HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE DENIED_SHARE SHARE_PATH SECRET_PATH
  set +e
  SMBX_OUTER_WORK=$work in_ns timeout -k 10 "${INNER_TIMEOUT:-240}" bash "$0" --inner "$case"
  local rc=$?
  set -e
  [[ $rc -eq 0 ]] || fail "the in-namespace part of $case failed (exit $rc)"
}

# The serving process of a mount that outlived its test: SIGTERM, then SIGKILL.
stop_mount_daemon() {
  local pid
  [[ -s $work/mount.pid ]] || return 0
  for pid in $(cat "$work/mount.pid"); do
    [[ -d /proc/$pid && $(cat "/proc/$pid/comm" 2>/dev/null) == mount.smbx ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
    [[ -d /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  return 0
}

# Inner side --------------------------------------------------------------

# The pid of the mount.smbx process serving MOUNTPOINT (its command line
# names the mount point, which is unique to this test).
mount_daemon_pid() {
  local mnt=$1 p
  for p in /proc/[0-9]*; do
    [[ $(cat "$p/comm" 2>/dev/null) == mount.smbx ]] || continue
    if tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qxF "$mnt"; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

# Unmounts (bounded) and waits for the serving process to exit; fails if it
# does not, or exits non-zero.
unmount_and_wait() {
  local mnt=$1 pid=$2 i
  timeout 20 umount "$mnt" || fail "umount $mnt failed or hung"
  for ((i = 0; i < 100; i++)); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  [[ ! -d /proc/$pid ]] || fail "mount.smbx ($pid) still runs 10 s after umount"
}

# Inner cleanup: whatever is still mounted under $work/mnt* is unmounted.
inner_cleanup() {
  local m
  for m in "$work"/mnt*; do
    if mountpoint -q "$m" 2>/dev/null; then timeout 20 umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done
}

credentials_file() {  # credentials_file PATH
  printf 'username=%s\npassword=%s\ndomain=%s\n' "$USER" "$PASSWORD" "$DOMAIN" > "$1"
  chmod 600 "$1"
}

# mount_run ARGS...: runs mount.smbx (bounded); sets $rc and $err.
mount_run() {
  set +e
  timeout -k 5 60 "$MOUNT_SMBX" "$@" 2>"$work/mount.err" </dev/null
  rc=$?
  set -e
  err=$(cat "$work/mount.err")
}

# expect_mount_failure CODE TEXT ARGS...
expect_mount_failure() {
  local code=$1 text=$2
  shift 2
  mount_run "$@"
  [[ $rc -eq $code ]] || fail "mount.smbx $* exited $rc, expected $code: $err"
  grep -qF -- "$text" <<<"$err" || fail "mount.smbx $*: the message does not say '$text': $err"
  [[ $(head -n 1 <<<"$err") == "mount.smbx: "* ]] || fail "mount.smbx $*: message not prefixed 'mount.smbx: ': $err"
  note "exit $rc: $(head -n 1 <<<"$err")"
}
