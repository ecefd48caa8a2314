#!/usr/bin/env bash
# Mounting a subdirectory of a share, //server/share/top/sub, as mount.cifs
# does: the subdirectory is the mount's root and nothing above it shows;
# files made, renamed and removed through the mount land below it on the
# server; the control socket's `resolve` answers URLs below it; statfs works.
# A subdirectory that does not exist, and a file, are refused with a one-line
# error and nothing is mounted.
# Usage: subdir_test.sh --mount PATH/mount.smbx --smbxctl PATH/smbxctl [--smbxd PATH/smbxd]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

smbxctl=""
for ((i = 0; i < ${#test_args[@]}; i++)); do
  case ${test_args[$i]} in
    --smbxctl) smbxctl=${test_args[$((i + 1))]}; i=$((i + 1)) ;;
  esac
done
[[ -n $smbxctl && -x $smbxctl ]] || fail "usage: $0 --mount M --smbxctl PATH/smbxctl [--smbxd S]"

# A mount attempt that must fail: prints its exit code and message.
mount_must_fail() {  # mount_must_fail SOURCE
  local rc=0
  timeout 30 "$mount_smbx" "$1" "$MNT" -o "credentials=$work/credentials${PORT:+,port=$PORT}" \
    >"$work/fail.out" 2>&1 || rc=$?
  if mountpoint -q "$MNT"; then
    bounded_umount
    fail "mount.smbx $1 mounted something"
  fi
  [[ $rc -ne 0 ]] || fail "mount.smbx $1 exited 0"
  [[ $(wc -l <"$work/fail.out") -eq 1 ]] || { cat "$work/fail.out" >&2; fail "mount.smbx $1: not a one-line error"; }
  note "mount.smbx $1: exit $rc: $(cat "$work/fail.out")"
}

scenario() {
  mkdir -p "$SHARE_PATH/top/sub/deeper"
  echo "outside" >"$SHARE_PATH/outside.txt"
  echo "inner" >"$SHARE_PATH/top/sub/inner.txt"
  chmod -R a+rwX "$SHARE_PATH/top" "$SHARE_PATH/outside.txt"
  local share=$SHARE
  SHARE="$share/top/sub" fs_mount
  SHARE=$share

  # The root is top/sub: its entries, and nothing from above.
  local listing
  listing=$(ls -A "$MNT" | tr '\n' ' ')
  [[ $listing == "deeper inner.txt " ]] || fail "the mount's root lists '$listing', expected 'deeper inner.txt '"
  [[ $(cat "$MNT/inner.txt") == inner ]] || fail "inner.txt reads wrong through the mount"
  [[ ! -e $MNT/outside.txt && ! -e $MNT/top ]] || fail "a name from above the subdirectory shows in the mount"

  # Made, renamed, removed through the mount: below top/sub on the server.
  mkdir -p "$MNT/new/dir"
  head -c 300000 /dev/urandom >"$work/data"
  cp "$work/data" "$MNT/new/dir/file"
  cmp -s "$work/data" "$SHARE_PATH/top/sub/new/dir/file" || fail "a file written through the mount is not at top/sub/new/dir/file"
  mv "$MNT/inner.txt" "$MNT/new/moved.txt"
  [[ -f $SHARE_PATH/top/sub/new/moved.txt && ! -e $SHARE_PATH/top/sub/inner.txt ]] ||
    fail "rename through the mount did not move top/sub/inner.txt to top/sub/new/moved.txt"
  rm "$MNT/new/moved.txt"
  [[ ! -e $SHARE_PATH/top/sub/new/moved.txt ]] || fail "unlink through the mount left the file on the server"
  rmdir "$MNT/deeper"
  [[ ! -e $SHARE_PATH/top/sub/deeper ]] || fail "rmdir through the mount left the directory on the server"
  [[ -f $SHARE_PATH/outside.txt ]] || fail "outside.txt is gone"
  df -P "$MNT" >/dev/null || fail "statfs of the mount failed"

  # The control socket: URLs name the files below the subdirectory.
  local sock="/run/smbx/mount-$mount_pid.sock" out
  out=$("$smbxctl" server "$sock" resolve new/dir/file) || fail "resolve new/dir/file failed"
  grep -qx "url smb://.*/$share/top/sub/new/dir/file" <<<"$out" ||
    { echo "$out" >&2; fail "resolve new/dir/file does not name top/sub/new/dir/file"; }
  out=$("$smbxctl" server "$sock" resolve) || fail "a bare resolve failed"
  grep -qx "url smb://.*/$share/top/sub" <<<"$out" || { echo "$out" >&2; fail "a bare resolve does not name top/sub"; }
  fs_umount

  # What cannot be the root: refused before anything is mounted.
  mount_must_fail "//$HOST/$share/top/missing"
  grep -q "top/missing" "$work/fail.out" || fail "the error does not name the missing subdirectory"
  mount_must_fail "//$HOST/$share/outside.txt"
  grep -q "not a directory" "$work/fail.out" || fail "the error for a file does not say 'not a directory'"
  echo "ok: //$HOST/$share/top/sub mounted as the root; missing and non-directory subdirectories refused"
}

fs_main scenario
