#!/usr/bin/env bash
# tar x of a generated tree of 2000 files (with symlinks, hard links, empty
# files, nested and empty directories, a few 1 MiB files; about 20 MiB) onto the mount,
# then tar c from the mount: both the tree on the mount and the tree
# extracted from the second archive match the original, byte for byte
# (sha256), with the same symlink targets, hard-link counts, sizes and file
# mtimes (to the second). Modes and owners are not compared (file_mode/uid=).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v tar >/dev/null || skip "tar is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

# make_tree DIR: 2000 regular files (1900 plus 100 hard-link names), 120 symlinks.
make_tree() {
  python3 - "$1" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(6)
files = []
for d in range(40):
    sub = os.path.join(root, f"dir{d:02d}", f"sub{d % 7}")
    os.makedirs(sub, exist_ok=True)
    for i in range(47):
        path = os.path.join(sub, f"file-{d:02d}-{i:03d}.dat")
        size = rnd.choice([0, 1, 100, 4095, 4096, 4097, 12000]) if i % 5 else rnd.randrange(0, 40000)
        with open(path, "wb") as f:
            f.write(rnd.randbytes(size))
        files.append(path)
for i in range(20):
    path = os.path.join(root, f"big-{i:02d}.bin")
    with open(path, "wb") as f:
        f.write(rnd.randbytes(1 << 20 if i < 3 else 200000))
    files.append(path)
os.makedirs(os.path.join(root, "empty", "deeper", "still empty"), exist_ok=True)
os.makedirs(os.path.join(root, "links"), exist_ok=True)
# 100 hard links: some in the same directory, some across directories.
for i in range(100):
    target = files[i * 17]
    name = (target + ".hardlink") if i % 2 else os.path.join(root, "links", f"hard-{i:03d}")
    os.link(target, name)
# 120 symlinks: relative, absolute, dangling, to directories.
for i in range(120):
    name = os.path.join(root, "links", f"sym-{i:03d}")
    kind = i % 4
    if kind == 0:
        os.symlink(os.path.relpath(files[i * 11], os.path.dirname(name)), name)
    elif kind == 1:
        os.symlink(f"/nonexistent/absolute/target-{i}", name)
    elif kind == 2:
        os.symlink(f"dangling-{i}", name)
    else:
        os.symlink(f"../dir{i % 40:02d}", name)
# Names a Windows server must keep as given.
for name in ["MixedCase.txt", "with space.txt", "ünïcödé-名前.txt", "dots.in.name.", "x" * 200]:
    with open(os.path.join(root, "empty", name.rstrip(".") or "dot"), "w") as f:
        f.write(name)
PY
}

scenario() {
  local src=$work/src
  mkdir "$src"
  make_tree "$src"
  local regular
  regular=$(find "$src" -type f | wc -l)
  [[ $regular -ge 2000 ]] || fail "the generated tree has only $regular regular files"
  tar -C "$src" -cf "$work/orig.tar" .
  manifest "$src" "$work/orig.manifest"
  note "tree: $regular regular file names, $(find "$src" -type l | wc -l) symlinks, $(du -sh "$src" | cut -f1)"

  fs_mount
  mkdir "$MNT/tree"
  local t0 t1 t2
  t0=$(now_ms)
  tar -C "$MNT/tree" -xf "$work/orig.tar" 2>"$work/tar-x.err" || { head "$work/tar-x.err" >&2; fail "tar x onto the mount"; }
  t1=$(now_ms)
  note "tar x onto the mount: $((t1 - t0)) ms"
  manifest "$MNT/tree" "$work/mount.manifest"
  same_manifest "the tree on the mount after tar x" "$work/orig.manifest" "$work/mount.manifest"
  t2=$(now_ms)
  tar -C "$MNT/tree" -cf "$work/back.tar" . 2>"$work/tar-c.err" || { head "$work/tar-c.err" >&2; fail "tar c from the mount"; }
  note "manifest of the mount $((t2 - t1)) ms, tar c $(($(now_ms) - t2)) ms"
  mkdir "$work/back"
  tar -C "$work/back" -xf "$work/back.tar"
  manifest "$work/back" "$work/back.manifest"
  same_manifest "the tree from tar c of the mount" "$work/orig.manifest" "$work/back.manifest"
  # The server's own copy: every byte went over the wire.
  if [[ $fs_peer != bind ]]; then
    (cd "$SHARE_PATH/tree" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) > "$work/server.sha"
    # mfsymlinks are regular files on the server: compare the files tar made as files.
    awk 'NR == FNR { link[$0] = 1; next } !(substr($0, 67) in link)' <(cd "$src" && find . -type l) \
      "$work/server.sha" > "$work/server-files.sha"
    cmp -s "$work/orig.manifest.sha" "$work/server-files.sha" ||
      { diff "$work/orig.manifest.sha" "$work/server-files.sha" | head >&2 || true; fail "the files on the server's share differ from the original"; }
  fi
  fs_umount
  echo "ok: tar round trip of $regular files with links through $fs_peer"
}
fs_main scenario
