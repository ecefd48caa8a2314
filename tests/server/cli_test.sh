#!/bin/bash
# smbxd's command line: clear errors for bad options, a missing share path and
# a port in use; a clean exit on SIGTERM and on SIGINT.
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
