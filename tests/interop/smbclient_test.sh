#!/usr/bin/env bash
# The harness itself, proven with Samba's own client: put and get through the
# signed `plain` share and the encryption-required `secret` share, compare
# sha256 on the client, on the share path and after the round trip, and check
# that the server refuses a wrong password and a missing share.
#   smbclient_test.sh FIXTURE_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_harness
load_samba "$1"

printf 'hello from the smbx harness %s\n' "$RANDOM$RANDOM" > "$work/hello.txt"
random_file "$work/payload.bin" 4
for share in "$SHARE" "$SECRET_SHARE"; do
  dir=smoke-$share-$$
  path=$SHARE_PATH
  [[ $share == "$SECRET_SHARE" ]] && path=$SECRET_PATH
  smbclient_run "$share" "mkdir $dir; cd $dir; put $work/hello.txt hello.txt; put $work/payload.bin payload.bin;
                 get hello.txt $work/hello.$share; get payload.bin $work/payload.$share" -m SMB3_11 >/dev/null ||
    fail "smbclient put/get on //$HOST/$share"
  same_sha "$share: hello.txt on the share path" "$work/hello.txt" "$path/$dir/hello.txt"
  same_sha "$share: hello.txt round trip" "$work/hello.txt" "$work/hello.$share"
  same_sha "$share: payload.bin on the share path" "$work/payload.bin" "$path/$dir/payload.bin"
  same_sha "$share: payload.bin round trip" "$work/payload.bin" "$work/payload.$share"
  rm -rf "${path:?}/$dir"
done

# The secret share must refuse a client that cannot encrypt (SMB 2.1 has no
# encryption; an SMB3 smbclient encrypts whenever the share asks, whatever
# its own setting).
if smbclient_run "$SECRET_SHARE" ls -m SMB2_10 >"$work/plain.out" 2>&1; then
  fail "the secret share accepted an unencrypted client"
fi
grep -q ACCESS_DENIED "$work/plain.out" || { cat "$work/plain.out"; fail "unencrypted access to secret: no ACCESS_DENIED"; }
note "secret share refuses an SMB 2.1 (unencrypted) client: $(grep -o 'NT_STATUS_[A-Z_]*' "$work/plain.out" | head -1)"

set +e
in_ns smbclient "//$HOST/$SHARE" -p "$PORT" -U "$DOMAIN\\$USER%wrong-$PASSWORD" -c ls </dev/null >"$work/wrong.out" 2>&1
rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q NT_STATUS_LOGON_FAILURE "$work/wrong.out" || { cat "$work/wrong.out"; fail "wrong password accepted or no LOGON_FAILURE"; }
smbclient_run no-such-share ls >"$work/missing.out" 2>&1 && fail "a missing share was accepted"
grep -q NT_STATUS_BAD_NETWORK_NAME "$work/missing.out" || { cat "$work/missing.out"; fail "missing share: no BAD_NETWORK_NAME"; }
note "wrong password -> NT_STATUS_LOGON_FAILURE, missing share -> NT_STATUS_BAD_NETWORK_NAME"
echo "ok: smbclient against the harness"
