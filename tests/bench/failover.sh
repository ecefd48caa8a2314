#!/usr/bin/env bash
# Failover benchmark (issue 7), not a ctest:
#
#   tests/bench/failover.sh BUILD_DIR
#
# A steady writer (tests/failover/writer.py: 256 KiB pwrites, fsync every
# MiB, RATE_MIB MiB/s) runs on a mount while the server is hit COUNT times by
# each kind of fault, INTERVAL_S seconds apart:
#
#   kind     smbxd (CA share, state dir)          Samba (harness smbd)
#   drop     smbxctl ... fault drop-connections   ss -K of smbd's port-445 sockets
#   kill     kill -9 smbxd, start it again        kill -9 of the smbd child serving the mount
#   freeze   smbxctl ... fault freeze 2           SIGSTOP of that child for 2 s, SIGCONT
#
# Clients: mount.smbx on smbxd; mount.smbx, smbnetfs and `rclone mount` (smb
# backend) on the Samba harness (PEERS picks; one that cannot run shows n/a).
# Per client and kind it prints the application-visible stall of each fault
# (the longest pause between two successful writes after it: median, p95,
# max), the bytes the application wrote that the share lacks at the end, the
# errors the application saw, and the mount daemon's peak RSS during the
# kind's run.
#
# Environment: COUNT (default 20) faults per kind, KINDS (default "drop kill
# freeze"), PEERS (default "mount.smbx@smbxd mount.smbx@samba smbnetfs@samba
# rclone@samba"), RATE_MIB (default 16), INTERVAL_S (default 3),
# SMBX_BENCH_KEEP=1 keeps the scratch directory. A short run:
# COUNT=2 INTERVAL_S=2 tests/bench/failover.sh build/release
# Needs root (netns, tmpfs, FUSE), python3, iproute2 (ss -K needs
# CONFIG_INET_DIAG_DESTROY), Samba for the @samba rows.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"
# shellcheck source=../lib/listening.sh
source "$here/../lib/listening.sh"
writer="$here/../failover/writer.py"

now_ms() { date +%s%3N; }
log() { echo "[$(date +%T)] $*" >&2; }

