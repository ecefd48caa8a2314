#!/usr/bin/env bash
# A private Samba smbd for tests, in its own network namespace.
#
#   samba.sh start DIR     start smbd; writes DIR/env (shell syntax, see below)
#   samba.sh stop DIR      stop it and remove everything start made (idempotent)
#   samba.sh check         exit 0 if this machine can run the harness, 77 if a
#                          prerequisite is absent (the reason goes to stderr)
#
# Why a network namespace: smbd binds with SO_REUSEPORT, so two smbd on the same
# host-loopback port silently share connections (see
# /work/shared/torture/smbtorture-map.md). Each harness gets a namespace of its
# own with only `lo` in it, so port 445 is always free there and nothing else
# on the machine can reach or disturb the server. Clients run in the same
# namespace: `ip netns exec "$NETNS" smbclient ...`.
#
# Environment (optional):
#   SMB_SIGNING                 server signing (default: mandatory)
#   SMB_ENCRYPTION_ALGORITHMS   server smb3 encryption algorithms (default: Samba's)
#   SMB_TMPFS_SIZE              size of the share tmpfs (default: 8g; sparse files
#                               only use what is written)
#   SMB_EXTRA_GLOBAL            extra lines for [global]
#
# DIR/env holds: NETNS HOST PORT USER PASSWORD DOMAIN SHARE SECRET_SHARE
# DENIED_SHARE (the test user may not use it) SHARE_PATH SECRET_PATH SMBD_PID CONF.
set -euo pipefail

readonly test_user=smbxtest
readonly test_domain=SMBXTEST
# Port 445, the Direct-TCP port, is free in a namespace of our own, and it is
# the port Wireshark's NBSS dissector treats as Direct TCP (24-bit lengths,
# MS-SMB2 2.1). On any other port, even with `-d tcp.port==PORT,nbss`, it
# reads NetBIOS 17-bit lengths and mis-frames every message over 128 KiB as
# malformed (measured: a 200000-byte READ response of smbclient's).
readonly port=445

die() { echo "samba.sh: $*" >&2; exit 1; }

# Prints why the harness cannot run here, if it cannot.
missing_prerequisite() {
  local tool
  for tool in smbd smbclient smbpasswd ip useradd setpriv mount umount mountpoint; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed"; return; }
  done
  [[ $(id -u) -eq 0 ]] || { echo "not root (network namespaces and tmpfs need root)"; return; }
}

# True while PID is a running smbd (guards against a recycled pid).
smbd_alive() {
  local pid=$1
  [[ -n $pid && -d /proc/$pid ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == smbd* ]]
}

