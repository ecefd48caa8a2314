#!/usr/bin/env bash
# Cache coherence with a second client: what smbclient changes on the share
# becomes visible on the mount
#   - within actimeo (default 1 s; the test allows 3 s) for files the mount
#     has looked at but does not hold open: new file, changed contents and
#     size, deletion, rename, a new entry in a listed directory;
#   - through the lease break, with actimeo=30 (so no attribute timeout can
#     help) for a file the mount holds open and has read: within 3 s, read
#     through the same open descriptor and by a fresh stat.
# And the page cache: mount.smbx writes a write-only descriptor's data around
# it (as cp, dd and tar x write), a read-write one's through it.
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
  if [[ $fs_peer == smbx ]]; then
    # Counted with mincore(2) on a fresh descriptor while the writer still
    # holds the file open, before anything reads it back (a read caches
    # pages) or stats it (the new mtime makes the kernel drop the file's
    # pages: FUSE_CAP_AUTO_INVAL_DATA).
    head -c 1048576 /dev/urandom > "$work/1m"
    cat > "$work/cached_pages.py" <<'PY'
import ctypes, os, sys
source, path, flags = sys.argv[1], sys.argv[2], {"O_WRONLY": os.O_WRONLY, "O_RDWR": os.O_RDWR}[sys.argv[3]]
data = open(source, "rb").read()
writer = os.open(path, flags | os.O_CREAT, 0o644)
if os.write(writer, data) != len(data):
    sys.exit("short write")
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
reader = os.open(path, os.O_RDONLY)
addr = libc.mmap(None, len(data), 1, 1, reader, 0)  # PROT_READ, MAP_SHARED
if addr in (None, ctypes.c_void_p(-1).value):
    sys.exit(f"mmap: {os.strerror(ctypes.get_errno())}")
pages = (ctypes.c_ubyte * (len(data) // 4096))()
if libc.mincore(addr, len(data), pages) != 0:
    sys.exit(f"mincore: {os.strerror(ctypes.get_errno())}")
print(sum(p & 1 for p in pages))
os.close(reader)
os.close(writer)
PY
    local write_only_pages read_write_pages
    write_only_pages=$(python3 "$work/cached_pages.py" "$work/1m" "$MNT/write-only.bin" O_WRONLY) ||
      fail "counting the cached pages of a file written through O_WRONLY failed"
    read_write_pages=$(python3 "$work/cached_pages.py" "$work/1m" "$MNT/read-write.bin" O_RDWR) ||
      fail "counting the cached pages of a file written through O_RDWR failed"
    note "pages cached after writing 1 MiB (256 pages): $write_only_pages through a write-only descriptor," \
      "$read_write_pages through a read-write one"
    [[ $write_only_pages == 0 ]] ||
      fail "$write_only_pages pages of a file written through an O_WRONLY descriptor are in the page cache" \
        "(expected 0: written around it)"
    [[ $read_write_pages -gt 0 ]] ||
      fail "no page of a file written through an O_RDWR descriptor is in the page cache (expected its pages)"
    cmp -s "$work/1m" "$MNT/write-only.bin" || fail "the file written through a write-only descriptor differs"
    cmp -s "$work/1m" "$MNT/read-write.bin" || fail "the file written through a read-write descriptor differs"
  fi
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
