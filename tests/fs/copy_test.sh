#!/usr/bin/env bash
# Server-side copy through mount.smbx (issue 8), on a mount with actimeo=30
# (so only the mount's own invalidations can make changes visible in time):
#   - `cp` (coreutils >= 9 calls copy_file_range) of a 64 MiB random file:
#     the same sha256, and the data crossed neither /dev/fuse nor the
#     network: the mount's counters (smbxctl status) show < 1 MiB of FUSE
#     reads and writes, wire bytes both ways < 0.1% of the file, the whole
#     file under "bytes copied" and none of it through the client;
#   - `cp --reflink=never`: the same sha256. coreutils 9.1 never calls
#     copy_file_range then (it may clone, and "never" forbids that), so the
#     data goes through READ and WRITE; the counters must say which path
#     was taken, consistently;
#   - `cp --reflink=always`, FICLONE and FICLONERANGE: EOPNOTSUPP (the
#     kernel's FUSE has no remap_file_range); cp leaves the target as it
#     does on any filesystem without reflink (tmpfs, ext4): created or
#     truncated, empty. A FICLONE onto a file with data leaves it unchanged;
#   - os.copy_file_range with offsets: into the middle of an existing file
#     whose pages the kernel caches, across its end, short at the source's
#     end, from past the source's end, and right after WRITEs the mount
#     answered before the server had them (write-behind): the right bytes,
#     through the mount and on the server;
#   - the control socket's `copy` (raw, and through `smbxctl server`):
#     `ok`, `progress DONE TOTAL` lines, the stats lines, `done`; the same
#     sha256; an overwritten file the kernel cached shows its new contents
#     at once; `--method stream` moves the data through the client (and
#     says so); '..', absolute paths, the same file and an unknown method
#     are refused; `resolve` answers the URL and the user.
# Usage: copy_test.sh --mount PATH/mount.smbx --smbxctl PATH/smbxctl [--smbxd PATH/smbxd]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

