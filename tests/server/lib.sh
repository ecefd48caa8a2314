# Shared by the smbxd shell tests (sourced). Each test gets its own network
# namespace with only a loopback, runs smbxd there on port 445 over a
# scratch share, and talks to it with Samba's own tools from inside the
# namespace. Everything started is stopped by PID and removed at exit.
# Exit 77 (ctest SKIP) only when a prerequisite is missing from the machine.

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }

smbxd=${1:?usage: $0 PATH/TO/smbxd [ARGS]}
shift
[[ -x $smbxd ]] || fail "$smbxd is not executable"
[[ $(id -u) -eq 0 ]] || skip "needs root for ip netns"
command -v ip >/dev/null || skip "iproute2 is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-server.XXXXXX")
chmod 755 "$work"
ns=""
smbxd_pid=""
cleanup() {
  if [[ -n $smbxd_pid ]] && kill -0 "$smbxd_pid" 2>/dev/null; then
    kill -TERM "$smbxd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$smbxd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$smbxd_pid" 2>/dev/null || true
  fi
  [[ -n $ns ]] && ip netns del "$ns" 2>/dev/null
  if [[ -n ${SMBX_TEST_KEEP:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_netns() {
  ns="smbx-s-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  ip netns add "$ns" || fail "ip netns add $ns"
  ip -n "$ns" link set lo up || fail "cannot bring up lo in $ns"
}
in_ns() { ip netns exec "$ns" "$@"; }
# shellcheck source=../lib/listening.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/listening.sh"

USER_NAME=smbxuser
USER_PASS='Pass-w0rd!'

# start_smbxd ARGS...: smbxd on 127.0.0.1:445 in the namespace; waits (at most
# 10 s) until it accepts connections.
start_smbxd() {
  [[ -n $ns ]] || make_netns
  # Not through in_ns: a backgrounded function is a subshell, and its PID is not smbxd's.
  # ip netns exec execs the command, so $! is smbxd itself.
  ip netns exec "$ns" "$smbxd" --listen 127.0.0.1:445 --user "$USER_NAME:$USER_PASS" "$@" >"$work/smbxd.log" 2>&1 &
  smbxd_pid=$!
  wait_listening -n "$ns" "$smbxd_pid" 445 && return 0
  [[ $? -eq 1 ]] && { cat "$work/smbxd.log" >&2; fail "smbxd exited at start"; }
  fail "smbxd did not accept connections within 10 s"
}

# smbclient_run SHARE COMMANDS [smbclient options...]
smbclient_run() {
  local share=$1 commands=$2
  shift 2
  in_ns timeout 300 smbclient "//127.0.0.1/$share" -U "$USER_NAME%$USER_PASS" "$@" -c "$commands" </dev/null
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
