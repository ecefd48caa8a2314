#!/bin/bash
# The reconnect and replay traffic of mount.smbx is well-formed SMB2 (issue 7):
# the loopback of the test's namespace is captured (dumpcap) while a steady
# writer runs through a signed, unencrypted mount and smbxd first drops the
# response to a WRITE (`fault drop-responses 1 write`), then is killed with
# -9 and restarted. tshark then must find
#   - no malformed packet;
#   - replayed requests (SMB2_FLAGS_REPLAY_OPERATION), a WRITE among them;
#   - CREATEs with a DH2C context whose CreateGuid is one a DH2Q asked for,
#     with the persistent flag (smbxd grants persistent handles on the CA share).
# Usage: conformance_test.sh --mount M --smbxd S --smbxctl C
source "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || skip "tshark is not installed"
command -v dumpcap >/dev/null || skip "dumpcap is not installed"
writer=$fs_lib_dir/../failover/writer.py

scenario() {
  fo_start_smbxd
  local cap=$work/failover.pcapng  # kept with SMBX_TEST_KEEP=1
  dumpcap -q -i lo -f "tcp port 445" -w "$cap" 2>"$work/dumpcap.err" &
  local dumpcap_pid=$!
  wait_for grep -q "File:\|Capturing" "$work/dumpcap.err" || { kill "$dumpcap_pid"; fail "dumpcap did not start: $(cat "$work/dumpcap.err")"; }
  fs_mount -o hard,sign
  python3 "$writer" write "$MNT/steady.bin" --copy "$SCRATCH/steady.copy" --chunk 65536 --fsync-every 4 \
    --rate-mbps 4 --duration 10 --gaps "$work/gaps.log" >"$work/writer.out" 2>&1 &
  local wpid=$!
  sleep 2
  fault drop-responses 1 write steady.bin
  WAIT_LIMIT_MS=10000 wait_for grep -q "fault: dropped the response to WRITE" "$work/smbxd.log" ||
    fail "no WRITE response was dropped within 10 s"
  sleep 2
  fo_kill_smbxd
  fo_start_smbxd
  local rc=0
  wait "$wpid" || rc=$?
  sleep 1
  kill -INT "$dumpcap_pid"
  wait "$dumpcap_pid" 2>/dev/null

  local total malformed
  total=$(tshark -r "$cap" -Y smb2 2>/dev/null | wc -l)
  [[ $total -gt 100 ]] || fail "tshark decoded only $total SMB2 packets"
  malformed=$(tshark -r "$cap" -Y "_ws.malformed" 2>/dev/null | wc -l)
  if [[ $malformed -ne 0 ]]; then
    tshark -r "$cap" -Y "_ws.malformed" 2>/dev/null | head -n 5 >&2
    fail "$malformed malformed packets in the capture"
  fi
  local sessions
  sessions=$(tshark -r "$cap" -Y "smb2.cmd == 1 && smb2.flags.response == 1 && smb2.nt_status == 0" 2>/dev/null | wc -l)
  [[ $sessions -ge 3 ]] || fail "expected 3 session setups (start, after the drop, after the kill), saw $sessions"

  # Replayed requests: which commands.
  local replayed
  replayed=$(tshark -r "$cap" -Y "smb2.flags.replay == 1 && smb2.flags.response == 0" -T fields -e smb2.cmd 2>/dev/null |
    tr ',' '\n' | sort | uniq -c | awk '{ split("NEGOTIATE SESSION_SETUP LOGOFF TREE_CONNECT TREE_DISCONNECT CREATE CLOSE FLUSH READ WRITE LOCK IOCTL CANCEL ECHO QUERY_DIRECTORY CHANGE_NOTIFY QUERY_INFO SET_INFO", n, " "); print $2 " " n[$2 + 1] " x" $1 }')
  [[ -n $replayed ]] || fail "no request carries SMB2_FLAGS_REPLAY_OPERATION"
  grep -q "^9 WRITE x" <<<"$replayed" || fail "no replayed WRITE (replayed commands: $(tr '\n' ';' <<<"$replayed"))"
  local unsigned
  unsigned=$(tshark -r "$cap" -Y "smb2.flags.replay == 1 && smb2.flags.response == 0 && smb2.flags.signature == 0" 2>/dev/null | wc -l)
  [[ $unsigned -eq 0 ]] || fail "$unsigned replayed requests are not signed"

  # DH2C reconnects name CreateGuids that DH2Q requests made.
  tshark -r "$cap" -Y 'smb2.cmd == 5 && smb2.flags.response == 0 && smb2.tag == "DH2Q"' -T fields -e smb2.dh2x.create_guid \
    2>/dev/null | tr ',' '\n' | sort -u >"$work/dh2q.guids"
  tshark -r "$cap" -Y 'smb2.cmd == 5 && smb2.flags.response == 0 && smb2.tag == "DH2C"' -T fields -e smb2.dh2x.create_guid \
    2>/dev/null | tr ',' '\n' | sed '/^$/d' | sort -u >"$work/dh2c.guids"
  [[ -s $work/dh2q.guids ]] || fail "no CREATE asks for a durable v2 handle (DH2Q)"
  [[ -s $work/dh2c.guids ]] || fail "no CREATE reconnects a durable handle with DH2C"
  local unknown
  unknown=$(comm -13 "$work/dh2q.guids" "$work/dh2c.guids")
  [[ -z $unknown ]] || fail "DH2C with CreateGuids no DH2Q asked for: $unknown"
  local persistent
  persistent=$(tshark -r "$cap" -Y 'smb2.cmd == 5 && smb2.flags.response == 1 && smb2.dh2x.flags & 0x2' \
    2>/dev/null | wc -l)
  [[ $persistent -gt 0 ]] || fail "smbxd granted no persistent handle on the CA share"
  # MS-SMB2 3.2.4.3.x: a DH2C of a persistent open sets SMB2_DHANDLE_FLAG_PERSISTENT
  # (3.3.5.9.12: else the server answers OBJECT_NAME_NOT_FOUND). Every open here is persistent.
  local bad
  bad=$(tshark -r "$cap" -Y 'smb2.cmd == 5 && smb2.flags.response == 0 && smb2.tag == "DH2C" && !(smb2.dh2x.flags & 0x2)' \
    -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
  [[ -z $bad ]] || fail "DH2C without the persistent flag for a persistent open (frames $bad)"
  note "$total SMB2 packets, none malformed; replayed: $(cut -d' ' -f2- <<<"$replayed" | paste -sd, -); $(wc -l <"$work/dh2c.guids") CreateGuid(s) reconnected with DH2C"
  # The application's view (checked after the traffic, so that both are reported).
  [[ $rc -eq 0 ]] || fail "the writer saw errors: $(cat "$work/writer.out"): $(grep error "$work/gaps.log")"
  python3 "$writer" verify "$SHARE_PATH/steady.bin" "$SCRATCH/steady.copy" >"$work/verify.out" ||
    fail "bytes lost: $(cat "$work/verify.out")"
  note "writer: $(cat "$work/writer.out"); $(cat "$work/verify.out")"
  fs_umount
  echo "PASS: reconnect and replay traffic decodes cleanly and carries the replay flag and DH2C"
}

fo_main scenario