# True while PID exists and is not a zombie.
running() {
  [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

stop() {
  local dir=$1 pid="" netns="" i
  [[ -d $dir ]] || return 0
  if [[ -s $dir/netns ]]; then netns=$(cat "$dir/netns"); fi
  if [[ -s $dir/run/smbd.pid ]]; then pid=$(tr -dc 0-9 < "$dir/run/smbd.pid"); fi
  if [[ -n $pid ]] && smbd_alive "$pid"; then
    # smbd -D made itself a session and process-group leader; its per-connection
    # children share the group, so one signal to the group stops them all.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      smbd_alive "$pid" || break
      sleep 0.1
    done
    smbd_alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  # Children that outlive the parent for a moment still hold files in the share.
  if [[ -n $pid ]]; then
    for ((i = 0; i < 50; i++)); do
      pgrep -g "$pid" >/dev/null 2>&1 || break
      sleep 0.1
    done
    pgrep -g "$pid" >/dev/null 2>&1 && kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  # smbd starts samba-dcerpcd and its rpcd_* workers on demand in a session of
  # their own, so the group kill above misses them; they outlive smbd. Every
  # process in this private namespace was started by this harness: end them
  # by PID.
  if [[ -n $netns ]] && ip netns list | awk '{print $1}' | grep -qxF "$netns"; then
    local left
    left=$(ip netns pids "$netns" 2>/dev/null | tr '\n' ' ')
    if [[ -n ${left// /} ]]; then
      # shellcheck disable=SC2086
      kill -TERM $left 2>/dev/null || true
      # Wait on the PIDs themselves: an exiting process leaves the namespace
      # before it is gone.
      local p alive
      for ((i = 0; i < 50; i++)); do
        alive=""
        for p in $left; do running "$p" && alive+="$p "; done
        [[ -z $alive ]] && break
        sleep 0.1
      done
      # shellcheck disable=SC2086
      [[ -z $alive ]] || kill -KILL $alive 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        alive=""
        for p in $left; do running "$p" && alive+="$p "; done
        [[ -z $alive ]] && break
        sleep 0.1
      done
    fi
  fi
  local m
  for m in "$dir/share" "$dir/secret"; do
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || { sleep 0.5; umount -l "$m" || true; }
    fi
  done
  if [[ -n $netns ]] && ip netns list | awk '{print $1}' | grep -qxF "$netns"; then
    ip netns del "$netns" || true
  fi
  rm -rf "$dir"
}

start() {
  local dir=$1
  local why
  why=$(missing_prerequisite)
  [[ -z $why ]] || die "cannot start: $why"
  [[ ! -e $dir/env ]] || die "$dir already holds a harness; stop it first"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Anything that fails from here on leaves a partial start: undo it.
  trap 'stop "$dir"' ERR

  local netns password
  netns="smbx-h-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  # A fresh random password per server: a test that passes could not have used
  # a stale or default credential.
  password="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')!"
  echo "$netns" > "$dir/netns"
  ip netns add "$netns"
  ip -n "$netns" link set lo up

  mkdir -p "$dir"/{priv,lock,state,cache,run,log,share,secret}
  chmod 700 "$dir/priv"
  id "$test_user" >/dev/null 2>&1 ||
    useradd -M -N -s /usr/sbin/nologin -d /nonexistent "$test_user" 2>/dev/null ||
    id "$test_user" >/dev/null 2>&1   # a concurrent start may have made it
  local m
  for m in share secret; do
    mount -t tmpfs -o "size=${SMB_TMPFS_SIZE:-8g},mode=0777" "smbx-h-$m" "$dir/$m"
    # Owned by the test user so files made directly on the share path (as root,
    # by tests) and files made through smbd can both be renamed and deleted.
    chown "$test_user" "$dir/$m"
    # smbd works as the test user: every directory above the share must let it through.
    setpriv --reuid="$test_user" --regid="$(id -g "$test_user")" --clear-groups test -w "$dir/$m" ||
      die "user $test_user cannot reach $dir/$m (a parent directory is not world-searchable)"
  done

  local encryption_line=""
  if [[ -n ${SMB_ENCRYPTION_ALGORITHMS:-} ]]; then
    encryption_line="  server smb3 encryption algorithms = $SMB_ENCRYPTION_ALGORITHMS"
  fi
  cat > "$dir/smb.conf" <<CONF
[global]
  server role = standalone server
  netbios name = SMBXHARNESS
  workgroup = $test_domain
  smb ports = $port
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  private dir = $dir/priv
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/run
  ncalrpc dir = $dir/run/ncalrpc
  log file = $dir/log/log.%m
  max log size = 0
  log level = 1
  passdb backend = tdbsam:$dir/priv/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  usershare path =
  map to guest = never
  server min protocol = SMB2_02
  server max protocol = SMB3_11
  server signing = ${SMB_SIGNING:-mandatory}
$encryption_line
  smb2 leases = yes
  kernel oplocks = no
  kernel share modes = no
  posix locking = no
${SMB_EXTRA_GLOBAL:-}
[plain]
  path = $dir/share
  read only = no
[secret]
  path = $dir/secret
  read only = no
  smb encrypt = required
# The test user may not connect here: tree connect gets ACCESS_DENIED.
[denied]
  path = $dir/share
  valid users = root
CONF
  printf '%s\n%s\n' "$password" "$password" |
    smbpasswd -c "$dir/smb.conf" -s -a "$test_user" >"$dir/log/smbpasswd.out" 2>&1 ||
    { cat "$dir/log/smbpasswd.out" >&2; die "smbpasswd -a $test_user failed"; }

  ip netns exec "$netns" smbd -D -s "$dir/smb.conf" </dev/null >"$dir/log/smbd.out" 2>&1

  # Bounded wait: the pid file, then a real authenticated SMB3 exchange (a
  # share listing) must succeed.
  local i pid="" ok=0
  for ((i = 0; i < 100; i++)); do
    [[ -s $dir/run/smbd.pid ]] && pid=$(tr -dc 0-9 < "$dir/run/smbd.pid")
    if [[ -n $pid ]] && ip netns exec "$netns" smbclient -L "//127.0.0.1" -p "$port" \
         -U "$test_domain\\$test_user%$password" -m SMB3 </dev/null >"$dir/log/probe.out" 2>&1; then
      ok=1
      break
    fi
    sleep 0.1
  done
  if [[ $ok -ne 1 ]]; then
    echo "samba.sh: smbd did not accept connections within 10 s" >&2
    cat "$dir/log/smbd.out" "$dir/log/probe.out" "$dir"/log/log.* 2>/dev/null | tail -n 30 >&2
    false
  fi
  cat > "$dir/env" <<ENV
NETNS=$netns
HOST=127.0.0.1
PORT=$port
USER=$test_user
PASSWORD='$password'
DOMAIN=$test_domain
SHARE=plain
SECRET_SHARE=secret
DENIED_SHARE=denied
SHARE_PATH=$dir/share
SECRET_PATH=$dir/secret
SMBD_PID=$pid
CONF=$dir/smb.conf
ENV
  trap - ERR
  echo "samba.sh: smbd $pid in netns $netns on 127.0.0.1:$port, shares plain ($dir/share), secret ($dir/secret) and denied"
}

case ${1:-} in
  start) [[ $# -eq 2 ]] || die "usage: samba.sh start DIR"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: samba.sh stop DIR"; stop "$2" ;;
  check)
    why=$(missing_prerequisite)
    if [[ -n $why ]]; then echo "samba.sh: $why" >&2; exit 77; fi ;;
  *) die "usage: samba.sh start DIR | stop DIR | check" ;;
esac
