#!/usr/bin/env bash
# smbxctl end to end.
#   smbxctl_test.sh SMBXCTL MOUNT_SMBX CASE
# Cases:
#   usage    bad command lines exit 2; a socket nobody listens on exits 3; no
#            mount at a path exits 1 (no server)
#   status   against a real mount.smbx mount of the harness' Samba: `status`,
#            `status MOUNTPOINT` and `server SOCKET status` show its lines; an
#            unknown request is an `error` reply (exit 1); stale sockets are
#            skipped; after umount the mount is gone from the listing
#   sealed   a `seal,vers=3.0.2` mount of the encrypted share shows its dialect
#            and cipher
set -euo pipefail
inner=0
if [[ ${1:-} == --inner ]]; then
  inner=1
  case=$2
else
  SMBXCTL=$(readlink -f "$1") MOUNT_SMBX=$(readlink -f "$2") case=$3
  export SMBXCTL MOUNT_SMBX
fi
source "$(dirname "$0")/mount_lib.sh"
[[ -x $SMBXCTL ]] || fail "no smbxctl binary at $SMBXCTL"

# ctl_run ARGS...: sets $out, $err, $rc.
ctl_run() {
  set +e
  out=$(timeout 30 "$SMBXCTL" "$@" 2>"$work/ctl.err")
  rc=$?
  set -e
  err=$(cat "$work/ctl.err")
}

expect_ctl() {  # expect_ctl CODE TEXT ARGS...: exit CODE and TEXT on stderr
  local code=$1 text=$2
  shift 2
  ctl_run "$@"
  [[ $rc -eq $code ]] || fail "smbxctl $* exited $rc, expected $code: $err"
  grep -qF -- "$text" <<<"$err" || fail "smbxctl $*: stderr does not say '$text': $err"
}

# A socket file nobody listens on, as a crashed mount leaves behind.
stale_socket() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$1"
}

if [[ $inner -eq 0 ]]; then
  if [[ $case == usage ]]; then
    expect_ctl 2 "A subcommand is required"
    expect_ctl 2 "SOCKET is required" server
    expect_ctl 2 "WORD is required" server "$work/sock"
    expect_ctl 2 "" status /a /b
    expect_ctl 2 "" --bogus status
    expect_ctl 3 "cannot connect to $work/none.sock" server "$work/none.sock" status
    stale_socket "$work/stale.sock"
    expect_ctl 3 "cannot connect to $work/stale.sock" server "$work/stale.sock" status
    expect_ctl 1 "no smbx mount at /no/such/mount" --run-dir "$work" status /no/such/mount
    # Only stale sockets: nothing to show, and that is no error.
    mkdir "$work/run"
    stale_socket "$work/run/mount-999999.sock"
    ctl_run --run-dir "$work/run" status
    [[ $rc -eq 0 && -z $out ]] || fail "status over stale sockets: exit $rc, out '$out', err '$err'"
    note "usage: exit 2, cannot connect: exit 3, no mount: exit 1"
    exit 0
  fi
  [[ -x $MOUNT_SMBX ]] || fail "no mount.smbx binary at $MOUNT_SMBX"
  require_harness
  start_samba
  run_inner "$case"
  note "$case: passed"
  exit 0
fi

