#!/usr/bin/env bash
# Cache coherence with a second client: what smbclient changes on the share
# becomes visible on the mount
#   - within actimeo (default 1 s; the test allows 3 s) for files the mount
#     has looked at but does not hold open: new file, changed contents and
#     size, deletion, rename, a new entry in a listed directory;
#   - through the lease break, with actimeo=30 (so no attribute timeout can
#     help) for a file the mount holds open and has read: within 3 s, read
#     through the same open descriptor and by a fresh stat.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

limit_ms=3000

# wait_for WHAT COMMAND...: polls COMMAND (every 50 ms) until it succeeds;
# fails after $limit_ms. Prints the time it took.
wait_for() {
  local what=$1 started took
  shift
  started=$(now_ms)
  until "$@" 2>/dev/null; do
    took=$(($(now_ms) - started))
    [[ $took -lt $limit_ms ]] || fail "$what: not visible on the mount after $took ms (expected within $limit_ms ms)"
    sleep 0.05
  done
  note "$what: visible after $(($(now_ms) - started)) ms"
}

content_is() { [[ $(cat "$1") == "$2" ]]; }
size_is() { [[ $(stat -c %s "$1") == "$2" ]]; }
missing() { [[ ! -e $1 ]]; }
listed() { ls "$1" | grep -qxF "$2"; }

scenario() {
  printf 'version one\n' > "$work/v1"
  printf 'version two, longer than one\n' > "$work/v2"
  printf 'three\n' > "$work/v3"

  fs_mount
  # New file: looked up (ENOENT) on the mount first, so a negative entry may be cached.
  missing "$MNT/new.txt" || fail "new.txt exists before the test made it"
  smbclient_do "put $work/v1 new.txt"
  wait_for "a file created by another client" content_is "$MNT/new.txt" "version one"
  # Changed contents and size of a file the mount has read.
  cat "$MNT/new.txt" >/dev/null
  smbclient_do "put $work/v2 new.txt"
  wait_for "new contents written by another client" content_is "$MNT/new.txt" "version two, longer than one"
  wait_for "the new size" size_is "$MNT/new.txt" "$(stat -c %s "$work/v2")"
  # A new entry in a directory the mount has listed.
  smbclient_do "mkdir dir"
  wait_for "a directory made by another client" test -d "$MNT/dir"
  ls "$MNT/dir" >/dev/null
  smbclient_do "put $work/v3 dir/added.txt"
  wait_for "a directory entry added by another client" listed "$MNT/dir" added.txt
  # Rename and delete.
  smbclient_do "rename new.txt renamed.txt"
  wait_for "a rename by another client (old name gone)" missing "$MNT/new.txt"
  wait_for "a rename by another client (new name)" content_is "$MNT/renamed.txt" "version two, longer than one"
  smbclient_do "del renamed.txt"
  wait_for "a delete by another client" missing "$MNT/renamed.txt"
  # A directory the mount made and keeps creating files in: it answers
  # lookups of absent names from its own listing (kept for actimeo, and taken
  # again while lookups keep coming). A file another client adds there still
  # shows within actimeo, also while the mount keeps looking it up.
  mkdir "$MNT/made"
  local i
  for ((i = 0; i < 20; i++)); do
    missing "$MNT/made/f$i" || fail "made/f$i exists before the test made it"
    printf '%d\n' "$i" > "$MNT/made/f$i"
  done
  missing "$MNT/made/other.txt" || fail "made/other.txt exists before the test made it"
  smbclient_do "put $work/v3 made/other.txt"
  wait_for "a file another client made in a directory the mount made and creates files in" \
    content_is "$MNT/made/other.txt" "three"
  for ((i = 0; i < 20; i++)); do content_is "$MNT/made/f$i" "$i" || fail "made/f$i lost its contents"; done
  fs_umount

  # The lease break: attributes cached for 30 s, file held open on the mount.
  fs_mount -o actimeo=30
  printf 'held open, first\n' > "$MNT/held.txt"
  # (For --peer bind, where the file belongs to root: smbd works as the test user.)
  [[ $fs_peer != bind ]] || chmod 0666 "$MNT/held.txt"
  stat "$MNT/held.txt" >/dev/null
  python3 - "$MNT/held.txt" "$work" "$limit_ms" <<'PY' &
import os, sys, time
path, work, limit_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
first = os.pread(fd, 4096, 0)
open(os.path.join(work, "held.ready"), "w").close()
while not os.path.exists(os.path.join(work, "held.changed")):
    time.sleep(0.01)
start = time.monotonic()
want = b"changed by the second client, and longer\n"
while True:
    got = os.pread(fd, 4096, 0)
    if got == want:
        print(f"-- a change by another client to a file held open: seen through the open fd after {int((time.monotonic() - start) * 1000)} ms")
        sys.exit(0)
    if (time.monotonic() - start) * 1000 > limit_ms:
        print(f"FAIL: a change by another client to a file held open (actimeo=30): read through the open fd still gives {got!r} after {limit_ms} ms (expected {want!r}: the lease break must invalidate the cache)", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.05)
PY
  local reader=$!
  for _ in $(seq 100); do [[ -e $work/held.ready ]] && break; sleep 0.05; done
  [[ -e $work/held.ready ]] || { kill "$reader" 2>/dev/null; fail "the reader did not open held.txt"; }
  printf 'changed by the second client, and longer\n' > "$work/v4"
  smbclient_do "put $work/v4 held.txt"
  touch "$work/held.changed"
  local rc=0
  wait "$reader" || rc=$?
  [[ $rc -eq 0 ]] || fail "lease break: the change was not seen through the open descriptor"
  wait_for "the new size of a file held open (actimeo=30)" size_is "$MNT/held.txt" "$(stat -c %s "$work/v4")"
  fs_umount
  echo "ok: coherence with a second client on $fs_peer"
}
fs_main scenario
