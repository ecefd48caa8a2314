#!/usr/bin/env python3
"""A steady writer for failover tests, tools/demo.sh and tests/bench/failover.sh.

  writer.py write PATH --copy LOCAL [--chunk BYTES] [--fsync-every N] [--rate-mbps R]
                       [--duration S | --stop-file F] [--gaps FILE] [--gap-ms MS] [--stop-on-error]
  writer.py verify PATH LOCAL

write: pwrite()s CHUNK-byte blocks of random data one after the other at
explicit offsets onto PATH (on the mount), fsync()ing every N blocks, and
keeps the same bytes in LOCAL (a local file: what the application was told
was written). A block counts as written once its write and, when due, its
fsync returned. Each gap between two successive successful writes longer
than --gap-ms is logged to --gaps as "gap END_EPOCH_MS GAP_MS". An error is
logged as "error EPOCH_MS ERRNO NAME" and the block is tried again (unless
--stop-on-error). --rate-mbps paces the writes (0: as fast as possible). On
exit (duration over, stop file present, or SIGTERM) it prints one line:
"bytes N blocks N errors N max_gap_ms N" and exits 1 if there were errors.

verify: compares PATH with LOCAL and prints "lost N size_path N size_local N":
N bytes of LOCAL that PATH does not hold the same (missing or different).
Exit 0 when none are lost.
"""
import errno
import os
import signal
import sys
import time


def now_ms():
    return time.time_ns() // 1_000_000


def write(args):
    path = args[0]
    opts = {"--chunk": "1048576", "--fsync-every": "8", "--rate-mbps": "0", "--duration": "0",
            "--stop-file": "", "--gaps": "", "--gap-ms": "50", "--copy": ""}
    flags = set()
    i = 1
    while i < len(args):
        if args[i] == "--stop-on-error":
            flags.add(args[i])
            i += 1
            continue
        if args[i] not in opts or i + 1 >= len(args):
            sys.exit(f"writer.py: bad argument {args[i]}")
        opts[args[i]] = args[i + 1]
        i += 2
    if not opts["--copy"]:
        sys.exit("writer.py: --copy LOCAL is required")
    chunk = int(opts["--chunk"])
    fsync_every = max(1, int(opts["--fsync-every"]))
    rate = float(opts["--rate-mbps"]) * 1048576
    duration = float(opts["--duration"])
    stop_file = opts["--stop-file"]
    gap_ms = int(opts["--gap-ms"])
    gaps = open(opts["--gaps"], "a", buffering=1) if opts["--gaps"] else None
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    copy = open(opts["--copy"], "wb")
    fd = None
    offset = 0
    blocks = 0
    errors = 0
    max_gap = 0
    start = time.monotonic()
    last_ok = time.monotonic()
    unsynced = 0
    block = os.urandom(chunk)

    def log(line):
        if gaps:
            gaps.write(line + "\n")

    while not stop:
        if duration and time.monotonic() - start >= duration:
            break
        if stop_file and os.path.exists(stop_file):
            break
        try:
            if fd is None:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            n = os.pwrite(fd, block, offset)
            if n != len(block):
                raise OSError(errno.EIO, f"short write {n}")
            unsynced += 1
            if unsynced >= fsync_every:
                os.fsync(fd)
                unsynced = 0
        except OSError as e:
            errors += 1
            log(f"error {now_ms()} {e.errno} {errno.errorcode.get(e.errno, '?')}")
            if "--stop-on-error" in flags:
                break
            # The handle may be gone (ESTALE): reopen, rewrite what was not
            # synced yet (the copy holds it), and go on.
            try:
                if fd is not None:
                    os.close(fd)
            except OSError:
                pass
            fd = None
            offset -= unsynced * chunk
            copy.truncate(offset)
            copy.seek(offset)
            unsynced = 0
            time.sleep(0.05)
            continue
        t = time.monotonic()
        gap = (t - last_ok) * 1000
        if gap > gap_ms:
            log(f"gap {now_ms()} {int(gap)}")
        max_gap = max(max_gap, gap)
        last_ok = t
        copy.write(block)
        offset += chunk
        blocks += 1
        block = os.urandom(chunk)
        if rate > 0:
            due = start + offset / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    if fd is not None:
        try:
            os.fsync(fd)
            os.close(fd)
        except OSError as e:
            errors += 1
            log(f"error {now_ms()} {e.errno} {errno.errorcode.get(e.errno, '?')}")
    copy.close()
    print(f"bytes {offset} blocks {blocks} errors {errors} max_gap_ms {int(max_gap)}", flush=True)
    sys.exit(1 if errors else 0)


def verify(path, local):
    lost = 0
    size_path = os.path.getsize(path) if os.path.exists(path) else 0
    size_local = os.path.getsize(local)
    with open(local, "rb") as want:
        got = open(path, "rb") if os.path.exists(path) else None
        while True:
            a = want.read(1 << 20)
            if not a:
                break
            b = got.read(len(a)) if got else b""
            if a != b:
                lost += sum(1 for x, y in zip(a, b) if x != y) + (len(a) - min(len(a), len(b)))
        if got:
            got.close()
    print(f"lost {lost} size_path {size_path} size_local {size_local}")
    sys.exit(0 if lost == 0 else 1)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        write(sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
