#!/bin/bash
# cp-offload against smbxd (issue 8), one scenario per run (--case):
#   method-auto|odx|copychunk|stream  a 256 MiB random file copied within the
#       share: sha256 equal; odx, copychunk and auto (which picks ODX on
#       smbxd) move < 0.1% of it over the wire and through the client
#       (--stats); stream moves at least the file each way (so the counters
#       do count);
#   partial      smbxd caps ODX TransferLength / LengthWritten at 1 MiB
#       (`smbxctl server SOCK fault offload-cap`): the copy is still exact and
#       done by ODX;
#   tree         -r -p of a small tree: every file's sha256, size and mtime
#       and every directory's mtime preserved; again without -f fails and
#       leaves the targets alone; with -f overwrites; a directory without -r
#       is omitted with an error;
#   servers      SRC and DST on two smbxd (ports 445 and 1445): --method
#       copychunk and odx fail at once with "different servers", nothing is
#       created; --method auto streams it, correct;
#   mount        both paths on one mount.smbx mount: the mount copies it
#       (method odx in --stats, nothing through the client); a mount path to
#       a URL is resolved through the mount and copied by ODX too.
# Runs in a private network namespace (tests/failover/lib.sh, which also
# mounts for the mount case). Usage:
#   smbxd_test.sh --mount MOUNT.SMBX --smbxd SMBXD --smbxctl SMBXCTL --cp-offload CP-OFFLOAD --case NAME
set -u
export FO_SHARE_OPTIONS=""  # a plain share; persistent handles are not what this tests
export FO_SHARE_SIZE=2g
# shellcheck source=../failover/lib.sh
source "$(dirname "$0")/../failover/lib.sh"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

url() { echo "smb://$HOST/$SHARE/$1"; }

case_method() {
  local method=$1 size=$((256 << 20))
  make_random "$SHARE_PATH/big" "$size"
  expect_cpo_ok --stats --method "$method" "$(url big)" "$(url copy)"
  same_sha "$SHARE_PATH/big" "$SHARE_PATH/copy"
  case $method in
    odx | copychunk) check_offloaded "$method" "$size" ;;
    auto) check_offloaded odx "$size" ;;
    stream)
      local m wire sent received
      m=$(stat_value method) wire=$(stat_value "wire bytes")
      sent=$(sed -n 's/^  wire bytes: [0-9]* (sent \([0-9]*\), received \([0-9]*\))$/\1/p' "$work/cpo.out")
      received=$(sed -n 's/^  wire bytes: [0-9]* (sent \([0-9]*\), received \([0-9]*\))$/\2/p' "$work/cpo.out")
      note "method $m, wire $wire (sent $sent, received $received), through the client $(stat_value "bytes through client")"
      [[ $m == stream ]] || fail "--stats says method '$m', expected stream"
      [[ $sent -ge $size && $received -ge $size ]] ||
        fail "a streamed copy of $size bytes sent $sent and received $received: the counters do not count"
      [[ $(stat_value "bytes through client") -ge $size ]] || fail "bytes through client below the file's size"
      ;;
  esac
}

case_partial() {
  local size=$(((64 << 20) + 4096 + 1000))  # not a whole number of sectors or caps
  make_random "$SHARE_PATH/big" "$size"
  fault offload-cap 1048576
  expect_cpo_ok --stats "$(url big)" "$(url copy)"
  same_sha "$SHARE_PATH/big" "$SHARE_PATH/copy"
  # 64 ODX read/write pairs of ~1.6 KiB each instead of one: under 0.5%.
  check_offloaded odx "$size" 200
  local wire
  wire=$(stat_value "wire bytes")
  [[ $wire -gt $((64 * 1024)) ]] || fail "only $wire wire bytes: the 1 MiB cap did not split the copy into ~64 ODX pairs"
  fault offload-cap 0
}

