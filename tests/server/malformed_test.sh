#!/bin/bash
# Malformed and mutated frames (bad lengths, random bodies for every command,
# broken compound chains, bogus TRANSFORM and SMB1 frames) sent to a live
# smbxd for a bounded time: it must keep serving a well-behaved client on
# another connection, never crash, and (under ASan in the dev preset) report
# no memory error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v smbclient >/dev/null || skip "smbclient is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$work/share"
echo "still here" >"$work/share/probe.txt"
start_smbxd --share "share=$work/share" --log warn

in_ns timeout 120 python3 "$here/malformed_test.py" 127.0.0.1 445 400 40 "${SMBX_FUZZ_SEED:-1}" ||
  fail "the malformed-frame sender failed"
kill -0 "$smbxd_pid" 2>/dev/null || { tail -30 "$work/smbxd.log" >&2; fail "smbxd died"; }
out=$(smbclient_run share 'get probe.txt -' 2>&1)
grep -q "still here" <<<"$out" || { echo "$out"; fail "smbxd no longer serves a normal client"; }
if grep -E "AddressSanitizer|runtime error:" "$work/smbxd.log"; then fail "sanitizer report"; fi
echo "PASS: malformed frames"
