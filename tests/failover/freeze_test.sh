#!/bin/bash
# smbxd freezes (`fault freeze S`: no SMB request read or answered, TCP open)
# under a steady writer on a mount.smbx mount (issue 7):
#   --mode short  freeze 5 s, below the handle timeout: the writes stall and
#                 resume, no error, every byte on the share;
#   --mode soft   `soft,handletimeout=2000`, freeze 8 s: the application gets
#                 EIO or ETIMEDOUT after about the handle timeout, not the
#                 whole freeze, and the mount works again after the freeze;
#   --mode hard   `hard,handletimeout=2000`, freeze 6 s: the application
#                 just waits and then succeeds.
# Usage: freeze_test.sh --mount M --smbxd S --smbxctl C --mode short|soft|hard
source "$(dirname "$0")/lib.sh"

mode=""
set -- "${fo_args[@]}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --mode) mode=$2; shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done
writer=$fs_lib_dir/../failover/writer.py

# one_write FILE: a 64 KiB write and fsync through the mount; prints
# "ok MS" or "error ERRNO-NAME MS".
one_write() {
  timeout 120 python3 -c '
import errno, os, sys, time
t = time.monotonic()
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"x" * 65536)
    os.fsync(fd)
    os.close(fd)
    print("ok", int((time.monotonic() - t) * 1000))
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno), int((time.monotonic() - t) * 1000))
' "$1"
}

scenario() {
  fo_start_smbxd
  case $mode in
    short)
      fs_mount -o hard
      python3 "$writer" write "$MNT/steady.bin" --copy "$SCRATCH/steady.copy" --chunk 262144 --fsync-every 4 \
        --rate-mbps 8 --duration 14 --gaps "$work/gaps.log" --gap-ms 200 >"$work/writer.out" 2>&1 &
      local wpid=$!
      sleep 3
      local t0
      t0=$(now_ms)
      fault freeze 5
      note "froze smbxd for 5 s at $(date -u +%T)"
      local rc=0
      wait "$wpid" || rc=$?
      cat "$work/writer.out"
      [[ $rc -eq 0 ]] || fail "the writer saw errors across a 5 s freeze: $(grep error "$work/gaps.log" | head -n 3)"
      local max_gap
      max_gap=$(sed -n 's/.*max_gap_ms \([0-9]*\).*/\1/p' "$work/writer.out")
      [[ -n $max_gap && $max_gap -ge 4000 ]] || fail "the writes did not stall during the freeze (longest gap ${max_gap:-?} ms)"
      [[ $max_gap -le 12000 ]] || fail "the writes stalled $max_gap ms for a 5 s freeze"
      python3 "$writer" verify "$SHARE_PATH/steady.bin" "$SCRATCH/steady.copy" >"$work/verify.out" ||
        fail "bytes lost across the freeze: $(cat "$work/verify.out")"
      note "5 s freeze: longest stall $max_gap ms, no error, $(cat "$work/verify.out")"
      ;;
    soft)
      fs_mount -o soft,handletimeout=2000
      [[ $(one_write "$MNT/before") == ok* ]] || fail "a write before the freeze failed"
      fault freeze 8
      local t0 out
      t0=$(now_ms)
      out=$(one_write "$MNT/during")
      local took=$(($(now_ms) - t0))
      note "write during an 8 s freeze on a soft mount: $out"
      [[ $out == "error EIO "* || $out == "error ETIMEDOUT "* ]] ||
        fail "soft mount: expected EIO or ETIMEDOUT during an 8 s freeze with handletimeout=2000, got '$out'"
      [[ $took -ge 1500 && $took -lt 7500 ]] ||
        fail "soft mount: the error came after $took ms (handle timeout 2000 ms, freeze 8000 ms)"
      # The freeze ends; the mount must serve again (a new reconnect may take a moment).
      sleep $(( (8000 - took) / 1000 + 1 ))
      out=$(one_write "$MNT/after")
      [[ $out == ok* ]] || fail "soft mount: a write after the freeze failed: $out"
      [[ $(stat -c %s "$SHARE_PATH/after") -eq 65536 ]] || fail "soft mount: the write after the freeze is not on the share"
      ls "$MNT" >/dev/null || fail "soft mount: ls after the freeze failed"
      note "soft mount: error after $took ms, usable again after the freeze ($out)"
      ;;
    hard)
      fs_mount -o hard,handletimeout=2000
      [[ $(one_write "$MNT/before") == ok* ]] || fail "a write before the freeze failed"
      fault freeze 6
      local t0 out
      t0=$(now_ms)
      out=$(one_write "$MNT/during")
      local took=$(($(now_ms) - t0))
      [[ $out == ok* ]] || fail "hard mount: the application got '$out' during a 6 s freeze; it must wait"
      [[ $took -ge 5000 ]] || fail "hard mount: the write returned after $took ms, during the 6 s freeze"
      [[ $(stat -c %s "$SHARE_PATH/during") -eq 65536 ]] || fail "hard mount: the write is not on the share"
      note "hard mount: the write waited $took ms through a 6 s freeze and succeeded"
      ;;
    *) fail "--mode must be short, soft or hard" ;;
  esac
  fs_umount
  echo "PASS: freeze ($mode)"
}

fo_main scenario
