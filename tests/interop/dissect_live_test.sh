#!/usr/bin/env bash
# `smbx dissect` against a conversation captured live: Samba's smbclient talks
# to the harness' smbd while tshark records the netns loopback; the capture is
# turned into frames (tests/data/captures/pcap2frames.py) and smbx dissect must
# decode every message, verify every signature and decrypt every transform
# message with the password. A fresh conversation each run, so the dissector
# is checked against new keys, salts and nonces, not only the stored captures.
#   dissect_live_test.sh SMBX CASE
# CASE: smb311-signed smb302-signed smb300-signed smb210-signed smb202-signed
#       smb311-aes-128-gcm smb311-aes-128-ccm smb311-aes-256-gcm
#       smb311-aes-256-ccm smb300-encrypted
set -euo pipefail
SMBX=$1 case=$2
source "$(dirname "$0")/lib.sh"
require_harness
require_tool tshark python3
[[ -x $SMBX ]] || fail "no smbx binary at $SMBX"

declare -A protocol=([smb311]=SMB3_11 [smb302]=SMB3_02 [smb300]=SMB3_00 [smb210]=SMB2_10 [smb202]=SMB2_02)
declare -A dialect=([smb311]=3.1.1 [smb302]=3.0.2 [smb300]=3.0 [smb210]=2.1 [smb202]=2.0.2)
declare -A cipher_id=([AES-128-CCM]=1 [AES-128-GCM]=2 [AES-256-CCM]=3 [AES-256-GCM]=4)
version=${case%%-*}
[[ -n ${protocol[$version]:-} ]] || fail "unknown case $case"
rest=${case#*-}
cipher=""
case $rest in
  signed) ;;
  encrypted) ;;
  aes-*) cipher=${rest^^}; export SMB_ENCRYPTION_ALGORITHMS=$cipher ;;
  *) fail "unknown case $case" ;;
esac
start_samba

printf 'hello, live capture %s\n' "$RANDOM" > "$work/hello.txt"
head -c 200000 /dev/urandom > "$work/payload.bin"
if [[ $rest == signed ]]; then
  share=$SHARE
  commands="put $work/hello.txt hello.txt; put $work/payload.bin payload.bin; get payload.bin $work/back.bin;
            mkdir d1; ls; rename hello.txt d1\\h.txt; del payload.bin; ls d1\\*"
else
  share=$SECRET_SHARE
  commands="put $work/payload.bin payload.bin; get payload.bin $work/back.bin; ls"
fi

# A capture that lost packets says nothing about the dissector: try again
# (bounded) rather than judge it.
for attempt in 1 2 3; do
  capture_start "$work/live.pcapng"
  smbclient_run "$share" "$commands" -m "${protocol[$version]}" >"$work/smbclient.log" 2>&1 ||
    { cat "$work/smbclient.log"; fail "smbclient failed"; }
  capture_stop
  capture_complete && capture_without_retransmissions "$work/live.pcapng" "$work/clean.pcapng" && break
  [[ $attempt -lt 3 ]] || fail "three captures in a row lost packets"
  smbclient_run "$share" "del payload.bin" >/dev/null 2>&1 || true
  [[ $rest == signed ]] && { smbclient_run "$share" "del d1\\h.txt; rmdir d1" >/dev/null 2>&1 || true; }
done
same_sha "payload round trip through smbclient" "$work/payload.bin" "$work/back.bin"

# The conversation really is what the case says.
neg=$(tshark -r "$work/live.pcapng" -d "tcp.port==$PORT,nbss" -Y 'smb2.cmd == 0 && smb2.flags.response == 1' \
        -T fields -e smb2.dialect -e smb2.negotiate_context.cipher_id 2>/dev/null | head -1)
note "negotiate response: dialect/cipher fields '$neg'"
if [[ -n $cipher ]]; then
  got=$(cut -f2 <<<"$neg")
  [[ -n $got && $((got)) -eq ${cipher_id[$cipher]} ]] || fail "server chose cipher '$(cut -f2 <<<"$neg")', expected $cipher (${cipher_id[$cipher]})"
fi

python3 "$pcap2frames" "$work/clean.pcapng" "$PORT" > "$work/live.frames"
[[ $(grep -c '^C ' "$work/live.frames") -gt 5 ]] || fail "pcap2frames found no conversation"
set +e
"$SMBX" dissect "$work/live.frames" --password "$PASSWORD" > "$work/dissect.out" 2>"$work/dissect.err"
rc=$?
set -e
summary=$(tail -1 "$work/dissect.err")
note "smbx dissect: $summary"
if [[ $rc -ne 0 ]]; then
  grep -E 'sig=bad|^!!' "$work/dissect.out" | head -20 >&2 || true
  fail "smbx dissect exited $rc on the live $case capture"
fi
grep -q "NEGOTIATE response dialect ${dialect[$version]} " "$work/dissect.out" ||
  fail "dissect did not see dialect ${dialect[$version]}: $(grep 'NEGOTIATE response' "$work/dissect.out")"
grep -q 'sig=bad' "$work/dissect.out" && fail "a bad signature"
[[ $(grep -c 'sig=ok' "$work/dissect.out") -gt 3 ]] || fail "too few verified signatures"
grep -q 'WRITE request' "$work/dissect.out" || fail "the WRITE was not decoded"
if [[ $rest != signed ]]; then
  [[ $(grep -c 'decrypted' "$work/dissect.out") -gt 3 ]] || fail "nothing decrypted in an encrypted conversation"
fi
# The same conversation through Wireshark's eyes: the conformance check the
# smbx tests use must pass Samba's own client (it proves the check itself).
conformance_check "$work/live.pcapng" -o "ntlmssp.nt_password:$PASSWORD"
echo "ok: dissect live $case"
