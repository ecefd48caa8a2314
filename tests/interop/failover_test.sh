#!/usr/bin/env bash
# Transparent failover of mount.smbx (issue 7): the client's TCP connection is
# killed (`ss -K`, inside the server's namespace) while a file is open, and
# again while a write runs through that same open descriptor. The writer and
# a reader on another open descriptor see no error, the data on the server is
# byte-identical (sha256), and `smbxctl status` counts the reconnects and the
# reclaimed handles (durable v2 handles: DH2Q on open, DH2C after reconnect).
#
#   failover_test.sh --mount PATH/mount.smbx --smbxctl PATH/smbxctl [--server samba]
#   failover_test.sh --mount PATH/mount.smbx --smbxctl PATH/smbxctl --smbxd PATH/smbxd
#   failover_test.sh --mount PATH/mount.smbx --smbxctl PATH/smbxctl --kill-smbd
#
# With --kill-smbd (Samba only) the smbd process serving the mount is killed
# with -9 during a synchronous write, twice. Samba 4.17 then no longer knows
# the durable handle (the DH2C gets OBJECT_NAME_NOT_FOUND), so mount.smbx opens
# the file again by path and replays the write in flight: the writer still
# sees no error and the file is byte-identical.
#
# Runs through tests/fs/lib.sh (private server and namespace, cleanup on exit).
set -euo pipefail
source "$(dirname "$0")/../fs/lib.sh"

