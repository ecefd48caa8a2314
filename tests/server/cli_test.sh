#!/bin/bash
# smbxd's command line: clear errors for bad options, a missing share path and
# a port in use; the state store (--state-dir, ca shares): its errors, the
# directory made 0700, one smbxd per state dir, FileId ranges across a kill -9;
# a clean exit on SIGTERM and on SIGINT.
set -u
source "$(dirname "$0")/lib.sh"
mkdir -p "$work/share"
make_netns

expect_error() {  # expect_error WHAT PATTERN ARGS...
  local what=$1 pattern=$2 out rc
  shift 2
  out=$(in_ns timeout 10 "$smbxd" "$@" 2>&1)
  rc=$?
  [[ $rc -eq 2 ]] || fail "$what: exit status $rc, expected 2"
  grep -Eq -e "$pattern" <<<"$out" || fail "$what: message '$out' does not match /$pattern/"
  note "$what: exit $rc, '$(head -1 <<<"$out")'"
}

expect_error "unknown option" "--bogus" --bogus --share "s=$work/share" --user u:p
expect_error "no share" "--share is required" --user u:p
expect_error "missing share path" "open share s at $work/nope: .*No such file or directory" \
  --share "s=$work/nope" --user u:p
touch "$work/a-file"
expect_error "share path is a file" "Not a directory" --share "s=$work/a-file" --user u:p
expect_error "bad share option" "unknown share option 'fast'" --share "s=$work/share,fast" --user u:p
expect_error "bad user" "expected USER:PASSWORD" --share "s=$work/share" --user nocolon
expect_error "bad port" "port '99999'" --listen 127.0.0.1:99999 --share "s=$work/share" --user u:p
expect_error "bad address" "not an IP address" --listen nohost:445 --share "s=$work/share" --user u:p
expect_error "bad log level" "--log loud" --log loud --share "s=$work/share" --user u:p
# The state store (--state-dir, ca shares).
expect_error "ca share without state dir" "share s is continuously available \\(ca\\) but no --state-dir" \
  --share "s=$work/share,ca" --user u:p
expect_error "state dir is a file" "prepare --state-dir $work/a-file: .*not a directory" \
  --state-dir "$work/a-file" --share "s=$work/share,ca" --user u:p
expect_error "state dir parent missing" "prepare --state-dir $work/no/state: .*No such file or directory" \
  --state-dir "$work/no/state" --share "s=$work/share,ca" --user u:p
mkdir -p "$work/foreign"
printf 'not a database %.0s' $(seq 300) >"$work/foreign/smbxd-state.sqlite"
expect_error "state store not SQLite" "$work/foreign/smbxd-state.sqlite: .*not a database" \
  --state-dir "$work/foreign" --share "s=$work/share,ca" --user u:p
expect_error "config file ca without state dir" "share ha is continuously available" \
  --config <(printf '[ha]\npath = %s\ncontinuously available = yes\n' "$work/share") --user u:p

# A missing state dir is created mode 0700; a second smbxd on the same state
# dir is refused while the first holds it.
start_smbxd --share "s=$work/share,ca" --state-dir "$work/state"
[[ $(stat -c %a "$work/state") == 700 ]] || fail "state dir mode is $(stat -c %a "$work/state"), expected 700"
[[ -s $work/state/smbxd-state.sqlite ]] || fail "no state store in $work/state"
note "state dir created 0700 with $(ls "$work/state" | tr '\n' ' ')"
expect_error "state dir in use" "$work/state/smbxd-state.sqlite: .*locked" \
  --listen 127.0.0.1:446 --state-dir "$work/state" --share "s=$work/share,ca" --user u:p
# FileIds come from ranges reserved in the store (4096 at a time), so a
# restarted server never reuses one: each run that opens a file reserves the
# next range, also when the run ends with kill -9.
have_sqlite=""
command -v sqlite3 >/dev/null && command -v smbclient >/dev/null && have_sqlite=1
next_file_id() { sqlite3 "$work/state/smbxd-state.sqlite" 'SELECT next FROM file_ids;'; }
[[ -n $have_sqlite ]] && { smbclient_run s ls >/dev/null || fail "smbclient ls on the ca share"; }
kill -KILL "$smbxd_pid"; wait "$smbxd_pid" 2>/dev/null
if [[ -n $have_sqlite ]]; then
  first=$(next_file_id)
  [[ $first == 4097 ]] || fail "after one run the store's next FileId is '$first', expected 4097"
fi
start_smbxd --share "s=$work/share,ca" --state-dir "$work/state"
[[ -n $have_sqlite ]] && { smbclient_run s ls >/dev/null || fail "smbclient ls after the restart"; }
note "restart after kill -9 on the same state dir: ok"
kill -TERM "$smbxd_pid"; wait "$smbxd_pid" 2>/dev/null
if [[ -n $have_sqlite ]]; then
  second=$(next_file_id)
  [[ $second == 8193 ]] || fail "after the restart the store's next FileId is '$second', expected 8193"
  note "FileId ranges: next $first after the first run, $second after the restart"
fi

start_smbxd --share "s=$work/share"
expect_error "port in use" "listen on 127.0.0.1:445: .*Address already in use" \
  --listen 127.0.0.1:445 --share "s=$work/share" --user u:p

for signal in TERM INT; do
  kill "-$signal" "$smbxd_pid"
  rc=""
  for _ in $(seq 100); do
    if ! kill -0 "$smbxd_pid" 2>/dev/null; then wait "$smbxd_pid"; rc=$?; break; fi
    sleep 0.1
  done
  [[ -n $rc ]] || fail "smbxd did not exit within 10 s of SIG$signal"
  [[ $rc -eq 0 ]] || fail "smbxd exited with $rc after SIG$signal"
  grep -q "shutting down on SIG$signal" "$work/smbxd.log" || fail "no shutdown message for SIG$signal"
  note "SIG$signal: clean exit"
  [[ $signal == TERM ]] && start_smbxd --share "s=$work/share"
done
smbxd_pid=""
echo "PASS: smbxd command line"
