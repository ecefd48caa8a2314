#!/usr/bin/env bash
# mount.smbx end to end.
#   mount_smbx_test.sh MOUNT_SMBX CASE
# Cases:
#   usage        bad command lines exit 1 and name what is wrong (no server)
#   mount        against the harness' Samba: mount, ls, read, write, the
#                password absent from every /proc/*/cmdline, /proc/mounts,
#                umount ends the serving process and removes its socket
#   errors       wrong password, a port nobody listens on, an unreachable host, a missing share:
#                one-line messages and distinct exit codes, nothing mounted
#   fstab        `mount -T FSTAB MOUNTPOINT` runs /sbin/mount.smbx (this build's,
#                through an overlay on /usr/sbin in the private mount namespace)
#   foreground   -f serves in the foreground; SIGTERM unmounts and exits 0
#   options      seal + vers= on the encrypted share; uid=, gid=, file_mode=,
#                dir_mode= in stat; ro refuses writes
#   smbxd        against smbxd on host loopback 127.0.0.1:PORT (the mount in a
#                private mount namespace of unshare(1)); needs SMBXD=PATH
set -euo pipefail
inner=0
if [[ ${1:-} == --inner ]]; then
  inner=1
  case=$2
else
  MOUNT_SMBX=$(readlink -f "$1") case=$2
  export MOUNT_SMBX
fi
source "$(dirname "$0")/mount_lib.sh"
[[ -x $MOUNT_SMBX ]] || fail "no mount.smbx binary at $MOUNT_SMBX"