# ---- inner side ---------------------------------------------------------------
mnt=$work/mnt-$case
mkdir -p "$mnt"
case $case in
  status)
    mount_run "//$HOST/$SHARE" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN,vers=3.1.1"
    [[ $rc -eq 0 ]] || fail "mount.smbx exited $rc: $err"
    pid=$(mount_daemon_pid "$mnt") || fail "no mount.smbx process serves $mnt"
    echo "$pid" >> "$work/mount.pid"
    sock=/run/smbx/mount-$pid.sock
    [[ -S $sock ]] || fail "no control socket $sock"
    [[ $(stat -c %a "$sock") == 600 ]] || fail "$sock has mode $(stat -c %a "$sock"), expected 600"
    [[ $(stat -c %a /run/smbx) == 700 ]] || fail "/run/smbx has mode $(stat -c %a /run/smbx), expected 700"
    ls "$mnt" >/dev/null

    ctl_run status "$mnt"
    [[ $rc -eq 0 ]] || fail "smbxctl status $mnt exited $rc: $err"
    for want in "mountpoint: $mnt" "server: $HOST:$PORT" "share: $SHARE" "dialect: 3.1.1" "cipher: none"; do
      grep -qxF "$want" <<<"$out" || fail "status lacks '$want':"$'\n'"$out"
    done
    for key in signing "open handles" "cached inodes" "requests in flight" "write-behind bytes" \
               "write-behind peak" "write-behind limit" reconnects "lease breaks" \
               "bytes read" "bytes written" "fuse requests"; do
      grep -qE "^$key: " <<<"$out" || fail "status lacks '$key:':"$'\n'"$out"
    done
    grep -qxE 'signing: (AES-GMAC|AES-CMAC|HMAC-SHA256)' <<<"$out" || fail "the mount does not sign:"$'\n'"$out"
    grep -qxE 'fuse requests: [1-9][0-9]*' <<<"$out" || fail "no FUSE requests counted after ls:"$'\n'"$out"
    note "smbxctl status $mnt:"$'\n'"$out"
    # A relative path and a trailing slash name the same mount.
    (cd "$work" && "$SMBXCTL" status "./mnt-$case/") | grep -qxF "mountpoint: $mnt" ||
      fail "status with a relative mount point"
    # Every mount: ours among them (other tests may have theirs).
    ctl_run status
    [[ $rc -eq 0 ]] || fail "smbxctl status exited $rc: $err"
    grep -qxF "mountpoint: $mnt" <<<"$out" || fail "smbxctl status does not list $mnt"
    # The relay.
    ctl_run server "$sock" status
    [[ $rc -eq 0 ]] && grep -qxF "mountpoint: $mnt" <<<"$out" || fail "server $sock status: exit $rc: $out $err"
    expect_ctl 1 'smbxctl: unknown command "bogus"' server "$sock" bogus word
    # Stale sockets are skipped: a run dir with one and a link to the live one.
    mkdir -p "$work/run"
    stale_socket "$work/run/mount-1.sock"
    ln -s "$sock" "$work/run/mount-$pid.sock"
    ctl_run --run-dir "$work/run" status
    [[ $rc -eq 0 ]] || fail "status with a stale socket exited $rc: $err"
    [[ $(grep -c '^mountpoint: ' <<<"$out") -eq 1 ]] || fail "status with a stale socket:"$'\n'"$out"

    unmount_and_wait "$mnt" "$pid"
    [[ ! -e $sock ]] || fail "$sock outlived the mount"
    expect_ctl 1 "no smbx mount at $mnt" status "$mnt"
    ;;
  sealed)
    mount_run "//$HOST/$SECRET_SHARE" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN,vers=3.0.2,seal"
    [[ $rc -eq 0 ]] || fail "mount.smbx exited $rc: $err"
    pid=$(mount_daemon_pid "$mnt") || fail "no mount.smbx process serves $mnt"
    echo "$pid" >> "$work/mount.pid"
    ls "$mnt" >/dev/null
    ctl_run status "$mnt"
    [[ $rc -eq 0 ]] || fail "smbxctl status $mnt exited $rc: $err"
    grep -qxF "share: $SECRET_SHARE" <<<"$out" || fail "status lacks 'share: $SECRET_SHARE':"$'\n'"$out"
    grep -qxF "dialect: 3.0.2" <<<"$out" || fail "status lacks 'dialect: 3.0.2':"$'\n'"$out"
    grep -qxE "cipher: AES-(128|256)-(CCM|GCM)" <<<"$out" || fail "status shows no cipher:"$'\n'"$out"
    note "sealed: $(grep -E '^(dialect|signing|cipher):' <<<"$out" | tr '\n' ' ')"
    unmount_and_wait "$mnt" "$pid"
    ;;
  *) fail "unknown case $case" ;;
esac
exit 0
