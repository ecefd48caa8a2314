#!/bin/bash
# Replay of a non-idempotent operation whose response was lost (issue 7):
# smbxd executes the request but never answers it and drops the connection
# (`fault drop-responses 1 COMMAND NAME`); mount.smbx must reconnect, reopen
# its handles and replay the request flagged as a replay, so that the
# application sees exactly one success and the share holds the state of one
# execution. One operation per run:
#   excl-create  open(O_CREAT|O_EXCL)     rename   rename(2)       unlink  unlink(2)
#   mkdir        mkdir(2)                 append   O_APPEND write  lock    fcntl F_SETLK
#   set-eof      truncate(2)
# Usage: drop_responses_test.sh --mount M --smbxd S --smbxctl C --op OP [--not-ca]
source "$(dirname "$0")/lib.sh"

op=""
set -- "${fo_args[@]}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --op) op=$2; shift 2 ;;
    # A share without `ca`: durable (not persistent) handles, which need an
    # H lease, and directories that are not durable at all.
    --not-ca) FO_SHARE_OPTIONS=""; shift ;;
    *) fail "unknown argument $1" ;;
  esac
done
case $op in
  excl-create | rename | unlink | mkdir | append | lock | set-eof) ;;
  *) fail "--op must be excl-create, rename, unlink, mkdir, append, lock or set-eof (not '$op')" ;;
esac

# app PYTHON-CODE: runs the application step (p = the mount) with a 60 s
# bound; its output is in $work/app.out.
app() {
  timeout 60 python3 -c "import os, sys, fcntl, errno; p = sys.argv[1]
$1" "$MNT" >"$work/app.out" 2>&1
}

# The fault must have hit the request meant, not some other one.
fault_fired() {
  local what=$1
  grep -q "fault: dropped the response to $what" "$work/smbxd.log" ||
    fail "smbxd did not drop a response to $what (the operation did not send it?): $(grep 'fault:' "$work/smbxd.log" | tail -n 3)"
  "$FO_SMBXCTL" server "$SOCK" fault status | grep -q "^drop-responses: none$" || fail "the fault is still armed"
}

# The operation returned; did it succeed exactly once?
app_succeeded() {
  local rc=$1
  [[ $rc -ne 124 ]] || fail "$op: the application did not return within 60 s after the dropped response"
  [[ $rc -eq 0 ]] || fail "$op: the application saw an error after the dropped response (exit $rc): $(tail -n 3 "$work/app.out")"
}

