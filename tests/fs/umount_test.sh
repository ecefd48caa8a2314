#!/usr/bin/env bash
# umount never hangs: it returns within 2 s and the daemon exits
#   - right after writing 32 MiB (the data is on the server afterwards);
#   - after many files were opened, read and closed (cached handles/leases);
#   - while the server cannot be reached (loopback down in the namespace, so
#     every packet is lost and no RST comes back).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

scenario() {
  head -c $((32 << 20)) /dev/urandom > "$work/payload"
  local want
  want=$(sha256sum < "$work/payload")

  fs_mount
  cp "$work/payload" "$MNT/payload"
  fs_umount
  note "umount right after writing 32 MiB: within 2 s"
  [[ -f $SHARE_PATH/payload ]] || fail "the file written before umount is not on the server"
  [[ $(sha256sum < "$SHARE_PATH/payload") == "$want" ]] || fail "the file on the server differs from what was written before umount"

  fs_mount
  local i
  for ((i = 0; i < 200; i++)); do echo "$i" > "$MNT/small-$i"; done
  for ((i = 0; i < 200; i++)); do [[ $(cat "$MNT/small-$i") == "$i" ]] || fail "small-$i reads back wrong"; done
  fs_umount
  note "umount after 200 files were written and read: within 2 s"

  fs_mount
  cat "$MNT/payload" >/dev/null
  ip link set lo down || fail "ip link set lo down"
  # Something in flight against the unreachable server, so umount races it.
  (stat "$MNT/not-cached-$RANDOM" >/dev/null 2>&1 &)
  sleep 0.5
  bounded_umount
  local how="umount"
  if [[ $umount_rc != 124 && $umount_rc -ne 0 ]]; then
    # A request still in flight may keep the mount busy: a lazy umount must still end it.
    note "umount with the server unreachable: exit $umount_rc ($(cat "$work/umount.err")), trying umount -l"
    how="umount -l"
    bounded_umount -l
  fi
  ip link set lo up || fail "ip link set lo up"
  [[ $umount_rc != 124 ]] ||
    fail "$how with the server unreachable did not return within 2 s (returned after $umount_ms ms once the daemon was killed)"
  [[ $umount_rc -eq 0 ]] || fail "$how with the server unreachable failed: $(cat "$work/umount.err")"
  note "$how with the server unreachable: $umount_ms ms"
  if ! fs_wait_daemon_gone 10000; then
    fail "the FUSE daemon (pid $mount_pid) still runs 10 s after umount with the server unreachable"
  fi
  mount_pid=""
  echo "ok: umount within 2 s on $fs_peer"
}
fs_main scenario
