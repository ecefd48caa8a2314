#!/bin/bash
# smbxd --config and --control: a config file gives shares, users and the
# control socket (flags override it; bad lines are reported as FILE:LINE);
# the socket is mode 0600 and `status` lists sessions, open handles and leases.
# Usage: control_test.sh SMBXD [SMBXCTL]  (without smbxctl, python3 speaks the protocol)
set -u
source "$(dirname "$0")/lib.sh"
smbxctl=${1:-}
command -v smbclient >/dev/null || skip "smbclient is not installed"
mkdir -p "$work/share" "$work/other"
echo hello >"$work/share/held.txt"
make_netns

# Bad lines: exit 2 and FILE:LINE in the message.
printf '[global]\nuser = u:p\n[s]\npath = %s\nencrypt = maybe\n' "$work/share" >"$work/bad.conf"
out=$(in_ns timeout 10 "$smbxd" --config "$work/bad.conf" 2>&1); rc=$?
[[ $rc -eq 2 ]] || fail "bad config: exit $rc, expected 2"
grep -q "$work/bad.conf:5: encrypt = 'maybe': expected yes or no" <<<"$out" || fail "bad config message: $out"
out=$(in_ns timeout 10 "$smbxd" --config "$work/missing.conf" 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "missing.conf: cannot open" <<<"$out" || fail "missing config: exit $rc, '$out'"
note "config errors name the file and line"

sock="$work/smbxd.sock"
cat >"$work/smbxd.conf" <<CONF
# smbxd test configuration
[global]
    listen = 127.0.0.1:445
    user = $USER_NAME:wrong-password-overridden-by-flag
    log level = info
    control = $sock
[share]
    path = $work/other
[ro]
    path = $work/share
    read only = yes
CONF
# The flags replace the user's password and the path of [share].
start_smbxd --config "$work/smbxd.conf" --share "share=$work/share"
[[ -S $sock ]] || fail "no control socket at $sock"
mode=$(stat -c %a "$sock")
[[ $mode == 600 ]] || fail "control socket mode $mode, expected 600"
note "control socket $sock, mode $mode"

control() {  # control WORDS...: the reply lines, exit status as smbxctl's
  if [[ -n $smbxctl && -x $smbxctl ]]; then
    "$smbxctl" server "$sock" "$@"
  else
    python3 - "$sock" "$*" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
lines = data.decode().splitlines()
if not lines or lines[0] != "ok":
    print("smbxctl: " + (lines[0][6:] if lines and lines[0].startswith("error ") else "bad reply"), file=sys.stderr)
    sys.exit(1)
print("\n".join(lines[1:]))
PY
  fi
}
[[ -n $smbxctl && -x $smbxctl ]] && note "querying with $smbxctl" || note "querying with python3 (no smbxctl)"

# A client that keeps a file open while we look.
mkfifo "$work/in"
in_ns timeout 60 smbclient //127.0.0.1/share -U "$USER_NAME%$USER_PASS" --option=clientmaxprotocol=SMB3_11 \
  --client-protection=sign <"$work/in" >"$work/smbclient.out" 2>&1 &
client_pid=$!
exec 7>"$work/in"
echo "open held.txt" >&7
status=""
for _ in $(seq 50); do
  status=$(control status) || fail "status failed"
  grep -q "held.txt" <<<"$status" && break
  sleep 0.2
done
echo "$status"
grep -Eq "^sessions: 1$" <<<"$status" || fail "status does not list one session"
grep -Eq "^  session [0-9]+ user $USER_NAME peer 127\.0\.0\.1:[0-9]+ dialect 3\.1\.1 signing [A-Z-]+ encryption none$" \
  <<<"$status" || fail "session line missing or wrong"
grep -Eq "^open handles: [1-9]" <<<"$status" || fail "no open handles listed"
grep -Eq "^  handle [0-9]+ session [0-9]+ path share:/held\.txt access 0x[0-9a-f]{8} caching " <<<"$status" ||
  fail "held.txt handle line missing"
grep -Eq "^leases: [0-9]+$" <<<"$status" || fail "no leases line"
echo "quit" >&7
exec 7>&-
wait "$client_pid" 2>/dev/null

out=$(control bogus 2>&1); rc=$?
[[ $rc -eq 1 ]] && grep -q "unknown command 'bogus'" <<<"$out" || fail "unknown command: exit $rc, '$out'"
note "unknown command answered with an error"

# The file's [ro] share is there and read-only; the flag-given share path won.
in_ns smbclient //127.0.0.1/ro -U "$USER_NAME%$USER_PASS" -c "put $work/smbxd.conf x.conf" </dev/null >"$work/ro.out" 2>&1
grep -q "NT_STATUS_ACCESS_DENIED" "$work/ro.out" || fail "read only = yes did not refuse a put: $(cat "$work/ro.out")"
note "config shares and flag overrides work"
echo "PASS: smbxd --config and --control"