# ---- outer side ---------------------------------------------------------------
if [[ $inner -eq 0 ]]; then
  if [[ $case == usage ]]; then
    mkdir -p "$work/mnt"
    expect_mount_failure 1 "missing source //server/share and mount point"
    expect_mount_failure 1 "missing mount point" //h/s
    expect_mount_failure 1 'unknown option "foo"' //h/s "$work/mnt" -o ro,foo
    expect_mount_failure 1 'bad value for rsize: "abc"' //h/s "$work/mnt" -o rsize=abc
    expect_mount_failure 1 'bad value for vers: "4"' //h/s "$work/mnt" -o vers=4
    expect_mount_failure 1 'bad value for file_mode: "rw-r--r--"' //h/s "$work/mnt" -o file_mode=rw-r--r--
    expect_mount_failure 1 'bad value for uid: "no-such-user-x"' //h/s "$work/mnt" -o uid=no-such-user-x
    expect_mount_failure 1 'option seal takes no value' //h/s "$work/mnt" -o seal=yes
    expect_mount_failure 1 'bad source "h/s"' h/s "$work/mnt"
    expect_mount_failure 1 'unknown flag "-x"' //h/s "$work/mnt" -x
    expect_mount_failure 1 "$work/none.cred" //h/s "$work/mnt" -o credentials="$work/none.cred"
    # No password anywhere and no terminal to ask on.
    set +e
    env -u PASSWD setsid -w timeout 20 "$MOUNT_SMBX" //h/s "$work/mnt" -o user=u </dev/null 2>"$work/mount.err"
    rc=$?
    set -e
    [[ $rc -eq 1 ]] && grep -q "^mount.smbx: no password for u on //h/s" "$work/mount.err" ||
      fail "no password: exit $rc: $(cat "$work/mount.err")"
    expect_mount_failure 32 "mount point $work/nothing" //h/s "$work/nothing" -o user=u,password=p
    # -s: unknown options are warnings; the refused connection (nothing
    # listens on port 1) then fails the mount with the network code.
    expect_mount_failure 36 'warning: ignoring unknown option "foo=1"' //127.0.0.1:1/s "$work/mnt" -s -o foo=1,user=u,pass=p
    # A credentials file others can read is used, with a warning.
    printf 'username=u\npassword=p\n' > "$work/open.cred"
    chmod 644 "$work/open.cred"
    expect_mount_failure 36 "credentials file $work/open.cred is readable by group or others" \
      //127.0.0.1:1/s "$work/mnt" -o credentials="$work/open.cred"
    mountpoint -q "$work/mnt" && fail "something got mounted"
    "$MOUNT_SMBX" --help | grep -q '^usage: mount.smbx' || fail "--help prints no usage"
    note "usage errors: exit 1, each names the option"
    exit 0
  fi
  if [[ $case == smbxd ]]; then
    [[ -n ${SMBXD:-} && -x $SMBXD ]] || fail "the smbxd case needs SMBXD=PATH/TO/smbxd"
    [[ $(id -u) -eq 0 ]] || skip "not root (FUSE mounts in a private mount namespace)"
    require_tool unshare python3
    mkdir -p "$work/export"
    tag="mount-$case-$$"
    mkdir "$work/export/$tag"
    printf 'hello from samba\n' > "$work/export/$tag/hello.txt"
    HOST=127.0.0.1 USER=mounttest PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" DOMAIN=WORKGROUP
    SHARE=export SHARE_PATH=$work/export
    # A free port on host loopback (the small window until smbxd binds it is harmless here).
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$SMBXD" --listen "$HOST:$PORT" --share "$SHARE=$SHARE_PATH" --user "$USER:$PASSWORD" >"$work/smbxd.log" 2>&1 &
    smbxd_pid=$!
    on_exit "kill -TERM $smbxd_pid 2>/dev/null; wait $smbxd_pid 2>/dev/null"
    for ((i = 0; i < 100; i++)); do
      (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
      kill -0 "$smbxd_pid" 2>/dev/null || { cat "$work/smbxd.log" >&2; fail "smbxd exited at start"; }
      sleep 0.1
    done
    export HOST PORT USER PASSWORD DOMAIN SHARE SHARE_PATH tag
    on_exit "stop_mount_daemon"
    set +e
    SMBX_OUTER_WORK=$work timeout -k 10 240 unshare -m --propagation private bash "$0" --inner smbxd
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || fail "the in-namespace part of smbxd failed (exit $rc)"
    [[ $(cat "$SHARE_PATH/$tag/written.txt" 2>/dev/null) == "written through mount.smbx" ]] ||
      fail "the file written through the mount is not in smbxd's share"
    note "$case: passed"
    exit 0
  fi
  require_harness
  start_samba
  tag="mount-$case-$$"
  mkdir "$SHARE_PATH/$tag"
  printf 'hello from samba\n' > "$SHARE_PATH/$tag/hello.txt"
  chown -R "$USER" "$SHARE_PATH/$tag"
  mkdir "$SECRET_PATH/$tag"
  printf 'hello from samba\n' > "$SECRET_PATH/$tag/hello.txt"
  chown -R "$USER" "$SECRET_PATH/$tag"
  export tag
  run_inner "$case"
  case $case in
    mount | fstab)
      [[ -f $SHARE_PATH/$tag/written.txt ]] || fail "the file written through the mount is not on the share"
      [[ $(cat "$SHARE_PATH/$tag/written.txt") == "written through mount.smbx" ]] ||
        fail "the share holds '$(cat "$SHARE_PATH/$tag/written.txt")'"
      ;;
  esac
  note "$case: passed"
  exit 0
fi

# ---- inner side: in the harness' network namespace, one mount namespace ------
mnt=$work/mnt-$case
mkdir -p "$mnt"

# Mounted, listed, read and written; then unmounted by umount.
check_mount_works() {
  mountpoint -q "$mnt" || fail "$mnt is not a mount point after mount.smbx returned 0"
  local pid
  pid=$(mount_daemon_pid "$mnt") || fail "no mount.smbx process serves $mnt"
  echo "$pid" >> "$work/mount.pid"
  local listing
  listing=$(timeout 20 ls "$mnt/$tag") || fail "ls $mnt/$tag failed"
  [[ $listing == hello.txt ]] || fail "ls $mnt/$tag shows '$listing'"
  [[ $(timeout 20 cat "$mnt/$tag/hello.txt") == "hello from samba" ]] || fail "reading hello.txt through the mount"
  printf 'written through mount.smbx' > "$mnt/$tag/written.txt" || fail "writing through the mount"
  grep -q " $mnt fuse" /proc/mounts || fail "/proc/mounts has no fuse entry for $mnt: $(grep "$mnt" /proc/mounts)"
  local fsname="//$HOST/$SHARE"
  [[ $PORT == 445 ]] || fsname="//$HOST:$PORT/$SHARE"
  grep -q "^$fsname $mnt " /proc/mounts || fail "/proc/mounts does not name $fsname: $(grep "$mnt" /proc/mounts)"
  [[ -S /run/smbx/mount-$pid.sock ]] || fail "no control socket /run/smbx/mount-$pid.sock"
  echo "$pid"
}

