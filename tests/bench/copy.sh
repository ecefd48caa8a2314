#!/usr/bin/env bash
# Copy benchmark (issue 8, item 6): a 1 GiB copy within one share, by every
# way smbx has and by the peers, in the same run:
#
#   smbxd (tmpfs share)                     Samba (harness smbd, tmpfs share)
#   cp on mount.smbx (copy_file_range)      cp on mount.smbx (copy_file_range)
#   dd through mount.smbx (a plain stream)  cp on an smbnetfs mount
#   cp-offload --method stream              cp-offload --method auto (copy chunks)
#   cp-offload --method copychunk           smbclient get + put
#   cp-offload --method odx
#
# For each: seconds, MiB/s, and the bytes that crossed between client and
# server, counted on the loopback interface of the private network namespace
# that holds both (every byte either way is sent on lo once). Each copy is
# checked (sha256) after it is timed. A benchmark, not a test: it prints a table.
#
#   tests/bench/copy.sh BUILD_DIR     (use an optimised build: cmake --preset release)
#   env: SIZE_MIB (default 1024), RUNS (default 1; the median is shown),
#        SMBX_BENCH_KEEP=1 keeps the scratch directory
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"
# shellcheck source=../lib/listening.sh
source "$here/../lib/listening.sh"
now_ms() { date +%s%3N; }
log() { echo "[$(date +%T)] $*" >&2; }

# ---------------------------------------------------------------------------
# Inside the harness' network namespace: smbxd beside smbd, the clients, the copies.
if [[ ${1:-} == --inside ]]; then
  work=$2
  # shellcheck disable=SC1091
  source "$work/samba/env"
  size_mib=${SIZE_MIB:-1024} runs=${RUNS:-1}
  results=$work/results
  smbxd_pid="" daemon_pid=""
  SMBXD_PORT=4450 SMBXD_USER=bench SMBXD_SHARE=data SMBXD_PATH=$work/smbxd-share
  SMBXD_PASSWORD="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  inside_cleanup() {
    umount_peer
    if [[ -n $smbxd_pid ]]; then kill -TERM "$smbxd_pid" 2>/dev/null; wait "$smbxd_pid" 2>/dev/null; fi
  }
  trap inside_cleanup EXIT
  trap 'exit 130' INT TERM
  # shellcheck source=tests/bench/peers.sh
  source "$here/peers.sh"

  "$SMBXD" --listen "127.0.0.1:$SMBXD_PORT" --share "$SMBXD_SHARE=$SMBXD_PATH" --user "$SMBXD_USER:$SMBXD_PASSWORD" \
    --state-dir "$work/smbxd-state" --log warn >>"$work/smbxd.log" 2>&1 &
  smbxd_pid=$!
  wait_listening "$smbxd_pid" "$SMBXD_PORT" || { cat "$work/smbxd.log" >&2; exit 1; }

  # The same 1 GiB of random bytes on both shares, written on the server side.
  head -c "$((size_mib << 20))" /dev/urandom >"$SHARE_PATH/src.bin"
  cp "$SHARE_PATH/src.bin" "$SMBXD_PATH/src.bin"
  chown "$USER" "$SHARE_PATH/src.bin"
  want=$(sha256sum <"$SHARE_PATH/src.bin" | cut -d' ' -f1)

  lo_bytes() { cat /sys/class/net/lo/statistics/tx_bytes; }
  # measure NAME DEST_FILE COMMAND...: times COMMAND, counts lo bytes, checks DEST_FILE.
  measure() {
    local name=$1 dest=$2 t0 t1 b0 b1 sum
    shift 2
    rm -f "$dest"
    sync
    b0=$(lo_bytes) t0=$(now_ms)
    if ! "$@" >"$work/cmd.out" 2>&1; then
      echo "failed: $(tail -n 2 "$work/cmd.out" | tr '\n' ' ' | head -c 160)" >"$results/$name.na"
      return 1
    fi
    t1=$(now_ms) b1=$(lo_bytes)
    sum=$(sha256sum <"$dest" | cut -d' ' -f1)
    if [[ $sum != "$want" ]]; then
      echo "copy differs from the source (sha256)" >"$results/$name.na"
      return 1
    fi
    echo "$((t1 - t0)) $((b1 - b0))" >>"$results/$name"
    log "$name: $((t1 - t0)) ms, $(((b1 - b0) >> 10)) KiB on the wire"
  }

  # cp-offload needs the password of each server; SMBX_PASSWORD is how smbx tools take it.
  cpo_smbxd() {
    SMBX_PASSWORD=$SMBXD_PASSWORD "$CP_OFFLOAD" --method "$1" \
      "smb://$SMBXD_USER@127.0.0.1:$SMBXD_PORT/$SMBXD_SHARE/src.bin" \
      "smb://$SMBXD_USER@127.0.0.1:$SMBXD_PORT/$SMBXD_SHARE/dst.bin"
  }
  cpo_samba() {
    SMBX_PASSWORD=$PASSWORD "$CP_OFFLOAD" --method "$1" \
      "smb://$DOMAIN;$USER@$HOST/$SHARE/src.bin" "smb://$DOMAIN;$USER@$HOST/$SHARE/dst.bin"
  }
  smbclient_copy() {
    smbclient "//$HOST/$SHARE" -U "$DOMAIN\\$USER%$PASSWORD" -m SMB3_11 \
      -c "get src.bin $work/local.bin; put $work/local.bin dst.bin" && rm -f "$work/local.bin"
  }

  mnt=$work/mnt
  mkdir -p "$mnt"
  for ((run = 0; run < runs; run++)); do
    # smbxd
    for m in stream copychunk odx; do
      measure "smbxd.cp-offload-$m" "$SMBXD_PATH/dst.bin" cpo_smbxd "$m"
    done
    if HOST=127.0.0.1 USER=$SMBXD_USER PASSWORD=$SMBXD_PASSWORD DOMAIN=WORKGROUP SHARE=$SMBXD_SHARE \
       MOUNT_SMBX_OPTIONS="port=$SMBXD_PORT" mount_peer mount.smbx >"$work/mount.err"; then
      measure smbxd.mount-cp "$SMBXD_PATH/dst.bin" cp "$mnt/src.bin" "$mnt/dst.bin"
      measure smbxd.mount-dd "$SMBXD_PATH/dst.bin" dd if="$mnt/src.bin" of="$mnt/dst.bin" bs=1M conv=fsync status=none
    else
      cat "$work/mount.err" >"$results/smbxd.mount-cp.na"
      cp "$results/smbxd.mount-cp.na" "$results/smbxd.mount-dd.na"
    fi
    umount_peer
    # Samba
    measure samba.cp-offload-auto "$SHARE_PATH/dst.bin" cpo_samba auto
    measure samba.smbclient "$SHARE_PATH/dst.bin" smbclient_copy
    for peer in mount.smbx smbnetfs; do
      if mount_peer "$peer" >"$work/mount.err"; then
        measure "samba.$peer-cp" "$SHARE_PATH/dst.bin" cp "$dir/../src.bin" "$dir/../dst.bin"
      else
        cat "$work/mount.err" >"$results/samba.$peer-cp.na"
      fi
      umount_peer
      rm -rf "${SHARE_PATH:?}/bench"
    done
  done
  exit 0
