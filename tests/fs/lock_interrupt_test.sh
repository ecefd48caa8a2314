#!/usr/bin/env bash
# An F_SETLKW on smbxd interrupted by a signal around a reconnect (issue 6):
# the application gets EINTR, and no lock turns up later on the server.
#
#   lock_interrupt_test.sh --mount PATH/mount.smbx --smbxd PATH/smbxd --smbxctl PATH/smbxctl
#                          --mode replay|down|ignored
#
# A holder process locks bytes 0-99; a waiter blocks in F_SETLKW on bytes
# 50-59 with SIGALRM due after 3 s (handler without SA_RESTART: Python raises
# from it). After 1 s:
#   replay: smbxd drops every connection (fault drop-connections); mount.smbx
#           reconnects and sends the LOCK again (SMB2_FLAGS_REPLAY_OPERATION);
#           the interrupt must cancel THAT request (SMB2 CANCEL).
#   down:   smbxd is killed (-9) and started again only after the alarm: the
#           interrupt comes while the mount is reconnecting, and the LOCK must
#           not be sent again once it is back (smbxd keeps no byte-range locks
#           across a crash, so a resent LOCK would be granted at once).
#   ignored: smbxd ignores every CANCEL (fault ignore-cancels): the alarm must
#           still end the wait (2 s after the CANCEL, mount.smbx stops
#           waiting for an answer), and when the holder unlocks, the server
#           grants the abandoned LOCK, which mount.smbx must give back.
# The alarm must end the wait within 5 s of firing. Then the holder unlocks,
# and a third process must get bytes 50-59 at once (F_SETLK) while the waiter
# still has its file open.
set -euo pipefail
# shellcheck source=../failover/lib.sh
source "$(dirname "$0")/../failover/lib.sh"

# The mount's reconnect counter (smbxctl status).
reconnects() { "$FO_SMBXCTL" status "$MNT" 2>/dev/null | sed -n 's/^ *reconnects: *\([0-9]*\).*/\1/p' | head -n 1; }
reconnected_since() { local n; n=$(reconnects); [[ -n $n && $n -gt $1 ]]; }

mode=""
for ((i = 0; i < ${#fo_args[@]}; i++)); do
  case ${fo_args[$i]} in
    --mode) mode=${fo_args[$((i + 1))]:-}; i=$((i + 1)) ;;
  esac
done
[[ $mode == replay || $mode == down || $mode == ignored ]] || fail "--mode must be replay, down or ignored (not '$mode')"

scenario() {
  command -v python3 >/dev/null || skip "python3 is not installed"
  fo_start_smbxd
  head -c 4096 /dev/urandom >"$SHARE_PATH/lock.dat"
  fs_mount -o hard
  local before
  before=$(reconnects)
  [[ $before =~ ^[0-9]+$ ]] || fail "no reconnects counter in smbxctl status $MNT"

  mkfifo "$work/holder.in" "$work/waiter.in"
  lock_holder <"$work/holder.in" >"$work/holder.out" 2>&1 &
  local holder=$!
  exec 8>"$work/holder.in"
  WAIT_LIMIT_MS=30000 wait_for grep -q "^locked$\|Error" "$work/holder.out" || fail "the holder did not report within 30 s"
  grep -q "^locked$" "$work/holder.out" || fail "the holder's F_SETLK failed: $(tail -n 3 "$work/holder.out")"

  # The waiter: F_SETLKW, SIGALRM after 3 s. Python installs its handlers
  # without SA_RESTART; raising from the handler ends the retry loop.
  timeout 120 python3 -c '
import fcntl, os, signal, sys, time
class Alarm(Exception):
    pass
def on_alarm(signum, frame):
    raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
fd = os.open(sys.argv[1] + "/lock.dat", os.O_RDWR)
print("waiting", flush=True)
started = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 3.0)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX, 10, 50)
    print("granted after %d ms" % ((time.monotonic() - started) * 1000), flush=True)
except Alarm:
    print("interrupted after %d ms" % ((time.monotonic() - started) * 1000), flush=True)
sys.stdin.readline()
' "$MNT" <"$work/waiter.in" >"$work/waiter.out" 2>&1 &
  local waiter=$!
  exec 9>"$work/waiter.in"
  WAIT_LIMIT_MS=30000 wait_for grep -q "^waiting$\|Error" "$work/waiter.out" || fail "the waiter did not start"
  sleep 1
  if [[ $mode == replay ]]; then
    fault drop-connections
    WAIT_LIMIT_MS=20000 wait_for reconnected_since "$before" || fail "mount.smbx did not reconnect within 20 s of drop-connections"
    note "reconnected ($(reconnects) reconnects) while the F_SETLKW waits"
  elif [[ $mode == ignored ]]; then
    fault ignore-cancels
    note "smbxd ignores CANCEL from now on"
  else
    fo_kill_smbxd
    note "smbxd killed while the F_SETLKW waits"
  fi
  WAIT_LIMIT_MS=15000 wait_for grep -q "after\|Error" "$work/waiter.out" ||
    fail "F_SETLKW not interrupted: no result 15 s after it started (SIGALRM at 3 s)"
  local got
  got=$(grep "after\|Error" "$work/waiter.out" | head -n 1)
  [[ $got == interrupted* ]] || fail "the waiter: expected EINTR at the alarm, got: $got"
  local ms=${got##* after }
  ms=${ms%% ms}
  [[ $ms -lt 8000 ]] || fail "the waiter was interrupted only after $ms ms (SIGALRM at 3000 ms)"
  note "F_SETLKW $got"
  if [[ $mode == down ]]; then
    fo_start_smbxd
    WAIT_LIMIT_MS=30000 wait_for reconnected_since "$before" || fail "mount.smbx did not reconnect within 30 s of the restart"
    note "reconnected ($(reconnects) reconnects) after the interrupted wait"
    sleep 1  # a LOCK sent again after the reconnect would be granted by now
  fi

  echo >&8
  WAIT_LIMIT_MS=30000 wait_for grep -q "^unlocked$" "$work/holder.out" || fail "the holder's unlock did not return"
  sleep 0.5  # a LOCK sent again after the cancel would hold the range by now
  local third
  third=$(lock_probe 10 50)
  [[ $third == granted ]] || fail "a third process cannot lock bytes 50-59 after the interrupted wait ($third): the cancelled LOCK came back"
  echo >&8
  echo >&9
  exec 8>&- 9>&-
  wait "$holder" || fail "the holder exited with an error: $(tail -n 3 "$work/holder.out")"
  wait "$waiter" || fail "the waiter exited with an error: $(tail -n 3 "$work/waiter.out")"
  fs_umount
  echo "ok ($mode): the interrupted F_SETLKW ended with EINTR at the signal, nothing stays locked"
}
fo_main scenario
