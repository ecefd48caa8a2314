#!/usr/bin/env bash
# The POSIX behaviour suite (tests/posix/posix_suite) on a mount.smbx mount of
# the test server's share.
#
#   posix_test.sh --mount PATH/mount.smbx --posix PATH/posix_suite [--smbxd PATH/smbxd]
#                 [--small-share MIB] [SUITE ARGS...]
#
# SUITE ARGS go to posix_suite (e.g. --skip xattr). --small-share MIB gives
# the server a share of MIB MiB and runs only the suite's `enospc` case,
# which fills it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ -n $posix_suite ]] || fail "usage: $0 --mount PATH/mount.smbx --posix PATH/posix_suite [...]"

if [[ -z ${FS_INSIDE:-} && ${test_args[0]:-} == --small-share ]]; then
  mib=${test_args[1]:?--small-share needs a size in MiB}
  export SMB_TMPFS_SIZE=${mib}m
  test_args=(--only enospc --small-fs $((mib * 1024 * 1024)) "${test_args[@]:2}")
fi

scenario() {
  fs_mount
  mkdir "$MNT/posix" || fail "mkdir on the fresh mount"
  local rc=0
  "$posix_suite" "$MNT/posix" "${test_args[@]}" || rc=$?
  [[ $rc -eq 0 ]] || fail "posix_suite: $rc (FAIL lines above)"
  fs_umount
  echo "ok: posix suite on $fs_peer over $fs_server"
}
fs_main scenario
