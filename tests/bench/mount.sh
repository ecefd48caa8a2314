#!/usr/bin/env bash
# Mount benchmark (issue 6, item 3): mount.smbx against the other FUSE SMB
# clients on Debian, smbnetfs and `rclone mount` (smb backend,
# --vfs-cache-mode off), all against the same harness Samba (tmpfs share,
# private netns), with smbclient get/put of the same 1 GiB file for
# reference. Medians of RUNS runs, a table with ratios, and each FUSE
# daemon's peak RSS. A benchmark, not a test: it prints a table.
#
#   tests/bench/mount.sh BUILD_DIR        (uses BUILD_DIR/tools/mount.smbx)
#   env: RUNS (default 3), SIZE_MIB (sequential file, default 1024),
#        RAND_SECONDS (4k random runtime, default 20), RAND_FILE_MIB (default 256),
#        PEERS (default "mount.smbx smbnetfs rclone"), WORKLOADS (default
#        "seq dd rand randbuf create untar rss"; a subset runs only those rows),
#        SMBCLIENT_REF (default 1; 0 skips smbclient's get/put), FUSE_FLOOR
#        (default 1; 0 skips the FUSE floor), SMBX_BENCH_KEEP=1 keeps the
#        scratch directory (logs of every peer)
#
# The FUSE floor column runs the sequential fio and dd rows through
# BUILD_DIR/tests/bench/fuse_null, a FUSE filesystem that keeps no data: what
# the kernel's FUSE path costs on this machine before any SMB work (for a
# daemon with one thread and no splice, as mount.smbx).
#
# Workloads: fio sequential write and read (bs=1M, end_fsync=1 on write),
# fio 4k randread and randwrite at queue depth 8 (libaio, iodepth=8,
# direct=1, time based), the same buffered (direct=0: libaio then completes
# each I/O inside io_submit, so the depth is 1 whatever iodepth says),
# creating 2000 small files, untar of a source tree (Boost headers, or a
# generated tree without them). Memory counts each daemon's whole process
# tree: smbnetfs forks a child per server connection, and that child does
# the SMB work (its parent alone is a third of the total). Peak RSS is the
# largest sum of VmRSS over the tree, sampled every 0.2 s while the peer is
# mounted; the row below it sums each process' VmHWM (an upper bound, as
# the processes need not peak at once). After the runs, the tree's RSS
# once 10000 files (made on the share directly) have been stat'ed
# through the mount, so the kernel keeps 10000 inodes cached, and then while
# one process holds 1000 of them open. Use an optimised build (cmake --preset
# release): a sanitizer build measures the sanitizer. A peer that cannot run
# (not installed, fails to mount, an operation it does not support) shows as
# "n/a [N]" with the reason under the table. Needs root (netns, tmpfs), Samba,
# fio, python3, /usr/bin/time.
#
# The server signs (server signing = mandatory, as in the harness) so every
# client signs. rclone 1.60's smb backend (go-smb2) then fails writes
# ("invalid response error: signing required"); SMB_SIGNING=auto makes it
# write, but then smbnetfs and rclone run unsigned while mount.smbx signs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness="$here/../harness/samba.sh"