fi

# ---------------------------------------------------------------------------
# Outside: the harness, the table.
build=${1:?usage: tests/bench/copy.sh BUILD_DIR}
build=$(cd "$build" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "copy.sh: needs root" >&2; exit 77; }
export MOUNT_SMBX=$build/tools/mount.smbx SMBXD=$build/tools/smbxd CP_OFFLOAD=$build/tools/cp-offload
for tool in "$MOUNT_SMBX" "$SMBXD" "$CP_OFFLOAD"; do
  [[ -x $tool ]] || { echo "copy.sh: $tool is not built" >&2; exit 2; }
done
why=$("$harness" check 2>&1) || { echo "copy.sh: $why" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-bench-copy.XXXXXX")
chmod 755 "$work"
cleanup() {
  mountpoint -q "$work/smbxd-share" 2>/dev/null && umount "$work/smbxd-share"
  "$harness" stop "$work/samba" >/dev/null 2>&1 || true
  if [[ -n ${SMBX_BENCH_KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/results" "$work/smbxd-share" "$work/smbxd-state"
size_mib=${SIZE_MIB:-1024}
# Room for the source, one copy and smbclient's local file.
mount -t tmpfs -o "size=$((size_mib * 3 + 256))m,mode=0777" smbx-bench-copy "$work/smbxd-share"
SMB_TMPFS_SIZE="$((size_mib * 3 + 256))m" "$harness" start "$work/samba" >/dev/null 2>"$work/harness.err" ||
  { echo "copy.sh: Samba did not start: $(cat "$work/harness.err")" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/samba/env"
log "copy.sh: ${size_mib} MiB copies within one share, ${RUNS:-1} run(s)"
ip netns exec "$NETNS" bash "$0" --inside "$work"

python3 - "$work/results" "$size_mib" <<'PY'
import os, statistics, sys
results, size_mib = sys.argv[1], int(sys.argv[2])
rows = [("smbxd", "cp on mount.smbx (copy_file_range)", "smbxd.mount-cp"),
        ("smbxd", "dd bs=1M through mount.smbx (stream)", "smbxd.mount-dd"),
        ("smbxd", "cp-offload --method stream", "smbxd.cp-offload-stream"),
        ("smbxd", "cp-offload --method copychunk", "smbxd.cp-offload-copychunk"),
        ("smbxd", "cp-offload --method odx", "smbxd.cp-offload-odx"),
        ("Samba", "cp on mount.smbx (copy_file_range)", "samba.mount.smbx-cp"),
        ("Samba", "cp-offload --method auto", "samba.cp-offload-auto"),
        ("Samba", "cp on smbnetfs", "samba.smbnetfs-cp"),
        ("Samba", "smbclient get + put", "samba.smbclient")]
table = [("server", "copy", "seconds", "MiB/s", "MiB on the wire")]
notes = []
for server, what, key in rows:
    path = os.path.join(results, key)
    if os.path.exists(path):
        samples = [tuple(map(int, l.split())) for l in open(path) if l.strip()]
        ms = statistics.median(s[0] for s in samples)
        wire = statistics.median(s[1] for s in samples)
        table.append((server, what, f"{ms / 1000:.2f}", f"{size_mib * 1000 / ms:.0f}", f"{wire / 2**20:.1f}"))
    else:
        na = os.path.join(results, key + ".na")
        notes.append(open(na).read().strip() if os.path.exists(na) else "not measured")
        table.append((server, what, f"n/a [{len(notes)}]", "-", "-"))
widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
for i, r in enumerate(table):
    print("  ".join(c.ljust(widths[j]) for j, c in enumerate(r)).rstrip())
    if i == 0:
        print("  ".join("-" * w for w in widths))
for i, n in enumerate(notes):
    print(f"[{i + 1}] {n}")
print(f"{size_mib} MiB file; wire = bytes sent on the namespace's loopback (both directions), median.")
PY
