#!/usr/bin/env bash
# End-to-end checks of `smbx dissect` on the real Samba captures.
#   dissect_test.sh SMBX_BINARY CAPTURES_DIR CASE
set -euo pipefail
smbx=$1 captures=$2 case=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# run FILE [args...]: sets $out and $rc
run() { set +e; out=$("$smbx" dissect "$@" 2>"$work/stderr"); rc=$?; set -e; }

# Flips the last hex digit of the given 1-based line of a frames file.
flip_line() {
  local src=$1 line=$2 dst=$3
  awk -v n="$line" 'NR == n { c = substr($0, length($0), 1); r = (c == "0") ? "1" : "0";
                               $0 = substr($0, 1, length($0) - 1) r } { print }' "$src" > "$dst"
}

case "$case" in
  accepts-all-captures)
    for f in smb311-encrypted smb311-signed-ops smb302-signed; do
      run "$captures/$f.frames" --password 'Passw0rd!'
      [[ $rc -eq 0 ]] || { echo "$out"; cat "$work/stderr"; fail "$f: exit $rc"; }
      grep -q 'sig=bad' <<<"$out" && fail "$f: a bad signature"
      grep -q 'sig=ok' <<<"$out" || fail "$f: no verified signature"
      echo "$f: $(grep -c . <<<"$out") messages, $(grep -c 'sig=ok' <<<"$out") sig=ok, $(grep -c 'decrypted' <<<"$out") decrypted"
    done
    run "$captures/smb311-encrypted.frames" --password 'Passw0rd!'
    grep -q 'decrypted' <<<"$out" || fail "smb311-encrypted: nothing decrypted"
    grep -q 'WRITE request' <<<"$out" || fail "smb311-encrypted: the WRITE inside the transform was not decoded"
    ;;
  rejects-flipped-signed-byte)
    # Line 7 of smb302-signed is the signed TREE_CONNECT request (frame index 6).
    flip_line "$captures/smb302-signed.frames" 7 "$work/flipped.frames"
    cmp -s "$captures/smb302-signed.frames" "$work/flipped.frames" && fail "the flip did not change the file"
    run "$work/flipped.frames" --password 'Passw0rd!'
    [[ $rc -eq 1 ]] || fail "exit $rc, expected 1"
    grep -q 'sig=bad' <<<"$out" || fail "no sig=bad reported"
    ;;
  rejects-flipped-encrypted-byte)
    # Line 15 of smb311-encrypted is the first transform message from the client.
    flip_line "$captures/smb311-encrypted.frames" 15 "$work/flipped.frames"
    run "$work/flipped.frames" --password 'Passw0rd!'
    [[ $rc -eq 1 ]] || fail "exit $rc, expected 1"
    grep -qi 'decrypt' <<<"$out$(cat "$work/stderr")" || fail "no decryption failure reported"
    ;;
  rejects-wrong-password)
    run "$captures/smb302-signed.frames" --password 'wrong'
    [[ $rc -eq 1 ]] || fail "exit $rc, expected 1"
    ;;
  encrypted-without-password-fails)
    run "$captures/smb311-encrypted.frames"
    [[ $rc -eq 1 ]] || fail "exit $rc, expected 1"
    ;;
  signed-without-password-decodes)
    run "$captures/smb311-signed-ops.frames"
    [[ $rc -eq 0 ]] || fail "exit $rc, expected 0 (signatures unchecked, not bad)"
    grep -q 'sig=unchecked' <<<"$out" || fail "no sig=unchecked"
    ;;
  bad-input-is-a-usage-error)
    run "$work/does-not-exist.frames"
    [[ $rc -eq 2 ]] || fail "missing file: exit $rc, expected 2"
    grep -q 'does-not-exist' "$work/stderr" || fail "the error does not name the file"
    printf 'C fe534d42zz\n' > "$work/garbage.frames"
    run "$work/garbage.frames"
    [[ $rc -eq 2 ]] || fail "bad hex: exit $rc, expected 2"
    grep -q 'line 1' "$work/stderr" || fail "the error does not name the line"
    printf 'C fe534d4240000000\n' > "$work/short.frames"
    run "$work/short.frames"
    [[ $rc -eq 1 ]] || fail "truncated message: exit $rc, expected 1"
    ;;
  *) fail "unknown case $case" ;;
esac
echo "ok: $case"