scenario() {
  fo_start_smbxd
  local rc=0
  case $op in
    excl-create)
      fs_mount -o hard
      fault drop-responses 1 create-new excl.txt
      app 'fd = os.open(p + "/excl.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); os.write(fd, b"once\n"); os.close(fd)' || rc=$?
      app_succeeded "$rc"
      fault_fired "CREATE 'excl.txt'"
      [[ -f $SHARE_PATH/excl.txt && $(cat "$SHARE_PATH/excl.txt") == once ]] || fail "excl.txt on the share: $(ls -la "$SHARE_PATH")"
      ;;
    rename)
      echo "the data" >"$SHARE_PATH/ren-src"
      fs_mount -o hard
      fault drop-responses 1 rename ren-src
      app 'os.rename(p + "/ren-src", p + "/ren-dst")' || rc=$?
      app_succeeded "$rc"
      fault_fired "SET_INFO 'ren-src'"
      [[ ! -e $SHARE_PATH/ren-src ]] || fail "ren-src is still on the share"
      [[ $(cat "$SHARE_PATH/ren-dst" 2>/dev/null) == "the data" ]] || fail "ren-dst on the share: $(ls -la "$SHARE_PATH")"
      ;;
    unlink)
      echo "doomed" >"$SHARE_PATH/del-me"
      echo "keep" >"$SHARE_PATH/keep-me"
      fs_mount -o hard
      fault drop-responses 1 delete del-me
      app 'os.unlink(p + "/del-me")' || rc=$?
      app_succeeded "$rc"
      fault_fired "SET_INFO 'del-me'"
      wait_for test ! -e "$SHARE_PATH/del-me" || fail "del-me is still on the share 60 s after unlink returned"
      [[ $(cat "$SHARE_PATH/keep-me") == keep ]] || fail "keep-me changed"
      [[ ! -e $MNT/del-me ]] || fail "del-me is still visible on the mount"
      ;;
    mkdir)
      fs_mount -o hard
      fault drop-responses 1 create-new newdir
      app 'os.mkdir(p + "/newdir", 0o755)' || rc=$?
      app_succeeded "$rc"
      fault_fired "CREATE 'newdir'"
      [[ -d $SHARE_PATH/newdir ]] || fail "newdir is not a directory on the share"
      [[ $(find "$SHARE_PATH" -mindepth 1 | wc -l) -eq 1 ]] || fail "the share holds more than newdir: $(ls -la "$SHARE_PATH")"
      ;;
    append)
      printf '0123456789\n' >"$SHARE_PATH/log.txt"
      fs_mount -o hard
      fault drop-responses 1 write log.txt
      app 'fd = os.open(p + "/log.txt", os.O_WRONLY | os.O_APPEND); os.write(fd, b"appended once\n"); os.fsync(fd); os.close(fd)' || rc=$?
      app_succeeded "$rc"
      fault_fired "WRITE 'log.txt'"
      [[ $(cat "$SHARE_PATH/log.txt") == $'0123456789\nappended once' ]] ||
        fail "log.txt on the share is not the original plus one append: $(od -c "$SHARE_PATH/log.txt" | head -n 5)"
      [[ $(cat "$MNT/log.txt") == $'0123456789\nappended once' ]] || fail "log.txt read through the mount differs"
      ;;
    lock)
      head -c 4096 /dev/urandom >"$SHARE_PATH/lock.dat"
      fs_mount -o hard
      fault drop-responses 1 lock lock.dat
      # The holder takes a write lock on bytes 0-99 (its LOCK's response is
      # dropped), says so, waits for a line, unlocks once, says so, waits.
      mkfifo "$work/holder.in"
      lock_holder <"$work/holder.in" >"$work/holder.out" 2>&1 &
      local holder=$!
      exec 8>"$work/holder.in"
      WAIT_LIMIT_MS=70000 wait_for grep -q "^locked$\|Error\|error" "$work/holder.out" ||
        fail "lock: the holder did not report within 70 s"
      grep -q "^locked$" "$work/holder.out" || fail "lock: the application's F_SETLK failed: $(tail -n 3 "$work/holder.out")"
      fault_fired "LOCK 'lock.dat'"
      # Another open (another process, so another SMB handle) must now be refused...
      local other
      other=$(lock_probe 100 0)
      [[ $other == refused* ]] || fail "lock: a second process got the range the holder locked: $other"
      # ...and granted after ONE unlock: a lock executed twice would need two.
      echo >&8
      WAIT_LIMIT_MS=30000 wait_for grep -q "^unlocked$" "$work/holder.out" || fail "lock: the holder's unlock did not return"
      other=$(lock_probe 100 0)
      [[ $other == granted ]] || fail "lock: after one unlock the range is still locked ($other): the LOCK ran twice"
      echo >&8
      exec 8>&-
      wait "$holder" || fail "lock: the holder exited with an error: $(tail -n 3 "$work/holder.out")"
      ;;
    set-eof)
      head -c 100000 /dev/urandom >"$SHARE_PATH/trunc.dat"
      local head_sha
      head_sha=$(head -c 1000 "$SHARE_PATH/trunc.dat" | sha256sum | cut -d' ' -f1)
      fs_mount -o hard
      fault drop-responses 1 set-eof trunc.dat
      app 'os.truncate(p + "/trunc.dat", 1000)' || rc=$?
      app_succeeded "$rc"
      fault_fired "SET_INFO 'trunc.dat'"
      [[ $(stat -c %s "$SHARE_PATH/trunc.dat") -eq 1000 ]] || fail "trunc.dat has $(stat -c %s "$SHARE_PATH/trunc.dat") bytes on the share, expected 1000"
      [[ $(sha "$SHARE_PATH/trunc.dat") == "$head_sha" ]] || fail "trunc.dat's first 1000 bytes changed"
      [[ $(stat -c %s "$MNT/trunc.dat") -eq 1000 ]] || fail "trunc.dat's size on the mount is not 1000"
      ;;
  esac
  # The mount keeps working after the reconnect.
  echo after >"$MNT/after.txt" || fail "write after the replay"
  [[ $(cat "$SHARE_PATH/after.txt") == after ]] || fail "after.txt did not reach the share"
  note "$op: one success for the application, the share as after one execution"
  fs_umount
  echo "PASS: $op replayed after a dropped response"
}

fo_main scenario
