#!/bin/bash
# ODX on smbxd (issue 8; offload_test.py says what is checked): tokens copy
# the right bytes, go stale when the source changes, cannot be forged, carry
# no access to a share the user may not use (users=), honour the offload-cap
# fault, are accepted by a second smbxd holding the same key file, and stay
# valid across a restart of smbxd on the same --state-dir (whose
# smbxd-offload.key is the shared key; a second live smbxd cannot share the
# state dir itself: the state store holds SQLite's exclusive lock).
# Usage: offload_test.sh SMBXD [SMBXCTL]
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$work/share" "$work/secret" "$work/state"
head -c $((3 * 1048576 + 1000)) /dev/urandom >"$work/share/src.bin"
head -c 5000 /dev/urandom >"$work/secret/secret.bin"
start_args=(--share "share=$work/share" --share "secret=$work/secret,users=$USER_NAME"
            --user "smbxuser2:Pass-w0rd2" --state-dir "$work/state" --control "$work/ctl.sock" --log info)
start_smbxd "${start_args[@]}"
run() { in_ns timeout 60 python3 "$here/offload_test.py" 127.0.0.1 445 "$work/ctl.sock" "$work" "$@"; }
run main || { tail -20 "$work/smbxd.log" >&2; fail "offload checks"; }

key="$work/state/smbxd-offload.key"
[[ -f $key && $(stat -c %a "$key") == 600 && $(stat -c %s "$key") == 32 ]] ||
  fail "$key is not a 32-byte file of mode 0600: $(stat -c '%a %s' "$key" 2>&1)"
key_before=$(sha "$key")

run token || fail "token for the restart"

# Another smbxd (its own port and store, since a store is one process's) with
# the same key and share directory accepts the token: verification needs the
# key file, no shared table.
mkdir -p "$work/state2"
ln "$key" "$work/state2/smbxd-offload.key"
second_pid=""
trap 'if [[ -n $second_pid ]]; then kill "$second_pid" 2>/dev/null; fi; cleanup' EXIT
ip netns exec "$ns" "$smbxd" --listen 127.0.0.1:4455 --user "$USER_NAME:$USER_PASS" --share "share=$work/share" \
  --state-dir "$work/state2" --log warn >"$work/smbxd-2.log" 2>&1 &
second_pid=$!
wait_listening -n "$ns" "$second_pid" 4455 || { cat "$work/smbxd-2.log" >&2; fail "the second smbxd does not listen on 4455"; }
in_ns timeout 60 python3 "$here/offload_test.py" 127.0.0.1 4455 "$work/ctl.sock" "$work" use-token ||
  { cat "$work/smbxd-2.log" >&2; fail "a second smbxd with the same key refused the token"; }
kill -TERM "$second_pid"
wait "$second_pid" 2>/dev/null
second_pid=""
rm -f "$work/share/after-restart.bin"

kill -TERM "$smbxd_pid"
wait "$smbxd_pid" 2>/dev/null
cp "$work/smbxd.log" "$work/smbxd-1.log"
start_smbxd "${start_args[@]}"
[[ $(sha "$key") == "$key_before" ]] || fail "the restart replaced the token key"
run use-token || { tail -20 "$work/smbxd.log" >&2; fail "token from before the restart"; }
grep -E "ERROR: AddressSanitizer|runtime error:" "$work/smbxd-1.log" "$work/smbxd-2.log" "$work/smbxd.log" &&
  fail "sanitizer error"
echo "PASS: offload tokens"
