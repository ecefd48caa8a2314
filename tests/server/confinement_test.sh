#!/bin/bash
# Path confinement over the wire, through Samba's smbclient: links that lead
# out of the share, names Windows forbids and over-long names are refused with
# the right NTSTATUS and nothing outside the share is read or listed. A
# readonly share refuses writes. (smbclient folds ".." itself before sending;
# tests/unit/server_share_path_test.cpp sends ".." and absolute names to the
# backend directly.)
set -u
source "$(dirname "$0")/lib.sh"
command -v smbclient >/dev/null || skip "smbclient is not installed"

mkdir -p "$work/share/sub" "$work/outside" "$work/ro"
echo "secret" >"$work/outside/secret.txt"
echo "inside" >"$work/share/sub/inside.txt"
echo "readonly" >"$work/ro/file.txt"
echo data >"$work/small"
ln -s /etc "$work/share/etc_link"
ln -s ../outside/secret.txt "$work/share/rel_out"
ln -s "$work/outside" "$work/share/dir_out"
ln -s sub/inside.txt "$work/share/link_in"
start_smbxd --share "share=$work/share" --share "ro=$work/ro,readonly"

expect_status() {  # expect_status WHAT STATUS COMMANDS
  local out
  out=$(cd "$work" && smbclient_run share "$3" 2>&1)
  grep -q "$2" <<<"$out" || { echo "$out"; fail "$1: expected $2"; }
  note "$1: $2"
}
expect_status "symlink to /etc" NT_STATUS_ACCESS_DENIED 'get etc_link\passwd got1'
expect_status "listing through a symlink to /etc" NT_STATUS_ACCESS_DENIED 'ls etc_link\*'
expect_status "relative symlink out" NT_STATUS_ACCESS_DENIED 'get rel_out got2'
expect_status "absolute symlink to a directory out" NT_STATUS_ACCESS_DENIED 'get dir_out\secret.txt got3'
expect_status "stream-like name" NT_STATUS_OBJECT_NAME_INVALID 'get a:b got4'
expect_status "name with a pipe" NT_STATUS_OBJECT_NAME_INVALID 'put small a|b'
expect_status "256-character name" NT_STATUS_OBJECT_NAME_INVALID "get $(printf 'x%.0s' $(seq 256)) got5"
expect_status "missing directory on the way" NT_STATUS_OBJECT_PATH_NOT_FOUND 'get nodir\file got6'
for f in got1 got2 got3 got4 got5 got6; do
  [[ ! -s $work/$f ]] || fail "$f was served"
done

out=$(smbclient_run share 'get link_in -' 2>&1)
grep -q inside <<<"$out" || { echo "$out"; fail "a symlink inside the share was not served"; }
note "symlink inside the share: served"
out=$(smbclient_run share 'ls' 2>&1) || { echo "$out"; fail "ls failed"; }
grep -Eq "etc_link|rel_out|dir_out" <<<"$out" && { echo "$out"; fail "ls shows links that lead out"; }
grep -q link_in <<<"$out" || fail "ls hides the link inside"
note "ls: links out hidden, link in shown"

out=$(cd "$work" && smbclient_run ro 'put small new.txt; rm file.txt; mkdir d' 2>&1)
[[ ! -e $work/ro/new.txt && -e $work/ro/file.txt && ! -e $work/ro/d ]] || { echo "$out"; fail "readonly share was written"; }
grep -q NT_STATUS_ACCESS_DENIED <<<"$out" || { echo "$out"; fail "readonly share: no ACCESS_DENIED"; }
out=$(smbclient_run ro 'get file.txt -' 2>&1)
grep -q readonly <<<"$out" || { echo "$out"; fail "readonly share: cannot read"; }
note "readonly share: reads served, writes refused"
echo "PASS: confinement"