# ---------------------------------------------------------------------------
# Inside the harness' network namespace (own mount namespace): the measurements.
if [[ ${1:-} == --inside ]]; then
  work=$2
  # shellcheck disable=SC1091
  source "$work/samba/env"
  runs=${RUNS:-3} size_mib=${SIZE_MIB:-1024} rand_seconds=${RAND_SECONDS:-20} rand_mib=${RAND_FILE_MIB:-256}
  mnt=$work/mnt
  mkdir -p "$mnt" "$work/results"
  daemon_pid=""

  now_ms() { date +%s%3N; }
  log() { echo "[$(date +%T)] $*" >&2; }
  # record PEER WORKLOAD VALUE | record_na PEER WORKLOAD REASON
  record() { echo "$3" >> "$work/results/$1.$2"; }
  # The daemon's own last error explains a failure better than the program's errno.
  record_na() {
    [[ -e $work/results/$1.$2.na ]] && return
    local why=$3 daemon_error=""
    if [[ $1 == rclone && -s $work/rclone.log ]]; then
      daemon_error=$(grep ' ERROR : ' "$work/rclone.log" | grep -v 'closed pipe' | tail -n 1 | sed 's/.* ERROR : //')
      : > "$work/rclone.log"
    fi
    echo "$why${daemon_error:+; rclone log: $daemon_error}" > "$work/results/$1.$2.na"
  }

  # shellcheck source=tests/bench/peers.sh
  source "$here/peers.sh"
  # An interrupted run leaves no daemon or mount behind.
  trap umount_peer EXIT
  trap 'exit 130' INT TERM
  umount_and_clean() {
    umount_peer
    rm -rf "${SHARE_PATH:?}/bench"
  }

  # fio_job PEER WORKLOAD FIO-ARGS...: runs fio in $dir, records its result:
  # MiB/s (from the wall time, so end_fsync counts) for seq-*, IOPS for rand-*.
  fio_job() {
    local peer=$1 workload=$2 t0 t1
    shift 2
    t0=$(now_ms)
    if ! timeout $((rand_seconds + 600)) fio --name="$workload" --directory="$dir" --output-format=terse --terse-version=3 \
         "$@" >"$work/fio.out" 2>&1; then
      record_na "$peer" "$workload" "fio failed: $(grep -m1 -iE 'error|err=' "$work/fio.out" | head -c 120)"
      return 1
    fi
    t1=$(now_ms)
    local line
    line=$(grep -m1 '^3;' "$work/fio.out")
    case $workload in
      seq-write) record "$peer" "$workload" "$(awk -v m="$size_mib" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", m * 1000 / ms }')" ;;
      seq-read) record "$peer" "$workload" "$(awk -v m="$size_mib" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", m * 1000 / ms }')" ;;
      rand-read*) record "$peer" "$workload" "$(echo "$line" | cut -d';' -f8)" ;;
      rand-write*) record "$peer" "$workload" "$(echo "$line" | cut -d';' -f49)" ;;
    esac
  }

  # timed PEER WORKLOAD COMMAND...: records the wall time in seconds.
  timed() {
    local peer=$1 workload=$2 t0 t1
    shift 2
    t0=$(now_ms)
    if ! "$@" >"$work/cmd.out" 2>&1; then
      record_na "$peer" "$workload" "failed: $(head -n 2 "$work/cmd.out" | tr '\n' ' ' | head -c 120)"
      return 1
    fi
    t1=$(now_ms)
    record "$peer" "$workload" "$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", ms / 1000 }')"
  }

  # timed_rate PEER WORKLOAD MIB COMMAND...: records MiB/s from the wall time.
  timed_rate() {
    local peer=$1 workload=$2 mib=$3 t0 t1
    shift 3
    t0=$(now_ms)
    if ! "$@" >"$work/cmd.out" 2>&1; then
      record_na "$peer" "$workload" "failed: $(head -n 2 "$work/cmd.out" | tr '\n' ' ' | head -c 120)"
      return 1
    fi
    t1=$(now_ms)
    record "$peer" "$workload" "$(awk -v m="$mib" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", m * 1000 / ms }')"
  }

  # dd opens write-only with O_TRUNC, which every peer supports (fio opens O_RDWR).
  dd_write() { dd if="$work/local/src.bin" of="$dir/dd.bin" bs=1M conv=fsync status=none; }
  dd_read() {
    dd if="$dir/dd.bin" iflag=nocache count=0 status=none  # drop the page cache of the file
    dd if="$dir/dd.bin" of=/dev/null bs=1M status=none
  }

  create_files() {
    local d=$1 i
    mkdir "$d" || return 1
    for ((i = 0; i < 2000; i++)); do
      printf 'file %d\n' "$i" > "$d/f$i" || return 1
    done
  }

  untar() {
    mkdir "$1" && tar -C "$1" -xf "$work/source.tar"
  }

  # The 10000 files of memory(), made on the share directly before the peer
  # mounts (rclone does not see what appears behind its back in a directory
  # it listed), and not looked at until memory().
  make_inodes() {
    local i
    mkdir -p "$SHARE_PATH/bench/inodes"
    for ((i = 0; i < 10; i++)); do
      mkdir "$SHARE_PATH/bench/inodes/d$i" && (cd "$SHARE_PATH/bench/inodes/d$i" && seq -f 'f%g' 0 999 | xargs touch)
    done
    chown -R "$USER" "$SHARE_PATH/bench"
  }

  # tree_memory PID FIELD: FIELD (VmRSS or VmHWM, KiB) summed over PID and
  # its descendants.
  tree_memory() { python3 "$work/tree_memory.py" "$1" "$2"; }
  cat >"$work/tree_memory.py" <<'PY'
