#!/bin/bash
# READ responses of smbxd over the wire (compound_read_test.py): a lone READ
# (sent from the buffer its data was read into) and READs inside unrelated
# and related compounds return exactly the file's bytes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$work/share"
head -c 200000 /dev/urandom >"$work/share/data.bin"
start_smbxd --share "share=$work/share"
in_ns timeout 60 python3 "$here/compound_read_test.py" 127.0.0.1 445 "$USER_NAME" "$USER_PASS" share data.bin \
  "$work/share/data.bin" || { cat "$work/smbxd.log" >&2; fail "READ responses"; }
kill -0 "$smbxd_pid" 2>/dev/null || fail "smbxd exited"
echo "PASS: lone and compound READs"
