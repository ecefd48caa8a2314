#!/bin/bash
# kill -9 of smbxd during a 2000-file untar onto a mount.smbx mount (issue 7):
# tar must exit 0 and the tree on the share (read directly, and through the
# mount) must be byte-identical to the source tree: same entries, sizes and
# sha256 of every file.
# Usage: kill_untar_test.sh --mount M --smbxd S --smbxctl C [--files N] [--kills K]
source "$(dirname "$0")/lib.sh"
command -v tar >/dev/null || skip "tar is not installed"

files=2000
kills=1
set -- "${fo_args[@]}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --files) files=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done

# N files of 0 to 64 KiB in 40 directories (some nested), random contents.
make_tree() {
  python3 - "$1" "$files" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
dirs = []
for d in range(40):
    path = os.path.join(root, f"d{d:02}", f"sub{d % 3}") if d % 4 == 0 else os.path.join(root, f"d{d:02}")
    os.makedirs(path, exist_ok=True)
    dirs.append(path)
os.makedirs(os.path.join(root, "empty-dir"), exist_ok=True)
for i in range(count):
    size = rnd.choice([0, 1, 100, 4095, 4096, 4097, 65536]) if i % 10 == 0 else rnd.randint(0, 65536)
    with open(os.path.join(dirs[i % len(dirs)], f"file-{i:05}.bin"), "wb") as f:
        f.write(os.urandom(size))
PY
}

share_files() { find "$SHARE_PATH/tree" -type f 2>/dev/null | wc -l; }
reached() { [[ $(share_files) -ge $1 ]] || ! kill -0 "$tar_pid" 2>/dev/null; }

scenario() {
  mkdir -p "$SCRATCH/tree"
  make_tree "$SCRATCH/tree" || fail "cannot make the source tree"
  tar -C "$SCRATCH/tree" -cf "$SCRATCH/tree.tar" . || fail "tar c of the source tree"
  tree_list "$SCRATCH/tree" "$work/want.list"
  fo_start_smbxd
  fs_mount -o hard
  mkdir "$MNT/tree" || fail "mkdir on the mount"
  local started
  started=$(now_ms)
  timeout 900 tar --no-same-owner -C "$MNT/tree" -xf "$SCRATCH/tree.tar" 2>"$work/tar.err" &
  tar_pid=$!
  local k threshold
  for k in $(seq "$kills"); do
    threshold=$((files * k / (kills + 1)))
    WAIT_LIMIT_MS=300000 wait_for reached "$threshold" ||
      fail "kill $k: $threshold files did not reach the share within 300 s ($(share_files))"
    kill -0 "$tar_pid" 2>/dev/null || fail "kill $k: tar ended before the kill ($(share_files) files): $(head -n 5 "$work/tar.err")"
    local at
    at=$(share_files)
    fo_kill_smbxd
    fo_start_smbxd
    note "kill $k of $kills with $at files on the share; smbxd accepted again after $smbxd_start_ms ms"
  done
  local rc=0
  wait "$tar_pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "tar x exited $rc across the kill(s): $(head -n 5 "$work/tar.err")"
  note "tar x of $files files exited 0 in $(($(now_ms) - started)) ms across $kills kill(s)"
  tree_list "$SHARE_PATH/tree" "$work/share.list"
  if ! cmp -s "$work/want.list" "$work/share.list"; then
    diff "$work/want.list" "$work/share.list" | head -n 20 >&2
    fail "the tree on the share differs from the source (< source, > share)"
  fi
  tree_list "$MNT/tree" "$work/mount.list"
  if ! cmp -s "$work/want.list" "$work/mount.list"; then
    diff "$work/want.list" "$work/mount.list" | head -n 20 >&2
    fail "the tree read through the mount differs from the source (< source, > mount)"
  fi
  note "the share's tree and the mount's are byte-identical to the source ($(grep -c '^f ' "$work/want.list") files)"
  fs_umount
  echo "PASS: tar x of $files files across $kills kill -9 of smbxd"
}

fo_main scenario
