#!/usr/bin/env bash
# smbx against the harness' Samba: data round trips (sha256 on the local file,
# on the share path and after the round trip), directory operations, and the
# error messages and exit codes.
#   smbx_test.sh SMBX FIXTURE_DIR CASE
# Cases on the shared fixture smbd:
#   transfer-3.1.1 transfer-3.0.2 transfer-3.0 transfer-2.1 transfer-2.0.2
#   list-2000 rename delete mkdir-rmdir stat-cat
#   wrong-password missing-share missing-file access-denied network-refused
#   sparse-5g
# Cases with an smbd of their own (it requires exactly one cipher):
#   sealed-AES-128-GCM sealed-AES-128-CCM sealed-AES-256-GCM sealed-AES-256-CCM
set -euo pipefail
SMBX=$1 fixture=$2 case=$3
source "$(dirname "$0")/lib.sh"
require_harness
require_smbx_client
case $case in
  sealed-*) export SMB_ENCRYPTION_ALGORITHMS=${case#sealed-}; start_samba ;;
  *) load_samba "$fixture" ;;
esac

tag="$case-$$"
# A directory of this test's own on the share, gone afterwards.
mkdir "$SHARE_PATH/$tag"
chown "$USER" "$SHARE_PATH/$tag"   # smbd works as the test user
on_exit "rm -rf '$SHARE_PATH/$tag'"

# Prints the names `smbx ls` lists, one a line, without . and ..
# (lines look like "- 67108864  2026-11-25 14:30:00  name").
ls_names() {
  sed -E 's/^[d-] +[0-9]+  (-|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8})  //' <<<"$1" | grep -vxE '\.|\.\.' || true
}

roundtrip() {  # roundtrip SHARE SHARE_PATH MIB [smbx options]
  local share=$1 path=$2 mib=$3
  shift 3
  random_file "$work/src.bin" "$mib"
  local start end
  start=$(date +%s.%N)
  smbx_ok put -q "$@" "$work/src.bin" "$(url "$share" "$tag/data.bin")"
  end=$(date +%s.%N)
  note "put $mib MiB: $(awk -v a="$start" -v b="$end" -v m="$mib" 'BEGIN{printf "%.1f s, %.0f MiB/s", b-a, m/(b-a)}')"
  same_sha "put: the file on the share path" "$work/src.bin" "$path/$tag/data.bin"
  start=$(date +%s.%N)
  smbx_ok get -q "$@" "$(url "$share" "$tag/data.bin")" "$work/back.bin"
  end=$(date +%s.%N)
  note "get $mib MiB: $(awk -v a="$start" -v b="$end" -v m="$mib" 'BEGIN{printf "%.1f s, %.0f MiB/s", b-a, m/(b-a)}')"
  same_sha "get: the file read back" "$work/src.bin" "$work/back.bin"
}

case $case in
  transfer-*)
    roundtrip "$SHARE" "$SHARE_PATH" 64 --vers "${case#transfer-}"
    ;;

  sealed-*)
    # The secret share refuses any unencrypted request, so a round trip there
    # proves smbx encrypted with the one cipher this smbd allows.
    mkdir "$SECRET_PATH/$tag"
    chown "$USER" "$SECRET_PATH/$tag"
    roundtrip "$SECRET_SHARE" "$SECRET_PATH" 64 --seal
    # --seal on the plain share: the client asks for encryption itself. The
    # capture must show the negotiated cipher, and none of the file's bytes
    # may cross the wire in the clear.
    capture_start "$work/sealed.pcapng"
    random_file "$work/small.bin" 1
    smbx_ok put -q --seal "$work/small.bin" "$(url "$SHARE" "$tag/small.bin")"
    capture_stop
    same_sha "--seal put on plain" "$work/small.bin" "$SHARE_PATH/$tag/small.bin"
    declare -A cipher_id=([AES-128-CCM]=1 [AES-128-GCM]=2 [AES-256-CCM]=3 [AES-256-GCM]=4)
    got=$(tshark -r "$work/sealed.pcapng" -d "tcp.port==$PORT,nbss" -Y 'smb2.cmd == 0 && smb2.flags.response == 1' \
            -T fields -e smb2.negotiate_context.cipher_id 2>/dev/null | head -n 1)
    [[ -n $got && $((got)) -eq ${cipher_id[$SMB_ENCRYPTION_ALGORITHMS]} ]] ||
      fail "negotiated cipher '$got', expected $SMB_ENCRYPTION_ALGORITHMS"
    python3 - "$work/small.bin" "$work/sealed.pcapng" <<'PY' || fail "file bytes crossed the wire unencrypted under --seal"
