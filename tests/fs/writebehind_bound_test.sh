#!/usr/bin/env bash
# Write-behind is bounded for the whole mount, not only per file (issue 6:
# memory bounded by configured caches, not by the workload).
#
#   writebehind_bound_test.sh --mount PATH/mount.smbx --smbxd PATH/smbxd --smbxctl PATH/smbxctl
#
# 32 files are opened (each under a write-caching lease), then smbxd freezes
# (`fault freeze`: nothing read or answered) and 32 threads write 8 MiB into
# them, 1 MiB at a time. Per file, write-behind would take 4 MiB each: 128
# MiB in all. The mount's bound (16 x writebehind = 64 MiB) must stop them
# first: `smbxctl status` must show a write-behind peak at the limit, not
# above it, while the writers wait. After the freeze every file must reach
# the share whole.
set -euo pipefail
# shellcheck source=../failover/lib.sh
source "$(dirname "$0")/../failover/lib.sh"

status_value() { "$FO_SMBXCTL" status "$MNT" 2>/dev/null | sed -n "s/^$1: *\([0-9]*\)\$/\1/p" | head -n 1; }

scenario() {
  command -v python3 >/dev/null || skip "python3 is not installed"
  fo_start_smbxd
  fs_mount -o hard
  local limit
  limit=$(status_value "write-behind limit")
  [[ $limit == $((64 << 20)) ]] || fail "write-behind limit is '${limit}', expected 67108864 (16 x the default 4 MiB)"
  head -c $((8 << 20)) /dev/urandom >"$SCRATCH/payload"
  local want
  want=$(sha "$SCRATCH/payload")

  mkfifo "$work/writers.in"
  timeout 120 python3 -c '
import os, sys, threading
top, payload = sys.argv[1], open(sys.argv[2], "rb").read()
fds = [os.open(f"{top}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) for i in range(32)]
print("opened", flush=True)
sys.stdin.readline()
def write(fd):
    for off in range(0, len(payload), 1 << 20):
        os.pwrite(fd, payload[off:off + (1 << 20)], off)
    os.close(fd)
threads = [threading.Thread(target=write, args=(fd,)) for fd in fds]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("written", flush=True)
' "$MNT" "$SCRATCH/payload" <"$work/writers.in" >"$work/writers.out" 2>&1 &
  local writers=$!
  exec 8>"$work/writers.in"
  WAIT_LIMIT_MS=30000 wait_for grep -q "^opened$\|Error" "$work/writers.out" || fail "the writers did not open their files"
  grep -q "^opened$" "$work/writers.out" || fail "the writers could not open: $(tail -n 3 "$work/writers.out")"

  fault freeze 8
  echo >&8
  # The writers fill write-behind until the bound stops them (the server
  # answers nothing for 8 s).
  sleep 4
  local now peak
  now=$(status_value "write-behind bytes")
  peak=$(status_value "write-behind peak")
  note "4 s into the freeze: write-behind bytes $now, peak $peak, limit $limit"
  grep -q "^written$" "$work/writers.out" && fail "the writers finished while the server was frozen: write-behind took all 256 MiB"
  [[ -n $peak && $peak -le $limit ]] || fail "write-behind peak $peak is above the mount's limit $limit"
  # Without the mount's bound the 32 files would hold 4 MiB each (128 MiB).
  [[ $peak -ge $((limit - (1 << 20))) ]] ||
    fail "write-behind peak $peak never came near the limit $limit: the test did not fill it"

  WAIT_LIMIT_MS=60000 wait_for grep -q "^written$\|Error" "$work/writers.out" || fail "the writers did not finish within 60 s of the freeze"
  exec 8>&-
  wait "$writers" || fail "a writer failed: $(tail -n 3 "$work/writers.out")"
  local i
  for ((i = 0; i < 32; i++)); do
    [[ $(sha "$SHARE_PATH/f$i") == "$want" ]] || fail "f$i on the share differs from what was written"
  done
  [[ $(status_value "write-behind bytes") == 0 ]] || fail "write-behind bytes not back to 0 after the writers closed"
  fs_umount
  echo "ok: write-behind peaked at $peak bytes (limit $limit) with 32 files written at once; all 32 reached the share"
}
fo_main scenario
