#!/usr/bin/env bash
# The harness cleans up after itself: stop removes the smbd (and its
# children), the tmpfs mounts, the network namespace and the directory; a
# second stop and a stop after a partial start are harmless; two harnesses
# run side by side without sharing anything.
#   harness_test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_harness

a="$work/a" b="$work/b"
on_exit "'$harness' stop '$a'; '$harness' stop '$b'"
"$harness" start "$a" >/dev/null 2>&1 || fail "start a"
"$harness" start "$b" >/dev/null 2>&1 || fail "start b"
(source "$a/env"; echo "$NETNS $SMBD_PID $PASSWORD") > "$work/a.info"
(source "$b/env"; echo "$NETNS $SMBD_PID $PASSWORD") > "$work/b.info"
read -r ns_a pid_a pw_a < "$work/a.info"
read -r ns_b pid_b pw_b < "$work/b.info"
[[ $ns_a != "$ns_b" && $pid_a != "$pid_b" && $pw_a != "$pw_b" ]] || fail "the two harnesses share a namespace, smbd or password"

# Each server is reachable only in its own namespace, and each has its own data.
load_samba "$a"
echo "only in a" > "$SHARE_PATH/marker.txt"
chown "$USER" "$SHARE_PATH/marker.txt"
smbclient_run "$SHARE" "get marker.txt $work/marker.a" >/dev/null 2>&1 || fail "smbclient in a"
load_samba "$b"
smbclient_run "$SHARE" "get marker.txt $work/marker.b" >/dev/null 2>&1 && fail "b sees a's file"
# An open connection holds a child smbd; stop must end it too.
in_ns smbclient "//$HOST/$SHARE" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" </dev/zero >/dev/null 2>&1 &
client_pid=$!
on_exit "kill $client_pid 2>/dev/null"
sleep 1
children=$(pgrep -g "$pid_b" | grep -vx "$pid_b" | wc -l || true)
note "b's smbd has $children child process(es) with a client connected"
# An RPC call (share list) makes smbd start samba-dcerpcd and rpcd_* workers,
# which leave smbd's process group; stop must end them too.
in_ns smbclient -L "//$HOST" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" >/dev/null 2>&1 || fail "smbclient -L in b"
ns_pids_b=$(ip netns pids "$ns_b" | tr '\n' ' ')
note "processes in b's namespace: $(for p in $ns_pids_b; do cat "/proc/$p/comm" 2>/dev/null; done | sort | tr '\n' ' ')"

"$harness" stop "$b" || fail "stop b"
"$harness" stop "$b" || fail "a second stop of b"
[[ ! -e $b ]] || fail "stop left $b"
[[ ! -d /proc/$pid_b ]] || fail "smbd $pid_b still runs"
pgrep -g "$pid_b" >/dev/null && fail "processes of smbd $pid_b's group remain"
for p in $ns_pids_b; do
  if [[ -r /proc/$p/stat && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]]; then
    fail "process $p ($(cat "/proc/$p/comm" 2>/dev/null)) of b's namespace still runs"
  fi
done
ip netns list | awk '{print $1}' | grep -qxF "$ns_b" && fail "namespace $ns_b remains"
grep -qF "$b/" /proc/mounts && fail "mounts under $b remain"
load_samba "$a"
smbclient_run "$SHARE" "get marker.txt $work/marker.a2" >/dev/null 2>&1 || fail "stopping b disturbed a"

# A partial start: a namespace and a mount, no smbd, no env.
p="$work/partial"
mkdir -p "$p/share"
ns_p="smbx-h-partial$$"
echo "$ns_p" > "$p/netns"
ip netns add "$ns_p"
mount -t tmpfs -o size=1m smbx-h-partial "$p/share"
"$harness" stop "$p" || fail "stop after a partial start"
[[ ! -e $p ]] || fail "stop left the partial directory"
ip netns list | awk '{print $1}' | grep -qxF "$ns_p" && fail "the partial namespace remains"
"$harness" stop "$work/never-started" || fail "stop of a directory that never existed"
note "two harnesses side by side; stop (twice), stop after a partial start: nothing left behind"
echo "ok: harness"