case $case in
  mount)
    mount_run "//$HOST/$SHARE" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN,vers=3.1.1"
    [[ $rc -eq 0 ]] || fail "mount.smbx exited $rc: $err"
    pid=$(check_mount_works)
    # The password must not show in any process's command line (mount.smbx
    # overwrote its own copy in place).
    leaks=$(grep -lF -- "$PASSWORD" /proc/[0-9]*/cmdline 2>/dev/null || true)
    [[ -z $leaks ]] || fail "the password shows in: $leaks ($(tr '\0' ' ' < "${leaks%%$'\n'*}"))"
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "password=x" || fail "the scrubbed option is not in the cmdline"
    note "password absent from every /proc/*/cmdline; mount.smbx shows $(tr '\0' ' ' < "/proc/$pid/cmdline")"
    unmount_and_wait "$mnt" "$pid"
    [[ ! -e /run/smbx/mount-$pid.sock ]] || fail "the control socket outlived the mount"
    ;;

  errors)
    expect_mount_failure 33 "logon failure for $DOMAIN\\$USER on //$HOST/$SHARE (STATUS_LOGON_FAILURE)" \
      "//$HOST/$SHARE" "$mnt" -o "username=$USER,password=wrong-$PASSWORD,domain=$DOMAIN"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "more than one line: $err"
    expect_mount_failure 36 "" "//$HOST:1/$SHARE" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "more than one line: $err"
    # The namespace has only lo: no route to any other host.
    expect_mount_failure 36 "192.0.2.1" "//192.0.2.1/$SHARE" "$mnt" -o "username=$USER,password=$PASSWORD"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "more than one line: $err"
    expect_mount_failure 34 "STATUS_BAD_NETWORK_NAME" \
      "//$HOST/no-such-share" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "more than one line: $err"
    expect_mount_failure 35 "STATUS_ACCESS_DENIED" \
      "//$HOST/${DENIED_SHARE:?the harness has no share the user may not use}" "$mnt" \
      -o "username=$USER,password=$PASSWORD,domain=$DOMAIN"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "more than one line: $err"
    mountpoint -q "$mnt" && fail "a failed mount left $mnt mounted"
    ;;

  fstab)
    # mount(8) runs /sbin/mount.TYPE (util-linux: /sbin, /sbin/fs.d, /sbin/fs).
    # Only in this private mount namespace, /usr/sbin (= /sbin) gets this
    # build's mount.smbx on top through a read-only overlay; the host's /sbin
    # is untouched, and the overlay goes away with the namespace.
    mkdir -p "$work/helpers"
    ln -sf "$(readlink -f "$MOUNT_SMBX")" "$work/helpers/mount.smbx"
    mount -t overlay smbx-helpers -o "lowerdir=$work/helpers:/usr/sbin" /usr/sbin ||
      skip "cannot put an overlay on /usr/sbin in the private mount namespace"
    [[ -x /sbin/mount.smbx ]] || fail "/sbin/mount.smbx is not visible through the overlay"
    credentials_file "$work/cred"
    printf '# test fstab\n//%s/%s %s smbx credentials=%s,vers=3.0.2,_netdev,nofail,x-test.option 0 0\n' \
      "$HOST" "$SHARE" "$mnt" "$work/cred" > "$work/fstab"
    set +e
    timeout -k 5 60 mount -T "$work/fstab" "$mnt" 2>"$work/mount.err"
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || fail "mount -T fstab $mnt exited $rc: $(cat "$work/mount.err")"
    pid=$(check_mount_works)
    unmount_and_wait "$mnt" "$pid"
    # mount -a with the same fstab, and a failure through mount(8): its exit
    # code passes mount.smbx's through.
    sed -i "s/credentials=/username=$USER,password=wrong,domain=$DOMAIN,x-cred=/" "$work/fstab"
    set +e
    timeout -k 5 60 mount -T "$work/fstab" "$mnt" 2>"$work/mount.err"
    rc=$?
    set -e
    [[ $rc -eq 33 ]] || fail "mount -T with a wrong password exited $rc, expected 33: $(cat "$work/mount.err")"
    grep -q "STATUS_LOGON_FAILURE" "$work/mount.err" || fail "no logon failure message: $(cat "$work/mount.err")"
    note "mount(8) passed on exit 33: $(head -n 1 "$work/mount.err")"
    ;;

  foreground)
    timeout -k 5 120 "$MOUNT_SMBX" "//$HOST/$SHARE" "$mnt" -f -o "username=$USER,password=$PASSWORD,domain=$DOMAIN" \
      2>"$work/fg.err" &
    fg_pid=$!
    for ((i = 0; i < 100; i++)); do
      mountpoint -q "$mnt" && break
      kill -0 "$fg_pid" 2>/dev/null || break
      sleep 0.1
    done
    mountpoint -q "$mnt" || fail "-f did not mount within 10 s: $(cat "$work/fg.err")"
    [[ $(timeout 20 cat "$mnt/$tag/hello.txt") == "hello from samba" ]] || fail "reading through the -f mount"
    pid=$(mount_daemon_pid "$mnt")
    echo "$pid" >> "$work/mount.pid"
    kill -TERM "$pid"
    set +e
    wait "$fg_pid"
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || fail "mount.smbx -f exited $rc after SIGTERM: $(cat "$work/fg.err")"
    mountpoint -q "$mnt" && fail "SIGTERM left $mnt mounted"
    ;;

  options)
    # The secret share refuses anything unencrypted: a listing proves seal.
    mount_run "//$HOST/$SECRET_SHARE" "$mnt" -o \
      "username=$USER,password=$PASSWORD,domain=$DOMAIN,seal,vers=3.0.2,uid=1234,gid=5678,file_mode=0640,dir_mode=0750,ro,nosuid,nodev,noexec"
    [[ $rc -eq 0 ]] || fail "mount.smbx exited $rc: $err"
    pid=$(mount_daemon_pid "$mnt") || fail "no mount.smbx process serves $mnt"
    echo "$pid" >> "$work/mount.pid"
    [[ $(timeout 20 cat "$mnt/$tag/hello.txt") == "hello from samba" ]] || fail "reading through the sealed mount"
    got=$(stat -c '%u %g %a' "$mnt/$tag/hello.txt")
    [[ $got == "1234 5678 640" ]] || fail "file: uid gid mode $got, expected 1234 5678 640"
    got=$(stat -c '%u %g %a' "$mnt/$tag")
    [[ $got == "1234 5678 750" ]] || fail "directory: uid gid mode $got, expected 1234 5678 750"
    if (printf 'x' > "$mnt/$tag/new.txt") 2>"$work/ro.err"; then fail "ro: a write succeeded"; fi
    grep -qi "read-only" "$work/ro.err" || fail "ro: the write failed with '$(cat "$work/ro.err")', not EROFS"
    opts=$(awk -v m="$mnt" '$2 == m {print $4}' /proc/mounts)
    for flag in ro nosuid nodev noexec; do
      [[ ,$opts, == *,$flag,* ]] || fail "/proc/mounts options '$opts' lack $flag"
    done
    note "sealed SMB 3.0.2 mount: $opts; stat shows uid 1234, gid 5678, modes 640/750; writes refused"
    unmount_and_wait "$mnt" "$pid"
    ;;

  smbxd)
    # Host loopback, a port that is not 445, the port in the source.
    mount_run "//$HOST:$PORT/$SHARE" "$mnt" -o "username=$USER,password=$PASSWORD,domain=$DOMAIN"
    [[ $rc -eq 0 ]] || fail "mount.smbx exited $rc: $err"
    pid=$(check_mount_works)
    unmount_and_wait "$mnt" "$pid"
    # The same with port= instead.
    mount_run "//$HOST/$SHARE" "$mnt" -o "port=$PORT,username=$USER,password=wrong"
    [[ $rc -eq 33 ]] || fail "a wrong password against smbxd exited $rc, expected 33: $err"
    note "smbxd, wrong password: $err"
    ;;

  *) fail "unknown case $case" ;;
esac
exit 0
