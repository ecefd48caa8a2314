#!/usr/bin/env bash
# git on the mount: init, commit of 500 files in nested directories, a second
# commit that edits, renames and deletes, `git fsck --full`, a clean
# `git status`, and a clone from the mount whose checkout matches.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || skip "git is not installed"

scenario() {
  fs_mount
  local repo=$MNT/repo
  export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
  git config --global user.name smbx-test
  git config --global user.email smbx-test@example.invalid
  git config --global init.defaultBranch main
  git config --global safe.directory '*'
  git init -q "$repo" || fail "git init on the mount"
  local i d
  for ((d = 0; d < 20; d++)); do
    mkdir -p "$repo/src/d$d"
    for ((i = 0; i < 25; i++)); do
      printf 'file %d in d%d\n%s\n' "$i" "$d" "$(seq $((i * d)) $((i * d + 40)))" > "$repo/src/d$d/f$i.txt"
    done
  done
  local t0
  t0=$(now_ms)
  git -C "$repo" add -A || fail "git add of 500 files"
  git -C "$repo" commit -q -m "500 files" || fail "git commit of 500 files"
  [[ $(git -C "$repo" ls-files | wc -l) -eq 500 ]] || fail "git ls-files: expected 500 files, got $(git -C "$repo" ls-files | wc -l)"
  echo changed >> "$repo/src/d1/f1.txt"
  git -C "$repo" mv src/d2/f2.txt src/d3/moved.txt || fail "git mv"
  git -C "$repo" rm -q src/d4/f4.txt || fail "git rm"
  git -C "$repo" commit -q -am "edit, move, delete" || fail "second git commit"
  git -C "$repo" fsck --full --strict 2>"$work/fsck.err" || { cat "$work/fsck.err" >&2; fail "git fsck --full"; }
  [[ ! -s $work/fsck.err ]] || { cat "$work/fsck.err" >&2; fail "git fsck --full reported problems"; }
  local status
  status=$(git -C "$repo" status --porcelain) || fail "git status"
  [[ -z $status ]] || { echo "$status" | head >&2 || true; fail "git status is not clean after the commits"; }
  git -C "$repo" gc -q 2>"$work/gc.err" || { cat "$work/gc.err" >&2; fail "git gc"; }
  git -C "$repo" fsck --full --strict 2>"$work/fsck2.err" || { cat "$work/fsck2.err" >&2; fail "git fsck --full after gc"; }
  note "git add/commit/fsck/gc of 500 files: $(($(now_ms) - t0)) ms"
  git clone -q "$repo" "$work/clone" || fail "git clone from the mount"
  diff -r --exclude=.git "$repo" "$work/clone" >"$work/clone.diff" || { head "$work/clone.diff" >&2; fail "the clone differs from the work tree on the mount"; }
  [[ $(git -C "$work/clone" rev-parse HEAD) == $(git -C "$repo" rev-parse HEAD) ]] || fail "clone HEAD differs"
  fs_umount
  echo "ok: git on $fs_peer"
}
fs_main scenario
