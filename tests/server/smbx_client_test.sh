#!/bin/bash
# The project's own client, smbx, against smbxd: put/get of 64 MiB (sha256 of
# the local file, the share path and the file read back), ls of 2000 files,
# mv, rm, mkdir/rmdir; signed (MODE signed) or encrypted (MODE seal: --seal,
# plus a share with encrypt that refuses anything unencrypted).
# Usage: smbx_client_test.sh SMBXD SMBX signed|seal
set -u
source "$(dirname "$0")/lib.sh"
smbx=${1:?usage: $0 SMBXD SMBX signed|seal}
mode=${2:?usage: $0 SMBXD SMBX signed|seal}
[[ -x $smbx ]] || skip "no smbx client binary ($smbx)"
"$smbx" --help 2>&1 | grep -qw put || skip "smbx has no file commands"
mkdir -p "$work/share" "$work/secret"
start_smbxd --share "share=$work/share" --share "secret=$work/secret,encrypt"

case $mode in
  signed) share=share; root=$work/share; opts=() ;;
  seal) share=secret; root=$work/secret; opts=(--seal) ;;
  *) fail "unknown mode $mode" ;;
esac
url() { echo "smb://$USER_NAME@127.0.0.1/$share${1:+/$1}"; }
run() {  # run ARGS...: smbx in the namespace; sets out, err, rc
  out=$(SMBX_PASSWORD=$USER_PASS in_ns timeout 300 "$smbx" "$@" 2>"$work/smbx.err")
  rc=$?
  err=$(cat "$work/smbx.err")
}
ok() { run "$@"; [[ $rc -eq 0 ]] || fail "smbx $* exited $rc: $(tail -5 <<<"$err")"; }

# Signing or encryption as asked: smbx -v says what it negotiated.
ok ls -v "${opts[@]}" "$(url)"
note "smbx -v: $(grep -iE 'sign|encrypt|seal|cipher' <<<"$out$err" | head -1)"
if [[ $mode == seal ]]; then
  grep -qiE 'encrypt.*AES|cipher.*AES' <<<"$out$err" || fail "smbx -v does not report encryption: $out $err"
else
  grep -qiE 'sign[a-z]* (with )?(AES|HMAC)' <<<"$out$err" || fail "smbx -v does not report signing: $out $err"
fi

head -c $((64 << 20)) /dev/urandom >"$work/src.bin"
want=$(sha "$work/src.bin")
start=$(date +%s.%N)
ok put -q "${opts[@]}" "$work/src.bin" "$(url data.bin)"
mid=$(date +%s.%N)
[[ $(sha "$root/data.bin") == "$want" ]] || fail "put: the file on the share path differs"
ok get -q "${opts[@]}" "$(url data.bin)" "$work/back.bin"
end=$(date +%s.%N)
[[ $(sha "$work/back.bin") == "$want" ]] || fail "get: the file read back differs"
note "64 MiB put $(awk -v a="$start" -v b="$mid" 'BEGIN{printf "%.0f", 64/(b-a)}') MiB/s, get $(awk -v a="$mid" -v b="$end" 'BEGIN{printf "%.0f", 64/(b-a)}') MiB/s, sha256 equal"

mkdir "$root/many"
(cd "$root/many" && for i in $(seq -w 1 2000); do : >"file-$i.txt"; done)
ok ls "${opts[@]}" "$(url many)"
listed=$(sed -E 's/^[d-] +[0-9]+  (-|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8})  //' <<<"$out" | grep -vxE '\.|\.\.' | LC_ALL=C sort)
expected=$(cd "$root/many" && ls -A | LC_ALL=C sort)
[[ $(wc -l <<<"$expected") -eq 2000 ]] || fail "setup made $(wc -l <<<"$expected") files"
[[ $listed == "$expected" ]] || fail "ls of 2000 files differs: $(diff <(echo "$expected") <(echo "$listed") | head -5)"
note "ls listed the 2000 files"

ok mv "${opts[@]}" "$(url data.bin)" "$(url renamed.bin)"
[[ ! -e $root/data.bin && $(sha "$root/renamed.bin") == "$want" ]] || fail "mv did not rename"
ok rm "${opts[@]}" "$(url renamed.bin)"
[[ ! -e $root/renamed.bin ]] || fail "rm left the file"
run rm "${opts[@]}" "$(url renamed.bin)"
[[ $rc -ne 0 ]] && grep -q OBJECT_NAME_NOT_FOUND <<<"$err" || fail "rm of a missing file: exit $rc, '$err'"
ok mkdir "${opts[@]}" "$(url newdir)"
[[ -d $root/newdir ]] || fail "mkdir made no directory"
echo x >"$root/newdir/f"
run rmdir "${opts[@]}" "$(url newdir)"
[[ $rc -ne 0 ]] && grep -q DIRECTORY_NOT_EMPTY <<<"$err" || fail "rmdir of a non-empty directory: exit $rc, '$err'"
rm "$root/newdir/f"
ok rmdir "${opts[@]}" "$(url newdir)"
[[ ! -e $root/newdir ]] || fail "rmdir left the directory"
note "mv, rm (and again: not found), mkdir, rmdir (non-empty refused, then empty)"
grep -E "ERROR: AddressSanitizer|runtime error:" "$work/smbxd.log" && fail "smbxd reported a sanitizer error"
echo "PASS: smbx against smbxd ($mode)"