# ---------------------------------------------------------------------------
# Inside a namespace: one server, the clients that use it.
if [[ ${1:-} == --inside ]]; then
  work=$2 server=$3
  shift 3
  peers=("$@")
  count=${COUNT:-20} interval=${INTERVAL_S:-3} rate=${RATE_MIB:-16}
  results=$work/results
  mnt=$work/mnt-$server
  mkdir -p "$mnt" "$results"
  daemon_pid=""
  smbxd_pid=""
  writer_pid=""
  inside_cleanup() {
    [[ -z $writer_pid ]] || kill -KILL "$writer_pid" 2>/dev/null
    kill -CONT $(served_pids) 2>/dev/null
    umount_peer
    if [[ -n $smbxd_pid ]]; then kill -TERM "$smbxd_pid" 2>/dev/null; wait "$smbxd_pid" 2>/dev/null; fi
  }
  trap inside_cleanup EXIT
  trap 'exit 130' INT TERM

  if [[ $server == smbxd ]]; then
    HOST=127.0.0.1 PORT=445 USER=bench DOMAIN=SMBXTEST SHARE=data SHARE_PATH=$work/smbxd-share
    PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    sock=$work/smbxd.sock
    start_smbxd() {
      "$SMBXD" --listen 127.0.0.1:445 --share "data=$SHARE_PATH,ca" --state-dir "$work/smbxd-state" --control "$sock" \
        --user "$USER:$PASSWORD" --log warn >>"$work/smbxd.log" 2>&1 &
      smbxd_pid=$!
      local t0
      t0=$(now_ms)
      if wait_listening "$smbxd_pid" 445 400 0.01; then
        echo "$(($(now_ms) - t0))" >>"$results/smbxd.restart_ms"
        return 0
      fi
      log "smbxd did not start"; return 1
    }
    start_smbxd || exit 1
    rm -f "$results/smbxd.restart_ms"
  else
    # shellcheck disable=SC1091
    source "$work/samba/env"
  fi

  # The smbd children serving a connection (Samba only).
  served_pids() {
    [[ $server == samba ]] || return 0
    ss -tnpH state established '( sport = :445 )' 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
  }

  MOUNT_SMBX_OPTIONS=hard MOUNT_SMBX_LOG=$work/mount.smbx-$server.log
  # shellcheck source=tests/bench/peers.sh
  source "$here/peers.sh"

  inject() {  # inject KIND
    case $server:$1 in
      smbxd:drop) "$SMBXCTL" server "$sock" fault drop-connections >/dev/null ;;
      smbxd:kill) kill -KILL "$smbxd_pid"; wait "$smbxd_pid" 2>/dev/null; start_smbxd ;;
      smbxd:freeze) "$SMBXCTL" server "$sock" fault freeze 2 >/dev/null ;;
      # ss -K prints a header and each socket it closed: false when it closed none.
      samba:drop) [[ $(ss -K state established '( sport = :445 )' 2>/dev/null | wc -l) -gt 1 ]] ;;
      samba:kill)
        local pids
        pids=$(served_pids)
        [[ -n $pids ]] || return 1
        kill -KILL $pids 2>/dev/null
        ;;
      samba:freeze)
        local pids
        pids=$(served_pids)
        [[ -n $pids ]] || return 1
        kill -STOP $pids 2>/dev/null
        sleep 2
        kill -CONT $pids 2>/dev/null
        ;;
    esac
  }

  # run_kind CLIENT KIND: COUNT faults under the writer; writes results/CLIENT@SERVER.KIND.
  run_kind() {
    local peer=$1 kind=$2 out=$results/$1@$server.$2
    local file=$dir/$kind.bin copy=$work/copy-$peer-$server-$kind gaps=$work/gaps-$peer-$server-$kind
    rm -f "$work/stop" "$gaps"
    echo 5 >"/proc/$daemon_pid/clear_refs" 2>/dev/null  # resets VmHWM: this kind's peak
    python3 "$WRITER" write "$file" --copy "$copy" --chunk 262144 --fsync-every 4 --rate-mbps "$rate" \
      --stop-file "$work/stop" --gaps "$gaps" --gap-ms 20 >"$work/writer.out" 2>&1 &
    writer_pid=$!
    sleep 2
    local i times=() missed=0 t
    for ((i = 0; i < count; i++)); do
      kill -0 "$writer_pid" 2>/dev/null || break
      t=$(now_ms)
      # A fault that hit nothing (no connection at that moment) is not counted.
      if inject "$kind"; then times+=("$t"); else missed=$((missed + 1)); fi
      sleep "$interval"
    done
    local end
    end=$(now_ms)
    touch "$work/stop"
    # A writer stuck on a dead mount is an error too: bounded wait.
    for ((i = 0; i < 600; i++)); do kill -0 "$writer_pid" 2>/dev/null || break; sleep 0.1; done
    local hung=0
    if kill -0 "$writer_pid" 2>/dev/null; then hung=1; kill -KILL "$writer_pid"; fi
    wait "$writer_pid" 2>/dev/null
    writer_pid=""
    local rss
    rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null)
    local server_file=$SHARE_PATH/bench/$kind.bin lost
    lost=$(python3 "$WRITER" verify "$server_file" "$copy" 2>/dev/null | awk '{ print $2 }')
    local errors
    errors=$(awk '{ print $6 }' "$work/writer.out" 2>/dev/null)
    {
      echo "faults ${#times[@]}"
      local kinds_seen
      kinds_seen=$(awk '$1 == "error" { print $4 }' "$gaps" 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = " " }')
      echo "errors ${errors:-?}${kinds_seen:+ ($kinds_seen)}$([[ $hung -eq 0 ]] || echo ' (writer hung)')"
      echo "missed $missed"
      echo "lost ${lost:-?}"
      echo "rss_kb ${rss:-?}"
      echo "bytes $(awk '{ print $2 }' "$work/writer.out" 2>/dev/null)"
      local k to
      for ((k = 0; k < ${#times[@]}; k++)); do
        to=$end
        [[ $((k + 1)) -lt ${#times[@]} ]] && to=${times[$((k + 1))]}
        awk -v from="${times[$k]}" -v to="$to" \
          '$1 == "gap" && $2 >= from && $2 < to && $3 > max { max = $3 } END { print "stall " max + 0 }' "$gaps"
      done
    } >"$out"
    rm -f "$copy"
    rm -f "$SHARE_PATH/bench/$kind.bin" 2>/dev/null
  }

  for peer in "${peers[@]}"; do
    if ! mount_peer "$peer" >"$work/why"; then
      cp "$work/why" "$results/$peer@$server.na"
      log "$peer@$server: n/a ($(cat "$work/why"))"
      umount_peer
      continue
    fi
    for kind in ${KINDS:-drop kill freeze}; do
      log "$peer@$server: $count x $kind"
      run_kind "$peer" "$kind"
      if ! mountpoint -q "$mnt"; then echo "the mount died during $kind" >"$results/$peer@$server.$kind.na"; break; fi
    done
    umount_peer
  done
  exit 0
fi

# ---------------------------------------------------------------------------
# Outside: the servers, the table.
build=${1:?usage: tests/bench/failover.sh BUILD_DIR}
build=$(cd "$build" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "failover.sh: needs root" >&2; exit 77; }
export MOUNT_SMBX=$build/tools/mount.smbx SMBXD=$build/tools/smbxd SMBXCTL=$build/tools/smbxctl WRITER=$writer
peer_list=${PEERS:-mount.smbx@smbxd mount.smbx@samba smbnetfs@samba rclone@samba}

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-bench-failover.XXXXXX")
chmod 755 "$work"
ns=""
cleanup() {
  if [[ -n $ns ]]; then
    local p
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  fi
  mountpoint -q "$work/smbxd-share" 2>/dev/null && umount "$work/smbxd-share"
  "$harness" stop "$work/samba" >/dev/null 2>&1 || true
  if [[ -n ${SMBX_BENCH_KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/results"
log "failover.sh: ${COUNT:-20} faults of each kind (${KINDS:-drop kill freeze}), ${INTERVAL_S:-3} s apart, writer at ${RATE_MIB:-16} MiB/s"

smbxd_clients=() samba_clients=()
for p in $peer_list; do
  case $p in
    *@smbxd) smbxd_clients+=("${p%@smbxd}") ;;
    *@samba) samba_clients+=("${p%@samba}") ;;
    *) echo "failover.sh: PEERS entries are CLIENT@smbxd or CLIENT@samba, not $p" >&2; exit 2 ;;
  esac
done

if [[ ${#smbxd_clients[@]} -gt 0 ]]; then
  if [[ -x $SMBXD && -x $SMBXCTL ]]; then
    ns="smbx-bf-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
    ip netns add "$ns" && ip -n "$ns" link set lo up
    mkdir -p "$work/smbxd-share/bench" "$work/smbxd-state"
    mount -t tmpfs -o size=4g,mode=0777 smbx-bench-failover "$work/smbxd-share" && mkdir -p "$work/smbxd-share/bench"
    ip netns exec "$ns" bash "$0" --inside "$work" smbxd "${smbxd_clients[@]}"
  else
    for c in "${smbxd_clients[@]}"; do echo "smbxd or smbxctl is not built in $build" >"$work/results/$c@smbxd.na"; done
  fi
fi
if [[ ${#samba_clients[@]} -gt 0 ]]; then
  if why=$("$harness" check 2>&1) &&
     SMB_SIGNING=auto "$harness" start "$work/samba" >/dev/null 2>"$work/harness.err"; then
    # shellcheck disable=SC1091
    source "$work/samba/env"
    mkdir -p "$SHARE_PATH/bench"
    chmod 777 "$SHARE_PATH/bench"
    ip netns exec "$NETNS" bash "$0" --inside "$work" samba "${samba_clients[@]}"
  else
    for c in "${samba_clients[@]}"; do echo "the Samba harness cannot run: ${why:-$(head -c 200 "$work/harness.err")}" >"$work/results/$c@samba.na"; done
  fi
fi

python3 - "$work/results" "$peer_list" "${KINDS:-drop kill freeze}" <<'PY'
import os, statistics, sys
results, peers, kinds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
notes = []

def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]

print(f"{'client@server':<20} {'fault':<7} {'n':>3} {'stall median':>13} {'p95':>7} {'max':>7} "
      f"{'bytes lost':>11} {'errors':>7} {'peak RSS':>9}")
for peer in peers:
    na = os.path.join(results, peer + ".na")
    if os.path.exists(na):
        notes.append(f"{peer}: n/a: {open(na).read().strip()}")
        print(f"{peer:<20} {'all':<7} n/a [{len(notes)}]")
        continue
    for kind in kinds:
        path = os.path.join(results, f"{peer}.{kind}")
        if os.path.exists(path + ".na"):
            notes.append(f"{peer} {kind}: {open(path + '.na').read().strip()}")
        if not os.path.exists(path):
            print(f"{peer:<20} {kind:<7} n/a")
            continue
        d, stalls = {}, []
        for line in open(path):
            k, _, v = line.strip().partition(" ")
            if k == "stall":
                stalls.append(int(v))
            else:
                d[k] = v
        if not stalls:
            print(f"{peer:<20} {kind:<7} {d.get('faults', '0'):>3} (no fault injected)")
            continue
        errors = d.get("errors", "?")
        if " " in errors:
            count_, _, detail = errors.partition(" ")
            notes.append(f"{peer} {kind}: errors {detail}")
            errors = f"{count_} [{len(notes)}]"
        if d.get("missed", "0") != "0":
            notes.append(f"{peer} {kind}: {d['missed']} fault(s) found no connection to hit and are not counted")
        rss = d.get("rss_kb", "?")
        rss = f"{int(rss) // 1024} MiB" if rss.isdigit() else "?"
        print(f"{peer:<20} {kind:<7} {len(stalls):>3} {statistics.median(stalls):>10.0f} ms {pct(stalls, 95):>4} ms "
              f"{max(stalls):>4} ms {d.get('lost', '?'):>11} {errors:>7} {rss:>9}")
restart = os.path.join(results, "smbxd.restart_ms")
if os.path.exists(restart):
    r = [int(x) for x in open(restart).read().split()]
    if r:
        print(f"\nsmbxd restart (exec to accepting connections): median {statistics.median(r):.0f} ms, max {max(r)} ms "
              f"over {len(r)} restarts")
print("\nstall: the longest pause between two successful 256 KiB writes after each fault (pauses under 20 ms not"
      " counted); bytes lost: written and acknowledged to the application but not on the share at the end;"
      " errors: write/fsync errors the application saw.")
for i, n in enumerate(notes, 1):
    print(f"[{i}] {n}")
PY
