#!/bin/bash
# Samba's smbclient against smbxd: ls, put, get (64 MiB, sha256 compared),
# mkdir, rename, hardlink, setea/geteas, rm, rmdir and allinfo, in one dialect / protection mode.
# Usage: smbclient_test.sh SMBXD MODE, MODE one of smb311-signed,
# smb311-encrypted, encrypt-share, smb202-signed, smb210, smb300-signed, smb300-encrypted, smb302-encrypted.
set -u
source "$(dirname "$0")/lib.sh"
mode=${1:?mode}
command -v smbclient >/dev/null || skip "smbclient is not installed"

mkdir -p "$work/share" "$work/enc"
share=share
case $mode in
  smb311-signed) opts=(--option=clientmaxprotocol=SMB3_11 --option=clientsigning=required) ;;
  smb311-encrypted) opts=(--option=clientmaxprotocol=SMB3_11 --client-protection=encrypt) ;;
  encrypt-share) opts=(--option=clientmaxprotocol=SMB3_11); share=enc ;;
  smb202-signed) opts=(--option=clientmaxprotocol=SMB2_02 --option=clientsigning=required) ;;
  smb210) opts=(--option=clientmaxprotocol=SMB2_10) ;;
  smb300-signed) opts=(--option=clientmaxprotocol=SMB3_00 --option=clientsigning=required) ;;
  smb300-encrypted) opts=(--option=clientmaxprotocol=SMB3_00 --client-protection=encrypt) ;;
  smb302-encrypted) opts=(--option=clientmaxprotocol=SMB3_02 --client-protection=encrypt) ;;
  *) fail "unknown mode $mode" ;;
esac
start_smbxd --share "share=$work/share" --share "enc=$work/enc,encrypt" --log debug
root=$work/$share

head -c $((64 << 20)) /dev/urandom >"$work/big.bin"
echo "small file" >"$work/small.txt"
out=$(cd "$work" && smbclient_run "$share" \
  "put big.bin big.bin; put small.txt small.txt; get big.bin got.bin; mkdir d1; rename small.txt d1\\moved.txt; hardlink d1\\moved.txt d1\\linked.txt; ls; ls d1\\*; allinfo big.bin" \
  "${opts[@]}" 2>&1) || { echo "$out"; fail "smbclient ($mode) failed"; }
echo "$out"
[[ $(sha "$work/big.bin") == $(sha "$root/big.bin") ]] || fail "put: the file on the share differs"
[[ $(sha "$work/big.bin") == $(sha "$work/got.bin") ]] || fail "get: the file read back differs"
note "put/get 64 MiB: sha256 matches"
[[ -f $root/d1/moved.txt && ! -e $root/small.txt ]] || fail "rename did not move small.txt to d1/moved.txt"
grep -q "moved.txt" <<<"$out" || fail "ls d1 does not show moved.txt"
grep -Eq "^ +big.bin +A +67108864" <<<"$out" || fail "ls does not show big.bin with its size"
grep -q "stream: \[::\$DATA\], 67108864 bytes" <<<"$out" || fail "allinfo does not show the data stream"
grep -q "write_time:" <<<"$out" || fail "allinfo shows no times"
# A hard link (SET_INFO FileLinkInformation): the same inode under two names;
# onto an existing name without ReplaceIfExists it is a collision.
[[ $(stat -c %i "$root/d1/moved.txt") == $(stat -c %i "$root/d1/linked.txt") ]] ||
  fail "hardlink: d1/linked.txt is not the inode of d1/moved.txt"
out=$(smbclient_run "$share" "hardlink big.bin d1\\linked.txt" "${opts[@]}" 2>&1) || true
grep -q "NT_STATUS_OBJECT_NAME_COLLISION" <<<"$out" || { echo "$out"; fail "hardlink onto an existing name: no collision"; }
note "hardlink: one inode, two names; onto an existing name: OBJECT_NAME_COLLISION"

# Extended attributes, kept as user.* xattrs like smbd keeps them: names
# compare without case (a set in another case replaces), an empty value
# removes, and EAs set on the server side show up.
out=$(smbclient_run "$share" "setea big.bin EaOne value1; setea big.bin Second two; setea big.bin EAONE replaced; setea big.bin second; geteas big.bin" "${opts[@]}" 2>&1) ||
  { echo "$out"; fail "smbclient setea/geteas ($mode) failed"; }
grep -q "^EaOne (0) =" <<<"$out" || { echo "$out"; fail "geteas does not list EaOne"; }
grep -q "72 65 70 6C 61 63 65 64" <<<"$out" || { echo "$out"; fail "geteas: EaOne was not replaced by EAONE"; }
grep -qi "^second" <<<"$out" && { echo "$out"; fail "geteas still lists the removed EA Second"; }
xattr() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$@" 2>/dev/null; }
[[ $(xattr "$root/big.bin" user.EaOne) == replaced ]] || fail "the EA is not the xattr user.EaOne on the share"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.FromServer", b"local")' "$root/big.bin"
out=$(smbclient_run "$share" "geteas big.bin; setea big.bin bad:name x" "${opts[@]}" 2>&1) || true
grep -q "^FromServer (0) =" <<<"$out" || { echo "$out"; fail "geteas does not show an xattr set on the server"; }
grep -q "INVALID_EA_NAME" <<<"$out" || { echo "$out"; fail "setea of an invalid name: no STATUS_INVALID_EA_NAME"; }
note "EAs: setea/geteas, case-insensitive replace, removal, user.* xattrs, INVALID_EA_NAME"

out=$(smbclient_run "$share" "rm d1\\moved.txt; rm d1\\linked.txt; rmdir d1; rm big.bin; ls" "${opts[@]}" 2>&1) || {
  echo "$out"; fail "smbclient rm/rmdir ($mode) failed"; }
[[ ! -e $root/d1 && ! -e $root/big.bin ]] || fail "rm/rmdir left files behind"
note "rm, rmdir: gone"

# What the server saw: the dialect and, where asked for, encryption.
grep -q "negotiated" "$work/smbxd.log" || fail "smbxd logged no negotiation"
case $mode in
  smb202*) grep -q "negotiated 2.0.2" "$work/smbxd.log" || fail "not 2.0.2" ;;
  smb210) grep -q "negotiated 2.1" "$work/smbxd.log" || fail "not 2.1" ;;
  smb300*) grep -q "negotiated 3.0," "$work/smbxd.log" || fail "not 3.0" ;;
  smb302*) grep -q "negotiated 3.0.2" "$work/smbxd.log" || fail "not 3.0.2" ;;
  *) grep -q "negotiated 3.1.1" "$work/smbxd.log" || fail "not 3.1.1" ;;
esac
case $mode in
  *encrypted|encrypt-share) grep -q "sends encrypted requests" "$work/smbxd.log" || fail "the client never encrypted" ;;
  *signed) grep -q "logged on (signing required)" "$work/smbxd.log" || fail "the session does not require signing" ;;
esac
echo "PASS: smbclient $mode"