import os, sys, time
def tree(root):
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
def total(root, field):
    kib = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        kib += int(line.split()[1])
        except OSError:
            pass
    return kib
root, field = int(sys.argv[1]), sys.argv[2]
if len(sys.argv) == 3:
    print(total(root, field))
    sys.exit(0)
# Sampling: the largest total until the root is gone or STOP exists, at
# most LIMIT seconds; written to OUT after every new maximum.
out, stop, limit = sys.argv[3], sys.argv[4], float(sys.argv[5])
peak, end = 0, time.monotonic() + limit
while time.monotonic() < end and os.path.exists(f"/proc/{root}") and not os.path.exists(stop):
    kib = total(root, field)
    if kib > peak:
        peak = kib
        with open(out, "w") as f:
            print(peak, file=f)
    time.sleep(0.2)
PY

  # memory PEER: RSS of the daemon's tree with 10000 cached inodes, then with
  # 1000 open files (KiB, recorded as rss-inodes and rss-open).
  memory() {
    local peer=$1
    if ! timeout 600 python3 - "$dir/inodes" "$daemon_pid" "$work/results/$peer" "$work/tree_memory.py" \
         >"$work/memory.out" 2>&1 <<'PY'
import os, resource, subprocess, sys, time
top, pid, out, tree_memory = sys.argv[1:5]
def rss():
    return int(subprocess.run([sys.executable, tree_memory, pid, "VmRSS"], check=True,
                              capture_output=True, text=True).stdout)
names = [f"{top}/d{d}/f{i}" for d in range(10) for i in range(1000)]
for n in names:
    os.stat(n)
time.sleep(2.5)
with open(out + ".rss-inodes", "a") as f:
    print(rss(), file=f)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
fds = [os.open(n, os.O_RDONLY) for n in names[:1000]]
time.sleep(2.5)
with open(out + ".rss-open", "a") as f:
    print(rss(), file=f)
for fd in fds:
    os.close(fd)
PY
    then
      record_na "$peer" rss-inodes "failed: $(tail -n 1 "$work/memory.out" | head -c 120)"
      record_na "$peer" rss-open "failed (see the row above)"
    fi
    rm -rf "$SHARE_PATH/bench/inodes"
  }

  wants() { [[ " ${WORKLOADS:-seq dd rand randbuf create untar rss} " == *" $1 "* ]]; }

  # sequential_rows PEER: one run of the fio and dd sequential rows in $dir
  # (the peers' and the FUSE floor's: the same commands for both).
  sequential_rows() {
    local peer=$1
    if wants seq; then
      rm -f "$dir/seq.bin"
      fio_job "$peer" seq-write --rw=write --bs=1M --size="${size_mib}M" --end_fsync=1 --ioengine=psync --filename=seq.bin
      fio_job "$peer" seq-read --rw=read --bs=1M --size="${size_mib}M" --ioengine=psync --filename=seq.bin --invalidate=1
      rm -f "$dir/seq.bin"
    fi
    if wants dd; then
      timed_rate "$peer" dd-write "$size_mib" dd_write
      timed_rate "$peer" dd-read "$size_mib" dd_read
      rm -f "$dir/dd.bin"
    fi
  }

  bench_peer() {
    local peer=$1 why run
    log "$peer: mounting"
    wants rss && make_inodes
    if ! mount_peer "$peer" >"$work/why"; then
      why=$(cat "$work/why")
      umount_and_clean
      echo "$why" > "$work/results/$peer.mount.na"
      log "$peer: n/a ($why)"
      return
    fi
    local sampler=""
    rm -f "$work/sampler.stop"
    if [[ -n $daemon_pid ]]; then
      python3 "$work/tree_memory.py" "$daemon_pid" VmRSS "$work/results/$peer.rss" "$work/sampler.stop" 14400 &
      sampler=$!
    fi
    for ((run = 1; run <= runs; run++)); do
      log "$peer: run $run/$runs"
      sequential_rows "$peer"
      # The 4k random file is laid out once by a sequential write.
      if (wants rand || wants randbuf) && [[ ! -e $dir/rand.bin ]]; then
        dd if="$work/local/src.bin" of="$dir/rand.bin" bs=1M count="$rand_mib" conv=fsync status=none 2>"$work/dd.err" ||
          { record_na "$peer" rand-read "could not write the ${rand_mib} MiB file: $(tr '\n' ' ' < "$work/dd.err" | head -c 100)"
            for w in rand-write rand-read-buffered rand-write-buffered; do
              record_na "$peer" $w "could not write the ${rand_mib} MiB file (see rand-read)"
            done
            rm -f "$dir/rand.bin"; }
      fi
      # O_DIRECT: io_submit only queues the I/O, so 8 are in flight at once
      # (the kernel sends each as its own FUSE READ or WRITE). Buffered, the
      # same job waits for each I/O inside io_submit: a depth of 1.
      local common=(--filename=rand.bin --bs=4k --size="${rand_mib}M" --ioengine=libaio --iodepth=8
                    --time_based --runtime="$rand_seconds" --invalidate=1)
      wants rand && [[ -e $dir/rand.bin ]] && fio_job "$peer" rand-read --rw=randread --direct=1 "${common[@]}"
      wants rand && [[ -e $dir/rand.bin ]] && fio_job "$peer" rand-write --rw=randwrite --direct=1 "${common[@]}"
      wants randbuf && [[ -e $dir/rand.bin ]] && fio_job "$peer" rand-read-buffered --rw=randread --direct=0 "${common[@]}"
      wants randbuf && [[ -e $dir/rand.bin ]] && fio_job "$peer" rand-write-buffered --rw=randwrite --direct=0 "${common[@]}"
      wants create && timed "$peer" create-2000 create_files "$dir/create-$run"
      wants untar && timed "$peer" untar untar "$dir/untar-$run"
      rm -rf "$dir/create-$run" "$dir/untar-$run" 2>/dev/null
    done
    rm -f "$dir/rand.bin"
    # Once, after the runs: it is what the daemon keeps, not how fast it is.
    wants rss && [[ -n $daemon_pid ]] && memory "$peer"
    [[ -n $daemon_pid && -r /proc/$daemon_pid/status ]] &&
      tree_memory "$daemon_pid" VmHWM > "$work/results/$peer.hwm"
    if [[ -n $sampler ]]; then
      touch "$work/sampler.stop"
      wait "$sampler" 2>/dev/null
    fi
    umount_and_clean
  }

  smbclient_ref() {
    local run op workload cmd t0 t1 rss
    for ((run = 1; run <= runs; run++)); do
      log "smbclient: run $run/$runs"
      for op in put get; do
        if [[ $op == put ]]; then
          workload=seq-write cmd="put $work/local/src.bin ref.bin"
        else
          workload=seq-read cmd="get ref.bin $work/local/back.bin"
        fi
        t0=$(now_ms)
        if /usr/bin/time -f %M -o "$work/time.out" smbclient "//$HOST/$SHARE" -p "$PORT" -U "$DOMAIN\\$USER%$PASSWORD" \
             -m SMB3_11 -c "$cmd" </dev/null >"$work/smbclient.out" 2>&1; then
          t1=$(now_ms)
          record smbclient "$workload" "$(awk -v m="$size_mib" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", m * 1000 / ms }')"
          rss=$(tail -n 1 "$work/time.out")
          if [[ ! -s $work/results/smbclient.rss ]] || [[ $rss -gt $(cat "$work/results/smbclient.rss") ]]; then
            echo "$rss" > "$work/results/smbclient.rss"
          fi
        else
          record_na smbclient "$workload" "smbclient $op failed"
        fi
      done
      rm -f "$work/local/back.bin" "$SHARE_PATH/ref.bin"
    done
  }

  # The FUSE floor: fio and dd through fuse_null, which drops what is
  # written and reads zeros. What the kernel's FUSE path alone costs here.
  fuse_floor() {
    local run
    if [[ -z ${FUSE_NULL:-} || ! -x $FUSE_NULL ]]; then
      echo "${FUSE_NULL_MISSING:-fuse_null is not built}" > "$work/results/fuse-null.mount.na"
      return
    fi
    dir=$mnt
    "$FUSE_NULL" "$mnt" 2>"$work/fuse_null.err" &
    daemon_pid=$!
    for ((run = 0; run < 50; run++)); do mountpoint -q "$mnt" && break; sleep 0.1; done
    if ! mountpoint -q "$mnt"; then
      echo "fuse_null did not mount: $(head -c 120 "$work/fuse_null.err")" > "$work/results/fuse-null.mount.na"
      umount_peer
      return
    fi
    for ((run = 1; run <= runs; run++)); do
      log "FUSE floor: run $run/$runs"
      sequential_rows fuse-null
    done
    umount_peer
  }

  for peer in ${PEERS:-mount.smbx smbnetfs rclone}; do
    case $peer in
      mount.smbx)
        if [[ -z ${MOUNT_SMBX:-} || ! -x $MOUNT_SMBX ]]; then
          echo "${MOUNT_SMBX_MISSING:-mount.smbx is not built}" > "$work/results/$peer.mount.na"
          continue
        fi ;;
      smbnetfs) command -v smbnetfs >/dev/null || { echo "smbnetfs is not installed" > "$work/results/$peer.mount.na"; continue; } ;;
      rclone)
        command -v rclone >/dev/null || { echo "rclone is not installed" > "$work/results/$peer.mount.na"; continue; }
        [[ $(rclone help backends 2>/dev/null) =~ [[:space:]]smb[[:space:]] ]] ||
          { echo "this rclone has no smb backend" > "$work/results/$peer.mount.na"; continue; } ;;
    esac
    bench_peer "$peer"
  done
  [[ ${SMBCLIENT_REF:-1} == 1 ]] && wants seq && smbclient_ref
  [[ ${FUSE_FLOOR:-1} == 1 ]] && (wants seq || wants dd) && fuse_floor
  exit 0