case_tree() {
  local src=$SHARE_PATH/tree
  mkdir -p "$src/a/b/c" "$src/empty" "$src/d"
  : > "$src/zero"
  printf x > "$src/a/one"
  make_random "$src/a/b/hundred-k" 102400
  make_random "$src/a/b/c/three-m" $((3 << 20))
  make_random "$src/d/odd size" 70001
  local f i=0
  # Distinct times in the past, whole seconds and not.
  while IFS= read -r f; do
    i=$((i + 1))
    touch -m -d "2021-0$((i % 9 + 1))-1$((i % 9)) 10:2$((i % 10)):3$((i % 10)).$((i * 1234567 % 1000000000))" "$f"
  done < <(cd "$src" && find . -mindepth 1 | LC_ALL=C sort -r | sed "s|^\.|$src|")
  # Directories last, deepest first: touching a file changes its directory.
  listing() {  # listing DIR: type, size, mtime (ns, as the server keeps 100 ns), path; file sha256s
    (cd "$1" && find . -mindepth 1 -printf '%y %s %T@ %p\n' | awk '{ if ($1 == "d") $2 = "-"; print }' |
       sed -E 's/ ([0-9]+)\.([0-9]{7})[0-9]* / \1.\2 /' | LC_ALL=C sort -k4 &&
       find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
  }
  listing "$src" > "$work/tree.want"
  expect_cpo_ok -r -p --stats "$(url tree)" "$(url copy)"
  listing "$SHARE_PATH/copy" > "$work/tree.got"
  if ! diff "$work/tree.want" "$work/tree.got" > "$work/tree.diff"; then
    head -n 20 "$work/tree.diff" >&2
    fail "-r -p: the copied tree differs (< source, > copy)"
  fi
  grep -q "^total: 5 files" "$work/cpo.out" || { cat "$work/cpo.out" >&2; fail "--stats shows no total for 5 files"; }
  note "the tree of 5 files and 6 directories came over with its contents and mtimes"

  # cp-like rules: a directory target takes the source under its own name; an
  # existing target file is an error without -f (and stays as it was).
  expect_cpo_ok -r "$(url tree)" "$(url copy)/"
  [[ $(cat "$SHARE_PATH/copy/tree/a/one") == x ]] || fail "-r SRC DIR/ did not copy into DIR/tree"
  printf changed > "$src/a/one"
  run_cpo -r "$(url tree)" "$(url copy)"
  [[ $cpo_rc -eq 1 ]] || { cat "$work/cpo.err" >&2; fail "copying over existing files without -f exited $cpo_rc, expected 1"; }
  grep -q "the target exists (-f overwrites it)" "$work/cpo.err" || { cat "$work/cpo.err" >&2; fail "no 'target exists' message"; }
  [[ $(cat "$SHARE_PATH/copy/tree/a/one") == x ]] || fail "a target was changed without -f"
  expect_cpo_ok -r -f "$(url tree)" "$(url copy)"
  [[ $(cat "$SHARE_PATH/copy/tree/a/one") == changed ]] || fail "-f did not overwrite the target"
  same_sha "$src/a/b/c/three-m" "$SHARE_PATH/copy/tree/a/b/c/three-m"
  # A longer target is cut to the source's size.
  make_random "$SHARE_PATH/long" 200000
  expect_cpo_ok -f "$(url tree/a/one)" "$(url long)"
  same_sha "$src/a/one" "$SHARE_PATH/long"

  # A directory without -r: omitted with cp's message, non-zero exit.
  run_cpo "$(url tree)" "$(url other)"
  [[ $cpo_rc -ne 0 ]] || fail "a directory without -r was copied"
  grep -q "omitting directory" "$work/cpo.err" || { cat "$work/cpo.err" >&2; fail "no 'omitting directory' message"; }
  [[ ! -e $SHARE_PATH/other ]] || fail "a directory without -r left $SHARE_PATH/other"
  # A missing source: not found (4), named.
  run_cpo "$(url nothing-here)" "$(url x)"
  [[ $cpo_rc -eq 4 ]] || { cat "$work/cpo.err" >&2; fail "a missing source exited $cpo_rc, expected 4"; }
  grep -q "nothing-here" "$work/cpo.err" || fail "the message does not name the missing file"
  # Several sources need a directory target.
  run_cpo "$(url tree/zero)" "$(url tree/a/one)" "$(url tree/zero-file)"
  [[ $cpo_rc -ne 0 ]] && grep -q "is not a directory" "$work/cpo.err" ||
    { cat "$work/cpo.err" >&2; fail "several sources onto a file: exit $cpo_rc"; }
  # A local path is refused with a clear word.
  run_cpo "$work/credentials" "$(url x)"
  [[ $cpo_rc -eq 2 ]] && grep -q "copies files within and between SMB servers" "$work/cpo.err" ||
    { cat "$work/cpo.err" >&2; fail "a local source: exit $cpo_rc"; }
}

second_pid=""
stop_second() {
  [[ -n $second_pid ]] || return 0
  kill -TERM "$second_pid" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$second_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$second_pid" 2>/dev/null || true
  wait "$second_pid" 2>/dev/null || true
  second_pid=""
}

case_servers() {
  trap 'rc=$?; stop_second; fo_inside_cleanup_rc $rc' EXIT
  mkdir -p "$SCRATCH/other"
  chmod 777 "$SCRATCH/other"
  "$FO_SMBXD" --listen 127.0.0.1:1445 --share "other=$SCRATCH/other" --user "$USER:$PASSWORD" \
    >"$work/smbxd2.log" 2>&1 &
  second_pid=$!
  wait_listening "$second_pid" 1445 ||
    { cat "$work/smbxd2.log" >&2; fail "the second smbxd does not listen on 1445"; }
  local size=$((8 << 20)) method
  make_random "$SHARE_PATH/f" "$size"
  for method in copychunk odx; do
    run_cpo --method "$method" "$(url f)" "smb://$HOST:1445/other/f"
    [[ $cpo_rc -eq 2 ]] || { cat "$work/cpo.err" >&2; fail "--method $method between servers exited $cpo_rc, expected 2"; }
    grep -q "different servers" "$work/cpo.err" || { cat "$work/cpo.err" >&2; fail "no 'different servers' message"; }
    [[ ! -e $SCRATCH/other/f ]] || fail "--method $method between servers created the target"
    note "--method $method between servers: $(cat "$work/cpo.err")"
  done
  expect_cpo_ok --stats "$(url f)" "smb://$HOST:1445/other/f"
  same_sha "$SHARE_PATH/f" "$SCRATCH/other/f"
  [[ $(stat_value method) == stream ]] || fail "between servers auto used '$(stat_value method)', expected stream"
}

# fo_inside_cleanup reads $?; this one takes the status as an argument.
fo_inside_cleanup_rc() {
  fs_umount_quietly
  fo_stop_smbxd
  exit "$1"
}

case_mount() {
  fs_mount
  local size=$((256 << 20))
  make_random "$SHARE_PATH/big" "$size"
  expect_cpo_ok --stats "$MNT/big" "$MNT/copy"
  same_sha "$SHARE_PATH/big" "$SHARE_PATH/copy"
  local method through
  method=$(stat_value method) through=$(stat_value "bytes through client")
  note "copy within the mount: method $method, through the client $through, wire $(stat_value "wire bytes")"
  [[ $method == odx || $method == copychunk ]] || { cat "$work/cpo.out" >&2; fail "the mount copied with '$method'"; }
  [[ $through -eq 0 ]] || fail "the mount moved $through bytes itself"
  # Without -f the mount's copy is refused for an existing target too.
  run_cpo "$MNT/big" "$MNT/copy"
  [[ $cpo_rc -ne 0 ]] && grep -q "target exists" "$work/cpo.err" || fail "an existing target on the mount: exit $cpo_rc"
  # A mount path to a URL: resolved through the mount, copied over our own connection.
  expect_cpo_ok --stats "$MNT/big" "$(url copy2)"
  same_sha "$SHARE_PATH/big" "$SHARE_PATH/copy2"
  check_offloaded odx "$size"
  # -r -p within the mount: directories made through the mount, times kept.
  mkdir -p "$MNT/dir/sub"
  make_random "$MNT/dir/sub/f" 300000
  touch -m -d "2020-02-02 02:02:02" "$MNT/dir/sub/f" "$MNT/dir/sub"
  expect_cpo_ok -r -p "$MNT/dir" "$MNT/dir2"
  same_sha "$SHARE_PATH/dir/sub/f" "$SHARE_PATH/dir2/sub/f"
  [[ $(stat -c %Y "$MNT/dir2/sub/f") == $(stat -c %Y "$MNT/dir/sub/f") ]] || fail "-p on the mount lost the file's mtime"
  [[ $(stat -c %Y "$MNT/dir2/sub") == $(stat -c %Y "$MNT/dir/sub") ]] || fail "-p on the mount lost the directory's mtime"
  # The mount's root as the target directory of a URL: a bare `resolve`.
  expect_cpo_ok "$(url dir/sub/f)" "$MNT/"
  cmp -s "$MNT/f" "$MNT/dir/sub/f" || fail "a URL copied into the mount's root differs"
  fs_umount
}

scenario() {
  cpo_parse_args "${fo_args[@]}"
  fo_start_smbxd
  case $cpo_case in
    method-auto | method-odx | method-copychunk | method-stream) case_method "${cpo_case#method-}" ;;
    partial) case_partial ;;
    tree) case_tree ;;
    servers) case_servers ;;
    mount) case_mount ;;
    *) fail "unknown --case $cpo_case" ;;
  esac
  note "PASS: $cpo_case"
}

fo_main scenario
