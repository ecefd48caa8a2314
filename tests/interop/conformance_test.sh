#!/usr/bin/env bash
# Conformance of smbx's traffic as Wireshark judges it (issue 4, item 6):
# capture the netns loopback with tshark while smbx runs a session of every
# file command against Samba, then fail if Wireshark reports any malformed
# packet or error-level expert info (`-d tcp.port==PORT,nbss`).
#   conformance_test.sh SMBX CASE
# CASE: signed-3.1.1 signed-3.0.2 signed-3.0 signed-2.1 signed-2.0.2
#       sealed-3.1.1 sealed-3.0.2
# Sealed traffic is judged after Wireshark decrypts it with the password
# (ntlmssp.nt_password); the test checks that it did.
set -euo pipefail
SMBX=$1 case=$2
source "$(dirname "$0")/lib.sh"
require_harness
require_tool tshark python3
require_smbx_client
mode=${case%%-*} vers=${case#*-}
opts=(--vers "$vers")
[[ $mode == sealed ]] && opts+=(--seal)
[[ $mode == signed || $mode == sealed ]] || fail "unknown case $case"
start_samba
ws=(-o "ntlmssp.nt_password:$PASSWORD")

session() {
  local d="conf-$1"
  smbx_ok mkdir "${opts[@]}" "$(url "$SHARE" "$d")"
  # 8 MiB: several multi-credit READs and WRITEs at Samba's 8 MiB maximum.
  smbx_ok put -q "${opts[@]}" "$work/src.bin" "$(url "$SHARE" "$d/data.bin")"
  smbx_ok get -q "${opts[@]}" "$(url "$SHARE" "$d/data.bin")" "$work/back.bin"
  smbx_ok put -q "${opts[@]}" "$work/small.txt" "$(url "$SHARE" "$d/small.txt")"
  smbx_ok ls "${opts[@]}" "$(url "$SHARE" "$d")"
  smbx_ok stat "${opts[@]}" "$(url "$SHARE" "$d/data.bin")"
  smbx_ok cat "${opts[@]}" "$(url "$SHARE" "$d/small.txt")"
  smbx_ok mv "${opts[@]}" "$(url "$SHARE" "$d/small.txt")" "$d/renamed.txt"
  smbx_run get "${opts[@]}" "$(url "$SHARE" "$d/absent")" "$work/absent"   # an error response too
  [[ $rc -eq 4 ]] || fail "get of a missing file: exit $rc: $err"
  smbx_ok rm "${opts[@]}" "$(url "$SHARE" "$d/renamed.txt")" "$(url "$SHARE" "$d/data.bin")"
  smbx_ok rmdir "${opts[@]}" "$(url "$SHARE" "$d")"
}

random_file "$work/src.bin" 8
echo "a small file" > "$work/small.txt"
for attempt in 1 2 3; do
  capture_start "$work/smbx.pcapng"
  session "$attempt"
  capture_stop
  capture_complete && break
  [[ $attempt -lt 3 ]] || fail "three captures in a row lost packets; cannot judge"
done
same_sha "the 8 MiB round trip" "$work/src.bin" "$work/back.bin"

# What Wireshark saw must be the session above, in the right dialect.
count() {  # count FILTER [tshark options]
  local filter=$1
  shift
  tshark -r "$work/smbx.pcapng" -d "tcp.port==$PORT,nbss" "${ws[@]}" "$@" -Y "$filter" 2>/dev/null | wc -l
}
declare -A dialect_hex=([3.1.1]=0x0311 [3.0.2]=0x0302 [3.0]=0x0300 [2.1]=0x0210 [2.0.2]=0x0202)
[[ $(count "smb2.cmd == 0 && smb2.flags.response == 1 && smb2.dialect == ${dialect_hex[$vers]}") -gt 0 ]] ||
  fail "no NEGOTIATE response for dialect $vers in the capture"
writes=$(count 'smb2.cmd == 9 && smb2.flags.response == 0')
reads=$(count 'smb2.cmd == 8 && smb2.flags.response == 0')
[[ $writes -ge 1 && $reads -ge 1 ]] || fail "Wireshark saw $writes WRITE and $reads READ requests (not decrypted?)"
if [[ $mode == sealed ]]; then
  [[ $(count 'smb2.header.transform.nonce') -gt 0 ]] ||
    fail "no transform (encrypted) messages in a sealed session"
fi
note "$writes WRITE and $reads READ requests among the decoded messages"
# Wireshark checks the signatures itself (smb2.verify_signatures, keys from
# the password): an independent judge of smbx's signing. Wireshark 4.0 has no
# AES-GMAC, the 3.1.1 default, and calls every GMAC signature bad (measured on
# Samba's own smbclient: 38 of 39), so 3.1.1 is left to smbx's own checks.
# Nor does it check compounds right: it calls every message but the last of
# a compound bad, Samba's responses as much as smbx's requests (measured:
# CREATE+QUERY_INFO+CLOSE both ways, only the CLOSE "good"), so frames that
# hold a compound are left out of the count.
if [[ $mode == signed && $vers != 3.1.1 ]]; then
  good=$(count 'smb2.good_signature' -o smb2.verify_signatures:TRUE)
  bad=$(count 'smb2.bad_signature && !(smb2.flags.chained == 1 || smb2.chain_offset != 0)' -o smb2.verify_signatures:TRUE)
  compounds=$(count 'smb2.flags.chained == 1')
  if [[ $bad -ne 0 ]]; then
    tshark -r "$work/smbx.pcapng" -d "tcp.port==$PORT,nbss" "${ws[@]}" -o smb2.verify_signatures:TRUE \
      -Y 'smb2.bad_signature && !(smb2.flags.chained == 1 || smb2.chain_offset != 0)' >&2 2>/dev/null || true
    fail "Wireshark finds $bad bad signatures"
  fi
  [[ $good -gt 10 ]] || fail "Wireshark verified only $good signatures"
  note "Wireshark verified $good signatures, none bad ($compounds compound frames not judged)"
fi
conformance_check "$work/smbx.pcapng" "${ws[@]}"
echo "ok: conformance $case"