fi

# ---------------------------------------------------------------------------
# Outside: the harness, the inputs, the table.
build=${1:?usage: tests/bench/mount.sh BUILD_DIR}
"$harness" check || { echo "mount.sh: cannot run here (see above)" >&2; exit 77; }
for tool in fio python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "mount.sh: $tool is not installed" >&2; exit 77; }
done
MOUNT_SMBX=$(cd "$build" 2>/dev/null && pwd)/tools/mount.smbx
MOUNT_SMBX_MISSING=""
[[ -x $MOUNT_SMBX ]] || MOUNT_SMBX_MISSING="$build/tools/mount.smbx is not built"
FUSE_NULL=$(cd "$build" 2>/dev/null && pwd)/tests/bench/fuse_null
FUSE_NULL_MISSING=""
[[ -x $FUSE_NULL ]] || FUSE_NULL_MISSING="$build/tests/bench/fuse_null is not built"
export MOUNT_SMBX MOUNT_SMBX_MISSING FUSE_NULL FUSE_NULL_MISSING
runs=${RUNS:-3}
size_mib=${SIZE_MIB:-1024}

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-bench-mount.XXXXXX")
chmod 755 "$work"
cleanup() {
  "$harness" stop "$work/samba" >/dev/null 2>&1 || true
  mountpoint -q "$work/local" && umount "$work/local"
  if [[ -n ${SMBX_BENCH_KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$harness" start "$work/samba" >/dev/null 2>"$work/harness.err" || { cat "$work/harness.err" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/samba/env"

# Inputs on a local tmpfs: the 1 GiB file for smbclient, the source tarball.
mkdir "$work/local"
mount -t tmpfs -o size=$((size_mib * 2 + 512))m smbx-bench-local "$work/local"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/local/src.bin"
source_what=""
boost_parts=()
for part in asio spirit fusion; do [[ -d /usr/include/boost/$part ]] && boost_parts+=("boost/$part"); done
if [[ ${#boost_parts[@]} -gt 0 ]]; then
  tar -C /usr/include -cf "$work/source.tar" "${boost_parts[@]}"
  source_what="/usr/include/${boost_parts[*]}"
else
  mkdir "$work/gen"
  python3 - "$work/gen" <<'PY'
import os, random, sys
rnd = random.Random(1)
for d in range(50):
    os.makedirs(f"{sys.argv[1]}/d{d}", exist_ok=True)
    for i in range(50):
        with open(f"{sys.argv[1]}/d{d}/f{i}.hpp", "wb") as f:
            f.write(rnd.randbytes(rnd.randrange(100, 30000)))
PY
  tar -C "$work/gen" -cf "$work/source.tar" .
  source_what="a generated tree"
fi
tar_files=$(tar -tf "$work/source.tar" | grep -vc '/$')
tar_mib=$(( $(stat -c %s "$work/source.tar") >> 20 ))

echo "mount.sh: $runs runs each, ${size_mib} MiB sequential, 4k random for ${RAND_SECONDS:-20} s on ${RAND_FILE_MIB:-256} MiB; untar: $tar_files files ($tar_mib MiB) of $source_what" >&2
ip netns exec "$NETNS" bash "$0" --inside "$work"

python3 - "$work/results" "$runs" <<'PY'
import os, statistics, sys
results, runs = sys.argv[1], int(sys.argv[2])
peers = ["mount.smbx", "smbnetfs", "rclone", "smbclient", "fuse-null"]
references = {"smbclient": ("seq-write", "seq-read"), "fuse-null": ("seq-write", "seq-read", "dd-write", "dd-read")}
workloads = [("seq-write", "fio seq write MiB/s", True), ("seq-read", "fio seq read MiB/s", True),
             ("dd-write", "dd write MiB/s", True), ("dd-read", "dd read MiB/s", True),
             ("rand-read", "4k randread IOPS, QD8", True), ("rand-write", "4k randwrite IOPS, QD8", True),
             ("rand-read-buffered", "4k randread IOPS, buffered", True),
             ("rand-write-buffered", "4k randwrite IOPS, buffered", True),
             ("create-2000", "create 2000 files s", False), ("untar", "untar s", False),
             ("rss-inodes", "RSS MiB, 10000 inodes cached", False), ("rss-open", "RSS MiB, 1000 files open", False)]
mib = {"rss-inodes", "rss-open"}
def read(peer, w):
    path = os.path.join(results, f"{peer}.{w}")
    vals = []
    if os.path.exists(path):
        vals = [float(x) for x in open(path).read().split()]
    na = os.path.join(results, f"{peer}.{w}.na")
    mount_na = os.path.join(results, f"{peer}.mount.na")
    reason = None
    if os.path.exists(mount_na):
        reason = open(mount_na).read().strip()
    elif os.path.exists(na):
        reason = open(na).read().strip()
    if w in mib:
        vals = [v / 1024 for v in vals]
    if vals and (reason is None or len(vals) == runs or w in mib):
        return statistics.median(vals), None
    return None, reason or "not measured"
def fmt(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"
notes = []
def note(reason):
    if reason not in notes:
        notes.append(reason)
    return f"n/a [{notes.index(reason) + 1}]"
rows = []
for w, title, higher in workloads:
    base, _ = read("mount.smbx", w)
    cells = []
    for p in peers:
        if p in references and w not in references[p]:
            cells.append("-")
            continue
        v, reason = read(p, w)
        if v is None:
            cells.append(note(f"{p}: {reason}"))
        elif p != "mount.smbx" and base is not None and v > 0:
            ratio = base / v if higher else v / base
            cells.append(f"{fmt(v)} (smbx x{ratio:.2f})")
        else:
            cells.append(fmt(v))
    rows.append([title] + cells)
for suffix, title in (("rss", "peak RSS MiB (tree, sampled)"), ("hwm", "sum of VmHWM MiB (tree)")):
    row = [title]
    for p in peers:
        path = os.path.join(results, f"{p}.{suffix}")
        if p == "fuse-null":
            row.append("-")
            continue
        if p == "smbclient" and suffix == "hwm":
            path = os.path.join(results, "smbclient.rss")
        row.append(f"{int(open(path).read()) / 1024:.1f}" if os.path.exists(path) else "-")
    rows.append(row)
names = {"smbclient": "smbclient put/get", "fuse-null": "FUSE floor"}
header = ["median of %d" % runs] + [names.get(p, p) for p in peers]
widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
line = lambda r: "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()
print(line(header))
print(line(["-" * w for w in widths]))
for r in rows:
    print(line(r))
for i, n in enumerate(notes):
    print(f"[{i + 1}] {n}")
print("smbx xN: mount.smbx relative to that peer (above 1: mount.smbx is faster). smbclient: put = write, get = read;")
print("its peak RSS (VmHWM) from /usr/bin/time, one process. RSS rows: the daemon and its children.")
print("MiB/s of fio seq and dd from the wall time (with the final fsync).")
print("FUSE floor: the same fio and dd through fuse_null, a FUSE filesystem that drops writes and reads zeros")
print("(no network, no server), one thread and no splice as mount.smbx: the most such a FUSE client reaches here.")
PY