import sys
data = open(sys.argv[1], "rb").read()
capture = open(sys.argv[2], "rb").read()
# Any 48-byte window of the random file in the capture means cleartext.
leaks = [o for o in range(0, len(data) - 48, 4096) if data[o:o + 48] in capture]
sys.exit(1 if leaks else 0)
PY
    note "--seal: cipher $SMB_ENCRYPTION_ALGORITHMS negotiated, no file bytes in the clear"
    ;;

  list-2000)
    # Made on the share path directly, so the listing is checked against
    # what is really there, across several QUERY_DIRECTORY responses.
    mkdir "$SHARE_PATH/$tag/many"
    (cd "$SHARE_PATH/$tag/many" && for i in $(seq -w 1 2000); do : > "file-$i-$RANDOM.txt"; done)
    mkdir "$SHARE_PATH/$tag/many/a subdirectory"
    chown -R "$USER" "$SHARE_PATH/$tag"
    smbx_ok ls "$(url "$SHARE" "$tag/many")"
    ls_names "$out" | LC_ALL=C sort > "$work/listed"
    (cd "$SHARE_PATH/$tag/many" && ls -A) | LC_ALL=C sort > "$work/expected"
    [[ $(wc -l < "$work/expected") -eq 2001 ]] || fail "setup made $(wc -l < "$work/expected") entries"
    diff "$work/expected" "$work/listed" > "$work/diff" || { head -n 20 "$work/diff"; fail "the listing differs ($(grep -c '^[<>]' "$work/diff") lines)"; }
    grep -qE '^d .*  a subdirectory$' <<<"$out" || fail "the subdirectory is not listed as a directory"
    note "listed 2001 entries, names identical to the share path"
    ;;

  rename)
    echo "before the rename" > "$SHARE_PATH/$tag/old.txt"
    mkdir "$SHARE_PATH/$tag/sub"
    chown -R "$USER" "$SHARE_PATH/$tag"
    smbx_ok mv "$(url "$SHARE" "$tag/old.txt")" "$(url "$SHARE" "$tag/sub/new.txt")"
    [[ ! -e $SHARE_PATH/$tag/old.txt ]] || fail "old.txt still exists"
    [[ $(cat "$SHARE_PATH/$tag/sub/new.txt") == "before the rename" ]] || fail "sub/new.txt is not the renamed file"
    smbx_ok mv "$(url "$SHARE" "$tag/sub/new.txt")" "$tag/back.txt"
    [[ -f $SHARE_PATH/$tag/back.txt && ! -e $SHARE_PATH/$tag/sub/new.txt ]] || fail "rename to a share path failed"
    # Renaming onto an existing file must not replace it.
    echo other > "$SHARE_PATH/$tag/other.txt"
    chown "$USER" "$SHARE_PATH/$tag/other.txt"
    smbx_expect_failure 1 STATUS_OBJECT_NAME_COLLISION mv "$(url "$SHARE" "$tag/back.txt")" "$(url "$SHARE" "$tag/other.txt")"
    [[ $(cat "$SHARE_PATH/$tag/other.txt") == other ]] || fail "mv replaced an existing file"
    note "renamed across directories, by URL and by path; no silent replace"
    ;;

  delete)
    echo "delete me" > "$SHARE_PATH/$tag/gone.txt"
    chown -R "$USER" "$SHARE_PATH/$tag"
    smbx_ok rm "$(url "$SHARE" "$tag/gone.txt")"
    [[ ! -e $SHARE_PATH/$tag/gone.txt ]] || fail "the file is still there"
    smbx_expect_failure 4 STATUS_OBJECT_NAME_NOT_FOUND rm "$(url "$SHARE" "$tag/gone.txt")"
    note "deleted; deleting again: not found"
    ;;

  mkdir-rmdir)
    smbx_ok mkdir "$(url "$SHARE" "$tag/newdir")"
    [[ -d $SHARE_PATH/$tag/newdir ]] || fail "mkdir made no directory"
    smbx_expect_failure 1 STATUS_OBJECT_NAME_COLLISION mkdir "$(url "$SHARE" "$tag/newdir")"
    echo x > "$SHARE_PATH/$tag/newdir/f"
    chown -R "$USER" "$SHARE_PATH/$tag"
    smbx_expect_failure 1 STATUS_DIRECTORY_NOT_EMPTY rmdir "$(url "$SHARE" "$tag/newdir")"
    rm "$SHARE_PATH/$tag/newdir/f"
    smbx_ok rmdir "$(url "$SHARE" "$tag/newdir")"
    [[ ! -e $SHARE_PATH/$tag/newdir ]] || fail "rmdir left the directory"
    note "mkdir, mkdir again (collision), rmdir of a non-empty directory (refused), rmdir"
    ;;

  stat-cat)
    printf 'twelve bytes' > "$SHARE_PATH/$tag/s.txt"
    chown -R "$USER" "$SHARE_PATH/$tag"
    smbx_ok stat "$(url "$SHARE" "$tag/s.txt")"
    grep -qx 'size: 12' <<<"$out" || fail "stat: no 'size: 12' in: $out"
    grep -qx 'type: file' <<<"$out" || fail "stat: not a file: $out"
    smbx_ok stat "$(url "$SHARE" "$tag")"
    grep -qx 'type: directory' <<<"$out" || fail "stat of a directory: $out"
    smbx_ok cat "$(url "$SHARE" "$tag/s.txt")"
    [[ $out == "twelve bytes" ]] || fail "cat printed '$out'"
    note "stat (file, directory) and cat"
    ;;

  wrong-password)
    PASSWORD="wrong-$PASSWORD" smbx_expect_failure 3 STATUS_LOGON_FAILURE ls "$(url "$SHARE")"
    grep -qF "$DOMAIN\\$USER" <<<"$err" || fail "the message does not name $DOMAIN\\$USER: $err"
    ;;

  missing-share)
    smbx_expect_failure 4 STATUS_BAD_NETWORK_NAME ls "$(url no-such-share)"
    ;;

  missing-file)
    smbx_expect_failure 4 STATUS_OBJECT_NAME_NOT_FOUND get "$(url "$SHARE" "$tag/nothing.bin")" "$work/nothing.bin"
    [[ ! -e $work/nothing.bin ]] || fail "a failed get left a local file"
    ;;

  access-denied)
    # A root-owned 0600 file: smbd, working as the test user, may not open it.
    echo secret > "$SHARE_PATH/$tag/root-only.txt"
    chmod 600 "$SHARE_PATH/$tag/root-only.txt"
    smbx_expect_failure 5 STATUS_ACCESS_DENIED get "$(url "$SHARE" "$tag/root-only.txt")" "$work/x"
    ;;

  network-refused)
    # Nothing listens on port 1 in the harness' namespace.
    SMBX_TIMEOUT=60 smbx_run ls --port 1 "smb://$DOMAIN;$USER@$HOST/$SHARE"
    [[ $rc -eq 6 ]] || fail "connection refused: exit $rc, expected 6: $err"
    grep -q '^smbx: ' <<<"$err" || fail "no smbx: message: $err"
    note "exit 6: $(head -n 1 <<<"$err")"
    ;;

  sparse-5g)
    # Offsets past 4 GiB in both directions. The file: 5 GiB + 1 MiB, holes
    # except 1 MiB of random data straddling 4 GiB and 1 MiB at 5 GiB, made
    # on the share path (tmpfs keeps the holes). smbx reads it whole; the
    # sha256 is taken from the stream, so the client side needs no space.
    f="$SHARE_PATH/$tag/sparse.bin"
    truncate -s $((5 * 1024 * 1024 * 1024 + 1024 * 1024)) "$f"
    head -c 1048576 /dev/urandom |
      dd of="$f" bs=1M seek=$((4 * 1024 * 1024 * 1024 - 512 * 1024)) oflag=seek_bytes conv=notrunc status=none
    head -c 1048576 /dev/urandom | dd of="$f" bs=1M seek=$((5 * 1024)) conv=notrunc status=none
    [[ $(stat -c %s "$f") -eq $((5 * 1024 * 1024 * 1024 + 1024 * 1024)) ]] || fail "the sparse file has the wrong size"
    chown -R "$USER" "$SHARE_PATH/$tag"
    want=$(sha "$f")
    start=$(date +%s)
    set +e
    got=$(SMBX_PASSWORD=$PASSWORD in_ns timeout 1200 "$SMBX" get -q "$(url "$SHARE" "$tag/sparse.bin")" - 2>"$work/get.err" | sha256sum | cut -d' ' -f1)
    get_rc=${PIPESTATUS[0]}
    set -e
    [[ $get_rc -eq 0 ]] || fail "smbx get of the 5 GiB file exited $get_rc: $(tail -n 20 "$work/get.err")"
    [[ $got == "$want" ]] || fail "5 GiB get: sha256 $got, expected $want"
    note "get 5 GiB + 1 MiB (data at 4 GiB - 512 KiB and 5 GiB): sha256 matches, $(($(date +%s) - start)) s"
    # Write it back under a new name: WRITE offsets past 4 GiB. The server's
    # tmpfs stores what is written (5 GiB of it, zeros included), and the
    # copy is removed right after the check.
    start=$(date +%s)
    set +e
    cat "$f" | SMBX_PASSWORD=$PASSWORD in_ns timeout 1200 "$SMBX" put -q - "$(url "$SHARE" "$tag/copy.bin")" 2>"$work/put.err"
    put_rc=${PIPESTATUS[1]}
    set -e
    [[ $put_rc -eq 0 ]] || fail "smbx put of the 5 GiB stream exited $put_rc: $(tail -n 20 "$work/put.err")"
    got=$(sha "$SHARE_PATH/$tag/copy.bin")
    rm -f "$SHARE_PATH/$tag/copy.bin"
    [[ $got == "$want" ]] || fail "5 GiB put: the copy on the share path has sha256 $got, expected $want"
    note "put 5 GiB + 1 MiB from a stream: sha256 on the share path matches, $(($(date +%s) - start)) s"
    ;;

  *) fail "unknown case $case" ;;
esac
echo "ok: smbx $case"