# smbxctl's path comes in the test arguments (lib.sh keeps what it does not know).
smbxctl=""
kill_smbd=""
for ((i = 0; i < ${#test_args[@]}; i++)); do
  [[ ${test_args[i]} == --smbxctl ]] && smbxctl=${test_args[i + 1]:-}
  [[ ${test_args[i]} == --kill-smbd ]] && kill_smbd=1
done
if [[ -z ${FS_INSIDE:-} ]]; then
  [[ -x $smbxctl ]] || fail "usage: $0 --mount PATH --smbxctl PATH [--smbxd PATH]"
  command -v ss >/dev/null || skip "ss (iproute2) is not installed"
fi

# With --smbxd: lib.sh's smbxd, but serving a continuously available share
# (`,ca`, persistent handles) with its state under --state-dir.
start_smbxd_server() {
  smbxd_ns="smbx-fo-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  ip netns add "$smbxd_ns" || fail "ip netns add"
  ip -n "$smbxd_ns" link set lo up || fail "cannot bring up lo in $smbxd_ns"
  smbxd_share=$work/smbxd-share
  mkdir -p "$smbxd_share" "$work/smbxd-state"
  mount -t tmpfs -o "size=1g,mode=0777" smbx-fo-smbxd "$smbxd_share" || fail "mount tmpfs"
  NETNS=$smbxd_ns HOST=127.0.0.1 PORT=445 USER=smbxfs DOMAIN=SMBXTEST SHARE=plain SECRET_SHARE="" SHARE_PATH=$smbxd_share SECRET_PATH=""
  PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  export NETNS HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE SHARE_PATH SECRET_PATH
  ip netns exec "$NETNS" "$smbxd" --listen 127.0.0.1:445 --share "$SHARE=$SHARE_PATH,ca" \
    --state-dir "$work/smbxd-state" --user "$USER:$PASSWORD" >"$work/smbxd.log" 2>&1 &
  smbxd_pid=$!
  wait_listening -n "$NETNS" "$smbxd_pid" 445 && return 0
  [[ $? -eq 1 ]] && { cat "$work/smbxd.log" >&2; fail "smbxd exited at start"; }
  fail "smbxd did not accept connections within 10 s"
}

status_of() {  # status_of KEY: the value smbxctl status shows for KEY
  local out
  out=$(timeout 10 "$smbxctl" status "$MNT") || fail "smbxctl status $MNT failed"
  sed -n "s/^$1: //p" <<<"$out"
}

# Kills the mount's connection to the server: the client's socket is the one
# whose destination port is the server's (smbd's own end has it as source).
kill_connection() {
  local before
  before=$(ss -Htn state established "( dport = :$PORT )" | wc -l)
  [[ $before -ge 1 ]] || fail "no established connection to port $PORT to kill"
  ss -K -Htn state established "( dport = :$PORT )" >/dev/null || fail "ss -K failed (kernel without SOCK_DESTROY?)"
  note "killed $before client connection(s) to port $PORT"
}

wait_reconnects() {  # wait_reconnects N: until smbxctl status shows N reconnects (10 s)
  local want=$1 got=""
  for _ in $(seq 100); do
    got=$(status_of reconnects)
    [[ $got -ge $want ]] && return 0
    sleep 0.1
  done
  fail "smbxctl status shows ${got:-no} reconnects, expected $want"
}

scenario() {
  command -v ss >/dev/null || skip "ss is not installed"
  local mib=48
  head -c $((mib << 20)) /dev/urandom > "$work/src.bin"
  local want
  want=$(sha256sum < "$work/src.bin" | cut -d' ' -f1)

  fs_mount -o hard
  [[ $(status_of reconnects) == 0 ]] || fail "a fresh mount shows reconnects"

  # One descriptor for writing, kept open through both kills; 16 MiB before.
  exec 3<>"$MNT/failover.bin"
  dd if="$work/src.bin" bs=1M count=16 status=none >&3 || fail "the first 16 MiB did not write"

  # 1. The connection dies while the file is open but idle.
  kill_connection
  wait_reconnects 1
  dd if="$work/src.bin" bs=1M skip=16 count=16 status=none >&3 || fail "writing after the reconnect failed"

  # 2. The connection dies in the middle of synchronous 64 KiB writes (one is
  # nearly always in flight) through a second open of the file, while the
  # first descriptor stays open (Samba keeps one durable open per file: the
  # second is reopened by name).
  dd if="$work/src.bin" of="$MNT/failover.bin" bs=64k skip=512 seek=512 count=256 conv=notrunc oflag=sync \
    status=none &
  local writer=$!
  local kills=0
  for _ in 1 2 3; do
    sleep 0.15
    kill -0 "$writer" 2>/dev/null || break
    kill_connection
    kills=$((kills + 1))
    wait_reconnects $((1 + kills))
  done
  wait "$writer" || fail "the write running across $kills reconnects failed (exit $?)"
  [[ $kills -ge 1 ]] || note "the writer finished before the first kill"

  # Read back through a descriptor opened before a third kill.
  exec 4<"$MNT/failover.bin"
  kill_connection
  local got
  got=$(sha256sum <&4 | cut -d' ' -f1) || fail "reading across the reconnect failed"
  exec 4<&-
  exec 3>&-
  [[ $got == "$want" ]] || fail "read back through the mount: sha256 $got, expected $want"
  local on_server
  on_server=$(sha256sum < "$SHARE_PATH/failover.bin" | cut -d' ' -f1)
  [[ $on_server == "$want" ]] || fail "the file on the server: sha256 $on_server, expected $want"

  local reconnects reopened lost replayed
  reconnects=$(status_of reconnects)
  reopened=$(status_of "handles reopened")
  lost=$(status_of "handles lost")
  replayed=$(status_of "requests replayed")
  note "status: reconnects $reconnects, handles reopened $reopened, handles lost $lost, requests replayed $replayed"
  [[ $reconnects -eq $((2 + kills)) ]] || fail "smbxctl status shows $reconnects reconnects, expected $((2 + kills))"
  [[ $lost -eq 0 ]] || fail "$lost handles were lost (durable reconnect refused?)"
  [[ $reopened -ge $((2 + kills)) ]] || fail "only $reopened handles were reopened"
  fs_umount
  echo "ok: $mib MiB written and read across $((2 + kills)) killed connections on $fs_server, sha256 equal"
}

# The smbd processes serving established connections on the server's port
# (children of the test's own smbd; the listener has no established socket).
served_pids() {
  ss -tnpH state established "( sport = :$PORT )" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

kill_smbd_scenario() {
  [[ $fs_server == samba ]] || fail "--kill-smbd needs the Samba server"
  local mib=32
  head -c $((mib << 20)) /dev/urandom > "$work/src.bin"
  local want
  want=$(sha256sum < "$work/src.bin" | cut -d' ' -f1)
  fs_mount -o hard

  # Synchronous 64 KiB writes: one is nearly always in flight when smbd dies.
  dd if="$work/src.bin" of="$MNT/killed.bin" bs=64k oflag=sync status=none &
  local writer=$! kills=0 pids
  for _ in 1 2; do
    sleep 0.4
    kill -0 "$writer" 2>/dev/null || break
    pids=$(served_pids)
    [[ -n $pids ]] || fail "no smbd serves the mount's connection"
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $pids
    kills=$((kills + 1))
    note "killed smbd $pids (kill $kills)"
    wait_reconnects "$kills"
  done
  wait "$writer" || fail "the writer failed across $kills kills of smbd (exit $?)"
  [[ $kills -ge 1 ]] || fail "the writer finished before the first kill (too fast to test)"

  local got on_server
  got=$(sha256sum < "$MNT/killed.bin" | cut -d' ' -f1) || fail "reading back failed"
  [[ $got == "$want" ]] || fail "read back through the mount: sha256 $got, expected $want"
  on_server=$(sha256sum < "$SHARE_PATH/killed.bin" | cut -d' ' -f1)
  [[ $on_server == "$want" ]] || fail "the file on the server: sha256 $on_server, expected $want"
  local lost reopened
  lost=$(status_of "handles lost")
  reopened=$(status_of "handles reopened")
  note "status: reconnects $(status_of reconnects), handles reopened $reopened, handles lost $lost"
  [[ $lost -eq 0 ]] || fail "$lost handles were lost: the writer's handle was not opened again by path"
  [[ $reopened -ge $kills ]] || fail "only $reopened handles were reopened after $kills kills"
  fs_umount
  echo "ok: $mib MiB written across $kills kill -9 of smbd, sha256 equal, no handle lost"
}

if [[ -n $kill_smbd ]]; then fs_main kill_smbd_scenario; else fs_main scenario; fi
