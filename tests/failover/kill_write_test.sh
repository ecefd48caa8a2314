#!/bin/bash
# kill -9 of smbxd during a sequential write through mount.smbx (issue 7):
# `dd conv=fsync` of a random file onto a continuously available share while
# smbxd is killed K times and restarted at once (same arguments, same state
# directory). dd must exit 0 and the file on the share (read directly and
# through the mount) must have the source's sha256.
# Usage: kill_write_test.sh --mount M --smbxd S --smbxctl C [--kills K] [--size-mb N]
source "$(dirname "$0")/lib.sh"

kills=1
size_mb=1024
set -- "${fo_args[@]}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --kills) kills=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done

share_size() { stat -c %s "$SHARE_PATH/big" 2>/dev/null || echo 0; }
reached() { [[ $(share_size) -ge $1 ]] || ! kill -0 "$dd_pid" 2>/dev/null; }

scenario() {
  head -c "${size_mb}M" /dev/urandom >"$SCRATCH/src" || fail "cannot make the source file"
  local want size=$((size_mb * 1048576))
  want=$(sha "$SCRATCH/src")
  fo_start_smbxd
  fs_mount -o hard
  local started
  started=$(now_ms)
  timeout 900 dd if="$SCRATCH/src" of="$MNT/big" bs=1M conv=fsync status=none 2>"$work/dd.err" &
  dd_pid=$!
  local k threshold
  for k in $(seq "$kills"); do
    threshold=$((size * k / (kills + 1)))
    WAIT_LIMIT_MS=300000 wait_for reached "$threshold" ||
      fail "kill $k: the share's file did not reach $((threshold >> 20)) MiB within 300 s ($(( $(share_size) >> 20)) MiB)"
    kill -0 "$dd_pid" 2>/dev/null ||
      fail "kill $k: dd ended before the kill (at $(( $(share_size) >> 20)) MiB of $size_mb): $(cat "$work/dd.err")"
    local at=$(( $(share_size) >> 20))
    fo_kill_smbxd
    fo_start_smbxd
    note "kill $k of $kills at $at MiB on the share; smbxd accepted again after $smbxd_start_ms ms"
  done
  local rc=0
  wait "$dd_pid" || rc=$?
  local took=$(($(now_ms) - started))
  [[ $rc -eq 0 ]] || fail "dd exited $rc after $took ms across $kills kill(s): $(cat "$work/dd.err")"
  note "dd conv=fsync of $size_mb MiB exited 0 in $took ms across $kills kill(s) of smbxd"
  [[ $(share_size) -eq $size ]] || fail "the share's file has $(share_size) bytes, expected $size"
  [[ $(sha "$SHARE_PATH/big") == "$want" ]] || fail "the share's file differs from the source (sha256)"
  [[ $(sha "$MNT/big") == "$want" ]] || fail "the file read through the mount differs from the source (sha256)"
  note "sha256 of the share's file and of the file read through the mount equal the source's"
  fs_umount
  echo "PASS: dd of $size_mb MiB across $kills kill -9 of smbxd"
}

fo_main scenario
