#!/bin/bash
# smbxd fault injection over the control socket (`smbxctl server SOCKET fault
# ...`), checked with Samba's smbclient and the share directory itself, so it
# needs none of the failover pieces of the client:
#   bad arguments get an error naming the problem; freeze stalls SMB but not
#   the control socket; delay slows every response; drop-connections ends
#   every connection; drop-responses executes a request (the file is on disk)
#   but never answers it, then drops the connection; crash ends smbxd like
#   kill -9.
# Usage: faults_test.sh SMBXD SMBXCTL
set -u
source "$(dirname "$0")/../server/lib.sh"
smbxctl=${1:?usage: $0 SMBXD SMBXCTL}
[[ -x $smbxctl ]] || fail "$smbxctl is not executable"
command -v smbclient >/dev/null || skip "smbclient is not installed"

mkdir -p "$work/share"
echo hello >"$work/share/hello.txt"
sock=$work/smbxd.sock
start_smbxd --share "share=$work/share" --control "$sock"

fault() { "$smbxctl" server "$sock" fault "$@"; }
now_ms() { date +%s%3N; }
smb() {  # smb COMMANDS: one smbclient session; output in $work/smb.out, its exit status
  in_ns timeout 60 smbclient //127.0.0.1/share -U "$USER_NAME%$USER_PASS" --option=clientmaxprotocol=SMB3_11 \
    -c "$1" </dev/null >"$work/smb.out" 2>&1
}

# ---- bad arguments -------------------------------------------------------------
expect_error() {  # expect_error MESSAGE-PART WORDS...
  local want=$1 out rc
  shift
  out=$(fault "$@" 2>&1); rc=$?
  [[ $rc -eq 1 ]] || fail "fault $*: exit $rc, expected 1 ($out)"
  grep -qF -- "$want" <<<"$out" || fail "fault $*: message '$out' lacks '$want'"
}
out=$("$smbxctl" server "$sock" fault 2>&1); rc=$?
[[ $rc -eq 1 ]] && grep -q "usage: fault crash" <<<"$out" || fail "bare 'fault': exit $rc, '$out'"
expect_error "usage: fault freeze SECONDS" freeze
expect_error "SECONDS must be a number above 0 and at most 600, not 'soon'" freeze soon
expect_error "not '601'" freeze 601
expect_error "N must be a whole number from 1 to 1000000, not '0'" drop-responses 0
expect_error "unknown command 'bogus'" drop-responses 1 bogus
expect_error "usage: fault drop-responses" drop-responses 1 create x y
expect_error "MS must be a whole number from 0 to 60000, not '-1'" delay -1
expect_error "takes no argument" crash now
expect_error "unknown fault 'explode'" explode
out=$(fault status) || fail "fault status failed"
grep -q "^freeze: none$" <<<"$out" && grep -q "^drop-responses: none$" <<<"$out" && grep -q "^delay: 0 ms$" <<<"$out" ||
  fail "fault status on an idle server: $out"
note "bad arguments are refused with a message; fault status works"

# ---- freeze ----------------------------------------------------------------------
smb "ls" || { cat "$work/smb.out" >&2; fail "smbclient ls before any fault"; }
fault freeze 3 || fail "fault freeze 3"
t0=$(now_ms)
out=$(fault status) || fail "the control socket does not answer during a freeze"
[[ $(($(now_ms) - t0)) -lt 1000 ]] || fail "fault status took $(($(now_ms) - t0)) ms during a freeze"
grep -Eq "^freeze: [0-9]+ ms left$" <<<"$out" || fail "status during the freeze: $out"
smb "get hello.txt $work/got1.txt" || { cat "$work/smb.out" >&2; fail "smbclient get across a freeze"; }
took=$(($(now_ms) - t0))
[[ $took -ge 2500 ]] || fail "a request during a 3 s freeze was answered after $took ms"
[[ $(cat "$work/got1.txt") == hello ]] || fail "get across a freeze returned other data"
note "freeze 3: the control socket answered at once, smbclient waited $took ms and got the data"

# clear ends a freeze early
fault freeze 30 || fail "fault freeze 30"
( sleep 1; "$smbxctl" server "$sock" fault clear >/dev/null ) &
clear_pid=$!
t0=$(now_ms)
smb "ls" || { cat "$work/smb.out" >&2; fail "smbclient ls across a cleared freeze"; }
took=$(($(now_ms) - t0))
wait "$clear_pid"
[[ $took -ge 800 && $took -lt 10000 ]] || fail "fault clear after 1 s of a 30 s freeze: ls took $took ms"
note "fault clear ended a 30 s freeze after 1 s (ls took $took ms)"

