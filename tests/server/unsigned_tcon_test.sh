#!/bin/bash
# MS-SMB2 3.3.5.7 on smbxd: an unsigned, unencrypted 3.1.1 TREE_CONNECT of an
# authenticated session ends the connection (unsigned_tcon_test.py), while
# smbclient (which signs it) still connects.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v smbclient >/dev/null || skip "smbclient is not installed"
mkdir -p "$work/share"
start_smbxd --share "share=$work/share"
in_ns timeout 60 python3 "$here/unsigned_tcon_test.py" 127.0.0.1 445 "$USER_NAME" "$USER_PASS" share ||
  { cat "$work/smbxd.log" >&2; fail "unsigned TREE_CONNECT"; }
grep -q "unsigned TREE_CONNECT on 3.1.1; disconnecting" "$work/smbxd.log" || fail "smbxd did not log the disconnect"
smbclient_run share ls --option=clientmaxprotocol=SMB3_11 >"$work/ls.out" 2>&1 || { cat "$work/ls.out"; fail "smbclient ls"; }
note "smbclient (signed TREE_CONNECT) still connects"
echo "PASS: unsigned 3.1.1 TREE_CONNECT"
