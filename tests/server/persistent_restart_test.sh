#!/bin/bash
# Persistent handles on a continuously available share survive `kill -9` of
# smbxd (issue 7; MS-SMB2 3.3.5.9.10 / 3.3.5.9.12; failover.md section 12):
# a client holds a persistent open with an RWH lease and a byte-range lock,
# smbxd is killed while the connection is up and started again on the same
# --state-dir; `smbxctl status` lists the open as disconnected with its
# CreateGuid; the client's DH2C with the same ClientGuid/CreateGuid/LeaseKey
# gets it back with the lease and the lock, and a replayed CREATE finds it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
mkdir -p "$work/share" "$work/state"
client_pid=""
trap 'if [[ -n $client_pid ]]; then kill "$client_pid" 2>/dev/null; fi; cleanup' EXIT
start_args=(--share "ca=$work/share,ca" --state-dir "$work/state" --control "$work/ctl.sock" --log debug)
start_smbxd "${start_args[@]}"
in_ns timeout 60 python3 "$here/persistent_restart_test.py" 127.0.0.1 445 "$USER_NAME" "$USER_PASS" ca \
  "$work/client.state" create >"$work/client1.out" 2>&1 &
client_pid=$!
for _ in $(seq 100); do grep -q READY "$work/client1.out" && break; kill -0 $client_pid 2>/dev/null || break; sleep 0.1; done
grep -q READY "$work/client1.out" || { cat "$work/client1.out" "$work/smbxd.log" >&2; fail "persistent open not made"; }
note "$(cat "$work/client1.out")"
kill -KILL "$smbxd_pid"
wait "$smbxd_pid" 2>/dev/null
cp "$work/smbxd.log" "$work/smbxd-1.log"
wait "$client_pid"
client_pid=""
[[ $(cat "$work/share/persistent.dat") == "persistent data" ]] || fail "the WRITE_THROUGH data is not in the file"

start_smbxd "${start_args[@]}"
status=$(python3 - "$work/ctl.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"status\n")
out = b""
while chunk := s.recv(65536): out += chunk
print(out.decode())
PY
)
echo "$status" | grep -E "disconnected handles|persistent" || true
create_guid=$(cut -d' ' -f3 "$work/client.state")
echo "$status" | grep -q "persistent.dat persistent timeout-left-ms [0-9]* create-guid $create_guid" ||
  { echo "$status"; cat "$work/smbxd.log" >&2; fail "status does not list the restored persistent open"; }
in_ns timeout 60 python3 "$here/persistent_restart_test.py" 127.0.0.1 445 "$USER_NAME" "$USER_PASS" ca \
  "$work/client.state" reconnect || { cat "$work/smbxd.log" >&2; fail "reconnect after the restart"; }
grep -E "ERROR: AddressSanitizer|runtime error:" "$work/smbxd-1.log" "$work/smbxd.log" && fail "sanitizer error"
echo "PASS: persistent handle survived kill -9 and restart of smbxd"