# ---- delay ------------------------------------------------------------------------
t0=$(now_ms); smb "ls" || fail "ls"; base=$(($(now_ms) - t0))
fault delay 250 || fail "fault delay 250"
t0=$(now_ms); smb "ls" || { cat "$work/smb.out" >&2; fail "ls with a delay"; }; slow=$(($(now_ms) - t0))
fault delay 0 || fail "fault delay 0"
# negotiate, 2 session setups, tree connect, and the ls itself: at least 5 responses
[[ $slow -ge $((base + 5 * 250)) ]] || fail "delay 250: ls took $slow ms, without delay $base ms"
t0=$(now_ms); smb "ls" || fail "ls"; after=$(($(now_ms) - t0))
[[ $after -lt $((slow - 1000)) ]] || fail "delay 0 did not end the delay ($after ms vs $slow ms)"
note "delay 250: ls $slow ms (without: $base ms, after delay 0: $after ms)"

# ---- drop-connections ---------------------------------------------------------------
mkfifo "$work/in"
in_ns timeout 60 smbclient //127.0.0.1/share -U "$USER_NAME%$USER_PASS" --option=clientmaxprotocol=SMB3_11 \
  <"$work/in" >"$work/held.out" 2>&1 &
client_pid=$!
exec 7>"$work/in"
echo "ls" >&7
for _ in $(seq 50); do
  grep -q "^connections: 1$" <<<"$(fault status)" && break
  sleep 0.1
done
grep -q "^connections: 1$" <<<"$(fault status)" || fail "the held smbclient connection is not counted"
fault drop-connections || fail "fault drop-connections"
for _ in $(seq 50); do
  grep -q "^connections: 0$" <<<"$(fault status)" && break
  sleep 0.1
done
grep -q "^connections: 0$" <<<"$(fault status)" || fail "connections remain after drop-connections: $(fault status)"
echo "get hello.txt $work/got2.txt" >&7
echo "quit" >&7
exec 7>&-
wait "$client_pid" 2>/dev/null
[[ ! -s $work/got2.txt ]] || fail "a get on a dropped connection succeeded"
grep -Eq "NT_STATUS_(CONNECTION_(DISCONNECTED|RESET)|END_OF_FILE|PIPE_BROKEN|CONNECTION_ABORTED)" "$work/held.out" ||
  fail "the held smbclient did not see its connection drop: $(tail -n 5 "$work/held.out")"
smb "ls" || fail "a new connection after drop-connections"
note "drop-connections ended the held connection; new ones work"

# ---- drop-responses ---------------------------------------------------------------------
# CREATE of new.txt runs (the file is made) but smbclient never hears back,
# and the connection goes.
fault drop-responses 1 create new.txt || fail "fault drop-responses 1 create new.txt"
echo data >"$work/new.txt"
smb "put $work/new.txt new.txt" && fail "put with a dropped CREATE response succeeded"
[[ -f $work/share/new.txt ]] || fail "the CREATE whose response was dropped did not run (no new.txt on the share)"
grep -q "fault: dropped the response to CREATE 'new.txt', and the connection" "$work/smbxd.log" ||
  fail "smbxd did not log the dropped CREATE"
grep -q "^drop-responses: none$" <<<"$(fault status)" || fail "drop-responses still armed after the N-th"
note "drop-responses 1 create new.txt: created on disk, unanswered, connection dropped"

# Only matching requests count: an ls and a get of another file pass.
fault drop-responses 1 create-new made || fail "fault drop-responses 1 create-new made"
smb "get hello.txt $work/got3.txt; ls" || { cat "$work/smb.out" >&2; fail "unmatched requests were not answered"; }
smb "mkdir made"; grep -q "NT_STATUS" "$work/smb.out" || fail "mkdir with a dropped response did not report an error: $(cat "$work/smb.out")"
[[ -d $work/share/made ]] || fail "the mkdir whose response was dropped did not run"
note "drop-responses create-new: other requests answered, the mkdir ran unanswered"

# Two frames: the first unanswered (smbclient gives up on it), the second drops the connection.
fault drop-responses 2 write || fail "fault drop-responses 2 write"
grep -q "^drop-responses: 2 left command write$" <<<"$(fault status)" || fail "status: $(fault status)"
fault clear || fail "fault clear"
grep -q "^drop-responses: none$" <<<"$(fault status)" || fail "clear left drop-responses armed"
smb "put $work/new.txt again.txt" || { cat "$work/smb.out" >&2; fail "put after clear"; }
note "drop-responses N counts down and is cleared by clear"

# ---- crash --------------------------------------------------------------------------------
fault crash || fail "fault crash: smbxctl did not exit 0"
for _ in $(seq 50); do kill -0 "$smbxd_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$smbxd_pid" 2>/dev/null && fail "smbxd still runs 5 s after fault crash"
wait "$smbxd_pid" 2>/dev/null
rc=$?
[[ $rc -eq 137 ]] || fail "smbxd exit status $rc after fault crash, expected 137 (SIGKILL)"
[[ -S $sock ]] || fail "the control socket was removed: crash must not clean up"
smbxd_pid=""
note "crash: smbxd died of SIGKILL, nothing cleaned up"
echo "PASS: smbxd fault injection"
