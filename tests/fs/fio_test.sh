#!/usr/bin/env bash
# fio with data verification (crc32c in every block, checked on read back):
# 64 MiB sequential (bs=1M) and 8 MiB random 4 KiB writes, each then read
# and verified; plus a mixed random read/write job (16 KiB blocks) with
# verification. Sizes are small to keep a sanitizer build's run short.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v fio >/dev/null || skip "fio is not installed"

run_fio() {
  local name=$1
  shift
  local t0
  t0=$(now_ms)
  fio --name="$name" --directory="$MNT" --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
      --verify_dump=0 --end_fsync=1 --output-format=terse --terse-version=3 "$@" >"$work/fio-$name.out" 2>&1 ||
    { tail -n 20 "$work/fio-$name.out" >&2; fail "fio $name: $*"; }
  ! grep -qi 'verify.*\(bad\|fail\)\|crc32c.*mismatch' "$work/fio-$name.out" ||
    { grep -i verify "$work/fio-$name.out" | head >&2 || true; fail "fio $name reported a verification error"; }
  # terse v3: field 6 is KiB read, 47 KiB written.
  note "fio $name: $(awk -F';' '{printf "read %d KiB, written %d KiB", $6, $47}' "$work/fio-$name.out") in $(($(now_ms) - t0)) ms"
}

scenario() {
  fs_mount
  run_fio seq-write --rw=write --bs=1M --size=64M
  run_fio rand-write --rw=randwrite --bs=4k --size=8M
  run_fio rand-rw --rw=randrw --bs=16k --size=16M --verify_backlog=64
  rm -f "$MNT"/seq-write.* "$MNT"/rand-write.* "$MNT"/rand-rw.*
  fs_umount
  echo "ok: fio verify on $fs_peer"
}
fs_main scenario