smbxctl=""
for ((i = 0; i < ${#test_args[@]}; i++)); do
  case ${test_args[$i]} in
    --smbxctl) smbxctl=${test_args[$((i + 1))]}; i=$((i + 1)) ;;
  esac
done
[[ -n $smbxctl && -x $smbxctl ]] || fail "usage: $0 --mount M --smbxctl PATH/smbxctl [--smbxd S]"
if [[ -z ${FS_INSIDE:-} ]]; then
  # coreutils 9.0 is the first cp to call copy_file_range.
  cp_major=$(cp --version | sed -n '1s/.* \([0-9]*\)\.[0-9.]*$/\1/p')
  [[ -n $cp_major && $cp_major -ge 9 ]] || skip "cp of coreutils >= 9 is needed (copy_file_range), found: $(cp --version | head -1)"
fi

size=$((64 << 20))
mib=$((1 << 20))

# snapshot NAME: the mount's status lines, kept as $work/status.NAME.
snapshot() { "$smbxctl" status "$MNT" > "$work/status.$1" || fail "smbxctl status $MNT"; }
# counter NAME FIELD: a number of a snapshot.
counter() {
  local v
  v=$(sed -n "s/^$2: //p" "$work/status.$1")
  [[ $v =~ ^[0-9]+$ ]] || fail "no '$2' counter in smbxctl status: $(cat "$work/status.$1")"
  echo "$v"
}
# delta FIELD: after - before.
delta() { echo $(($(counter after "$1") - $(counter before "$1"))); }
sha() { sha256sum < "$1" | cut -d' ' -f1; }

# One control request, raw: every reply line, "ok" included.
raw_control() {
  python3 - "$sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
PY
}

# refused WHAT TEXT WORDS...: `smbxctl server` exits 1 with TEXT on stderr.
refused() {
  local what=$1 text=$2 rc=0
  shift 2
  "$smbxctl" server "$sock" "$@" >"$work/ctl.out" 2>"$work/ctl.err" || rc=$?
  [[ $rc -eq 1 ]] || fail "$what: smbxctl server SOCKET $* exited $rc (expected 1): $(cat "$work/ctl.out" "$work/ctl.err")"
  grep -qF -- "$text" "$work/ctl.err" || fail "$what: the error does not say '$text': $(cat "$work/ctl.err")"
}

check_cp_offloaded() {
  local what=$1 copied through fuse_r fuse_w rx tx
  copied=$(delta "bytes copied")
  through=$(delta "bytes copied through client")
  fuse_r=$(delta "bytes read")
  fuse_w=$(delta "bytes written")
  rx=$(delta "wire bytes received")
  tx=$(delta "wire bytes sent")
  note "$what: bytes copied $copied (through the client $through), FUSE read $fuse_r written $fuse_w, wire received $rx sent $tx"
  [[ $copied -eq $size ]] || fail "$what: 'bytes copied' grew by $copied, expected $size (no copy_file_range reached the copy engine)"
  [[ $through -eq 0 ]] || fail "$what: $through bytes went through the client (expected a server-side copy)"
  [[ $fuse_r -lt $mib && $fuse_w -lt $mib ]] || fail "$what: $fuse_r bytes read and $fuse_w written through FUSE (expected < 1 MiB)"
  [[ $rx -lt $((size / 1000)) && $tx -lt $((size / 1000)) ]] ||
    fail "$what: $rx bytes received and $tx sent on the wire (expected < 0.1% of $size)"
}

scenario() {
  fs_mount -o actimeo=30
  sock=/run/smbx/mount-$mount_pid.sock
  [[ -S $sock ]] || fail "the mount has no control socket at $sock"
  # The source, made on the server's side (its file server runs as another user).
  head -c "$size" /dev/urandom > "$SHARE_PATH/src.bin"
  chmod 0666 "$SHARE_PATH/src.bin"
  local want
  want=$(sha "$SHARE_PATH/src.bin")

  # ---- cp: copy_file_range -> the copy engine -> ODX or copy chunks.
  snapshot before
  if command -v strace >/dev/null; then
    strace -f -o "$work/cp.strace" -e trace=copy_file_range cp "$MNT/src.bin" "$MNT/cp.bin" 2>"$work/cp.err" ||
      fail "cp failed: $(cat "$work/cp.err")"
    grep -q "copy_file_range(.*= $size\$" "$work/cp.strace" ||
      fail "cp did not copy the file in one copy_file_range call: $(head -c 2000 "$work/cp.strace")"
  else
    cp "$MNT/src.bin" "$MNT/cp.bin" 2>"$work/cp.err" || fail "cp failed: $(cat "$work/cp.err")"
  fi
  snapshot after
  check_cp_offloaded "cp"
  [[ $(sha "$SHARE_PATH/cp.bin") == "$want" ]] || fail "cp: the copy on the server differs from the source"
  [[ $(stat -c %s "$MNT/cp.bin") -eq $size ]] || fail "cp: the mount shows $(stat -c %s "$MNT/cp.bin") bytes, expected $size"
  [[ $(sha "$MNT/cp.bin") == "$want" ]] || fail "cp: the copy read through the mount differs from the source"

  # ---- cp --reflink=never: correct either way; the counters tell the path.
  snapshot before
  cp --reflink=never "$MNT/src.bin" "$MNT/never.bin" 2>"$work/cp.err" || fail "cp --reflink=never failed: $(cat "$work/cp.err")"
  snapshot after
  [[ $(sha "$SHARE_PATH/never.bin") == "$want" ]] || fail "cp --reflink=never: the copy differs from the source"
  if [[ $(delta "bytes copied") -eq $size ]]; then
    check_cp_offloaded "cp --reflink=never"
  else
    local written
    written=$(delta "bytes written")
    [[ $(delta "bytes copied") -eq 0 && $written -ge $size ]] ||
      fail "cp --reflink=never: neither copied on the server nor written through FUSE (bytes copied $(delta "bytes copied"), FUSE written $written)"
    note "cp --reflink=never ($(cp --version | head -1)) does not call copy_file_range: $written bytes written through FUSE"
  fi

  # ---- cp --reflink=always, FICLONE, FICLONERANGE: refused, as without reflink.
  local rc=0
  cp --reflink=always "$MNT/src.bin" "$MNT/clone.bin" 2>"$work/clone.err" || rc=$?
  [[ $rc -ne 0 ]] || fail "cp --reflink=always succeeded on the mount"
  grep -q "Operation not supported" "$work/clone.err" || fail "cp --reflink=always: unexpected error: $(cat "$work/clone.err")"
  [[ -f $MNT/clone.bin && $(stat -c %s "$MNT/clone.bin") -eq 0 ]] ||
    fail "cp --reflink=always: expected the empty target cp leaves on any filesystem without reflink"
  note "cp --reflink=always: exit $rc, '$(head -1 "$work/clone.err")', an empty target left"
  head -c 100000 /dev/urandom > "$MNT/kept.bin"
  local kept
  kept=$(sha "$MNT/kept.bin")
  python3 - "$MNT/src.bin" "$MNT/kept.bin" <<'PY' || fail "FICLONE/FICLONERANGE"
import errno, fcntl, os, struct, sys
FICLONE, FICLONERANGE = 0x40049409, 0x4020940D
src = os.open(sys.argv[1], os.O_RDONLY)
dst = os.open(sys.argv[2], os.O_WRONLY)
for name, call in (("FICLONE", lambda: fcntl.ioctl(dst, FICLONE, src)),
                   ("FICLONERANGE", lambda: fcntl.ioctl(dst, FICLONERANGE, struct.pack("qQQQ", src, 0, 65536, 0)))):
    try:
        call()
    except OSError as e:
        if e.errno != errno.EOPNOTSUPP:
            sys.exit(f"FAIL: {name} on the mount: {e} (expected EOPNOTSUPP)")
        print(f"-- {name}: {os.strerror(e.errno)}")
    else:
        sys.exit(f"FAIL: {name} succeeded on the mount")
PY
  [[ $(sha "$MNT/kept.bin") == "$kept" ]] || fail "a refused FICLONE changed its target"

  # ---- os.copy_file_range with offsets.
  python3 - "$MNT" "$SHARE_PATH" <<'PY' || fail "copy_file_range with offsets"
import os, sys
mnt, srv = sys.argv[1], sys.argv[2]
src = open(os.path.join(srv, "src.bin"), "rb").read()
def check(what, got, want):
    if got != want:
        at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
        sys.exit(f"FAIL: {what}: {len(got)} bytes, expected {len(want)}; first difference at {at}")
def server(name):
    return open(os.path.join(srv, name), "rb").read()

fd_in = os.open(os.path.join(mnt, "src.bin"), os.O_RDONLY)
# Into the middle of an existing file whose pages the kernel holds.
base = os.urandom(4 << 20)
with open(os.path.join(mnt, "mid.bin"), "wb") as f:
    f.write(base)
out = os.open(os.path.join(mnt, "mid.bin"), os.O_RDWR)
check("mid.bin before", os.pread(out, len(base) + 1, 0), base)
want = bytearray(base)
off_in, off_out, n = (1 << 20) + 123, (512 << 10) + 7, (2 << 20) + 5
got = os.copy_file_range(fd_in, out, n, off_in, off_out)
if got != n:
    sys.exit(f"FAIL: copy_file_range into the middle copied {got} bytes, expected {n}")
want[off_out:off_out + n] = src[off_in:off_in + n]
check("a range copied into the middle, read through the same descriptor", os.pread(out, len(want) + 1, 0), bytes(want))
if os.fstat(out).st_size != len(want):
    sys.exit(f"FAIL: the size changed to {os.fstat(out).st_size} after a copy inside the file")
# Across the end: the file grows, and stat says so at once (actimeo=30).
off_in, off_out, n = 9 << 20, len(want) - 1000, 3000
got = os.copy_file_range(fd_in, out, n, off_in, off_out)
if got != n:
    sys.exit(f"FAIL: copy_file_range across the end copied {got} bytes, expected {n}")
want[off_out:] = src[off_in:off_in + n]
if os.stat(os.path.join(mnt, "mid.bin")).st_size != len(want):
    sys.exit(f"FAIL: stat shows {os.stat(os.path.join(mnt, 'mid.bin')).st_size} bytes after a copy across the end, expected {len(want)}")
check("a range copied across the end", os.pread(out, len(want) + 1, 0), bytes(want))
# Short at the source's end; nothing from past it.
got = os.copy_file_range(fd_in, out, 10000, len(src) - 100, 0)
if got != 100:
    sys.exit(f"FAIL: copy_file_range of the source's last 100 bytes (10000 asked) copied {got}")
want[0:100] = src[-100:]
got = os.copy_file_range(fd_in, out, 100, len(src) + 10, 0)
if got != 0:
    sys.exit(f"FAIL: copy_file_range from past the source's end copied {got}, expected 0")
os.close(out)
check("mid.bin on the server", server("mid.bin"), bytes(want))
check("mid.bin read again through the mount", open(os.path.join(mnt, "mid.bin"), "rb").read(), bytes(want))
# Right after WRITEs answered before the server had them (write-behind under
# the write lease of a new file): the copy must see them.
data = os.urandom(8 << 20)
wb = os.open(os.path.join(mnt, "behind.bin"), os.O_CREAT | os.O_RDWR, 0o644)
os.write(wb, data)
dst = os.open(os.path.join(mnt, "behind-copy.bin"), os.O_CREAT | os.O_WRONLY, 0o644)
done = 0
while done < len(data):
    n = os.copy_file_range(wb, dst, len(data) - done, done, done)
    if n <= 0:
        sys.exit(f"FAIL: copy_file_range of freshly written data stopped at {done} bytes")
    done += n
os.close(dst)
os.close(wb)
check("a copy of data written just before (write-behind)", server("behind-copy.bin"), data)
print("-- copy_file_range with offsets: middle, across the end, short at the source's end, past it, after write-behind: right bytes")
PY

  # ---- the control socket's `copy`, raw: ok, progress, stats, done.
  printf 'old contents, cached by the kernel\n' > "$MNT/ctl copy.bin"
  cat "$MNT/ctl copy.bin" >/dev/null
  raw_control copy auto src.bin "ctl%20copy.bin" > "$work/copy.out" || fail "the copy request failed"
  python3 - "$work/copy.out" "$size" <<'PY' || fail "the copy reply: $(cat "$work/copy.out")"
import re, sys
lines = open(sys.argv[1]).read().split("\n")
size = int(sys.argv[2])
if lines[-1] != "":
    sys.exit("FAIL: the reply does not end with a newline")
lines = lines[:-1]
if lines[0] != "ok" or lines[-1] != "done":
    sys.exit(f"FAIL: the reply should start with 'ok' and end with 'done': {lines}")
progress = [l for l in lines if l.startswith("progress ")]
for l in progress:
    m = re.fullmatch(r"progress (\d+) (\d+)", l)
    if not m or int(m.group(2)) != size or int(m.group(1)) > size:
        sys.exit(f"FAIL: bad progress line {l!r}")
stats = dict(l.split(": ", 1) for l in lines[1:-1] if not l.startswith("progress "))
for key in ("method", "bytes copied", "bytes through client", "elapsed ms"):
    if key not in stats:
        sys.exit(f"FAIL: no '{key}' line in the reply: {lines}")
if stats["method"] not in ("odx", "copychunk"):
    sys.exit(f"FAIL: method {stats['method']} (expected odx or copychunk)")
if int(stats["bytes copied"]) != size or int(stats["bytes through client"]) != 0:
    sys.exit(f"FAIL: bytes copied {stats['bytes copied']} (expected {size}), through the client {stats['bytes through client']} (expected 0)")
print(f"-- control copy: method {stats['method']}, {stats['bytes copied']} bytes in {stats['elapsed ms']} ms, {len(progress)} progress lines")
PY
  [[ $(sha "$SHARE_PATH/ctl copy.bin") == "$want" ]] || fail "control copy: the copy on the server differs"
  [[ $(stat -c %s "$MNT/ctl copy.bin") -eq $size ]] ||
    fail "control copy over a cached file: the mount shows $(stat -c %s "$MNT/ctl copy.bin") bytes (actimeo=30), expected $size"
  [[ $(sha "$MNT/ctl copy.bin") == "$want" ]] || fail "control copy over a cached file: the mount shows stale contents"

  # Through smbxctl, into a subdirectory the kernel has listed; then the
  # stream method, through the client.
  mkdir "$MNT/sub"
  ls "$MNT/sub" >/dev/null
  "$smbxctl" server "$sock" copy auto src.bin sub/new.bin > "$work/ctl.out" 2>"$work/ctl.err" ||
    fail "smbxctl server SOCKET copy: $(cat "$work/ctl.out" "$work/ctl.err")"
  [[ $(tail -1 "$work/ctl.out") == done ]] || fail "smbxctl copy: no 'done': $(cat "$work/ctl.out")"
  ls "$MNT/sub" | grep -qx new.bin || fail "a file made by a control copy is not listed in its directory"
  [[ $(sha "$MNT/sub/new.bin") == "$want" ]] || fail "control copy into sub/: wrong contents"
  "$smbxctl" server "$sock" copy stream src.bin stream.bin > "$work/ctl.out" 2>"$work/ctl.err" ||
    fail "copy stream: $(cat "$work/ctl.out" "$work/ctl.err")"
  grep -qx "method: stream" "$work/ctl.out" || fail "copy stream: $(cat "$work/ctl.out")"
  local through
  through=$(sed -n 's/^bytes through client: //p' "$work/ctl.out")
  [[ $through -ge $((2 * size)) ]] || fail "copy stream: only $through bytes through the client (read + write: $((2 * size)))"
  [[ $(sha "$SHARE_PATH/stream.bin") == "$want" ]] || fail "copy stream: wrong contents"

  # ---- refusals.
  refused "a '..' path" "'..' component" copy auto ../src.bin x.bin
  refused "a '..' inside a path" "'..' component" copy auto src.bin sub/../../x.bin
  refused "an absolute path" "absolute" copy auto /src.bin x.bin
  refused "an escaped absolute path" "absolute" copy auto %2Fsrc.bin x.bin
  refused "the same file" "the same file" copy auto src.bin src.bin
  refused "an unknown method" "unknown copy method" copy sideways src.bin x.bin
  refused "a missing source" "" copy auto no-such.bin x.bin
  [[ ! -e $MNT/x.bin && ! -e $SHARE_PATH/x.bin ]] || fail "a refused copy left x.bin behind"
  [[ $(sha "$SHARE_PATH/src.bin") == "$want" ]] || fail "the source changed"

  # ---- resolve.
  "$smbxctl" server "$sock" resolve "dir%20a/b%25.bin" > "$work/ctl.out" || fail "resolve failed"
  local url="smb://$HOST/$SHARE/dir%20a/b%25.bin"
  [[ $PORT == 445 ]] || url="smb://$HOST:$PORT/$SHARE/dir%20a/b%25.bin"
  [[ $(cat "$work/ctl.out") == "url $url"$'\n'"user $USER" ]] || fail "resolve: got '$(cat "$work/ctl.out")', expected url $url and user $USER"
  refused "resolve of '..'" "'..' component" resolve ..

  fs_umount
  echo "ok: server-side copy through the mount ($fs_server)"
}
fs_main scenario
