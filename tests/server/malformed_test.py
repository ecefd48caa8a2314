#!/usr/bin/env python3
"""Sends malformed and mutated SMB frames to a live smbxd (address from argv)
for a bounded number of connections and time. Exits 0 when done; the shell
test then checks that smbxd still serves and logged no sanitizer error."""
import random
import socket
import struct
import sys
import time

host, port, rounds, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)


def header(command, mid, credits=31, flags=0, session=0, tree=0, next_command=0):
    return (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, 0, command, credits, flags, next_command, mid, 0,
                                      tree, session) + b"\0" * 16)


def negotiate(mid=0):
    dialects = [0x0202, 0x0210, 0x0300, 0x0302]
    body = struct.pack("<HHHHI", 36, len(dialects), 1, 0, 0x7F) + bytes(16) + bytes(8)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    return header(0, mid) + body


def frame(payload, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">I", n & 0xFFFFFF) + payload


def cases():
    valid = negotiate()
    yield frame(valid)                                   # a valid start, then garbage after it
    for _ in range(8):
        m = bytearray(valid)
        for _ in range(rng.randint(1, 6)):
            m[rng.randrange(len(m))] = rng.randrange(256)
        yield frame(bytes(m))
    yield frame(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
    yield frame(b"\xfeSMB" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))
    yield frame(b"\xfdSMB" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))
    yield frame(b"\xffSMBr" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 80))))
    yield frame(b"\xfeSMB", length=0xFFFFFF)             # announces a frame larger than allowed
    yield b"\x85\x00\x00\x00"                             # NetBIOS keepalive type: not Direct TCP
    # A compound whose NextCommand points past the end, and one pointing backwards.
    yield frame(header(5, 1, next_command=4096) + bytes(60))
    yield frame(header(5, 1, next_command=8) + bytes(60))
    # Unknown commands and every command with a random body.
    for command in range(0, 0x14):
        yield frame(header(command, rng.randrange(4)) + bytes(rng.randrange(256) for _ in range(rng.randint(0, 120))))


deadline = time.monotonic() + seconds
sent = 0
for i in range(rounds):
    if time.monotonic() > deadline:
        break
    payloads = list(cases())
    rng.shuffle(payloads)
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            if rng.random() < 0.5:
                s.sendall(frame(negotiate()))
                try:
                    s.recv(65536)
                except OSError:
                    pass
            for p in payloads[: rng.randint(1, len(payloads))]:
                s.sendall(p)
                sent += 1
                s.settimeout(0.05)
                try:
                    s.recv(65536)
                except OSError:
                    pass
    except OSError:
        pass  # smbxd may drop the connection at any point: that is allowed
print(f"sent {sent} malformed frames on {i + 1} connections")
