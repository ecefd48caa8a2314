#!/usr/bin/env python3
"""ODX against smbxd over raw SMB 3.0.2 (MS-FSCC 2.3.41-2.3.44, MS-FSA
2.1.5.10.20/.21; offload-copy.md section 2). Run by offload_test.sh, which
made the shares and files:

  offload_test.py HOST PORT CONTROL_SOCKET WORKDIR main
      share "share" (both users) holds src.bin (random, not a multiple of 512
      bytes); share "secret" (user 1 only) holds secret.bin. Checks:
      - OFFLOAD_READ + OFFLOAD_WRITE copy src.bin exactly (bytes and size);
      - a WRITE into the source after OFFLOAD_READ: OFFLOAD_WRITE fails
        STATUS_INVALID_TOKEN and the target never gets the new data;
      - a token with one bit flipped in its MAC, its range or its TokenType
        is refused (INVALID_TOKEN); a truncated input is INVALID_PARAMETER;
        an expired token is refused; misaligned and past-EOF reads refused;
      - a token of "secret" used by user 2 (who may not use that share):
        ACCESS_DENIED, while user 1 may use it;
      - the offload-cap fault: TransferLength and LengthWritten capped, the
        client's continuation completes the copy;
      - the zero token zeroes exactly its range;
      - 600 mutated resume-key, copychunk and offload FSCTL inputs are
        answered (smbxd neither crashes nor stops serving; the shell checks
        its log for sanitizer reports).
  offload_test.py HOST PORT CONTROL_SOCKET WORKDIR token
      writes a token for src.bin to WORKDIR/token.hex
  offload_test.py HOST PORT CONTROL_SOCKET WORKDIR use-token
      OFFLOAD_WRITE with that token (made by an smbxd since restarted, or by
      another smbxd holding the same key) copies src.bin."""
import hashlib
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawsmb import header, ntlm_logon, recv, send, status_of  # noqa: E402

host, port, control, work, phase = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
USER1, PASS1 = "smbxuser", "Pass-w0rd!"
USER2, PASS2 = "smbxuser2", "Pass-w0rd2"

OFFLOAD_READ, OFFLOAD_WRITE = 0x00094264, 0x00098268
SUCCESS, INVALID_PARAMETER, ACCESS_DENIED = 0, 0xC000000D, 0xC0000022
END_OF_FILE, INVALID_TOKEN = 0xC0000011, 0xC0000465
READ_ACCESS, RW_ACCESS = 0x00120089, 0x0012019F
OPEN, CREATE, OVERWRITE_IF = 1, 2, 5
ZERO_TOKEN = struct.pack(">IHH", 0xFFFF0001, 0, 504) + bytes(504)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def host_file(share_dir, name):
    with open(os.path.join(work, share_dir, name), "rb") as f:
        return f.read()


def fault(words):
    s = socket.socket(socket.AF_UNIX)
    s.connect(control)
    s.sendall(("fault " + words + "\n").encode())
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    s.close()
    assert out.startswith(b"ok"), "fault %s: %r" % (words, out)


class Client:
    def __init__(self, user, password, share):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.mid = 0
        # SMB 3.0.2, signing neither required nor used (allowed below 3.1.1).
        body = struct.pack("<HHHHI", 36, 1, 1, 0, 0) + os.urandom(16) + bytes(8) + struct.pack("<H", 0x0302)
        rsp = self.call(0, body)
        assert status_of(rsp) == 0, "NEGOTIATE failed"
        self.session = ntlm_logon(self.sock, user, password)
        self.mid = 3
        self.tree = 0
        status, self.tree = self.tree_connect(share)
        assert status == 0, "TREE_CONNECT %s as %s: 0x%08x" % (share, user, status)

    def call(self, command, body):
        send(self.sock, header(command, self.mid, getattr(self, "session", 0), getattr(self, "tree", 0)) + body)
        self.mid += 1
        rsp = recv(self.sock)
        assert rsp is not None, "connection closed"
        return rsp

    def tree_connect(self, share):
        path = ("\\\\%s\\%s" % (host, share)).encode("utf-16le")
        rsp = self.call(3, struct.pack("<HHHH", 9, 0, 72, len(path)) + path)
        return status_of(rsp), struct.unpack_from("<I", rsp, 36)[0]

    def create(self, name, access, disposition):
        n = name.encode("utf-16le")
        body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, access, 0x80, 7, disposition, 0x40, 120, len(n),
                           0, 0) + n
        rsp = self.call(5, body)
        assert status_of(rsp) == 0, "CREATE %s: 0x%08x" % (name, status_of(rsp))
        return rsp[64 + 64:64 + 80]

    def close(self, fid):
        assert status_of(self.call(6, struct.pack("<HHI", 24, 0, 0) + fid)) == 0

    def write(self, fid, offset, data):
        body = struct.pack("<HHIQ", 49, 112, len(data), offset) + fid + struct.pack("<IIHHI", 0, 0, 0, 0, 0) + data
        assert status_of(self.call(9, body)) == 0, "WRITE failed"

    def ioctl(self, fid, ctl, data, max_out):
        body = struct.pack("<HHI", 57, 0, ctl) + fid + struct.pack("<IIIIIIII", 120, len(data), 0, 0, 0, max_out, 1,
                                                                     0) + data
        rsp = self.call(11, body)
        status = status_of(rsp)
        if len(rsp) < 64 + 48:
            return status, b""
        off, count = struct.unpack_from("<II", rsp, 64 + 32)
        return status, rsp[off:off + count]

    def offload_read(self, fid, offset, length, ttl=0):
        status, out = self.ioctl(fid, OFFLOAD_READ, struct.pack("<IIIIQQ", 32, 0, ttl, 0, offset, length), 528)
        if status != 0:
            return status, 0, None
        assert len(out) == 528 and struct.unpack_from("<I", out)[0] == 528, "bad OFFLOAD_READ output"
        return status, struct.unpack_from("<Q", out, 8)[0], out[16:528]

    def offload_write(self, fid, offset, length, transfer_offset, token):
        data = struct.pack("<IIQQQ", 544, 0, offset, length, transfer_offset) + token
        status, out = self.ioctl(fid, OFFLOAD_WRITE, data, 16)
        if status != 0:
            return status, 0
        assert len(out) == 16 and struct.unpack_from("<I", out)[0] == 16, "bad OFFLOAD_WRITE output"
        return status, struct.unpack_from("<Q", out, 8)[0]


def odx_copy(client, src, dst, size):
    """The client's loop: OFFLOAD_READ what is left, OFFLOAD_WRITE it until the
    token's TransferLength is used up; returns (reads, writes)."""
    reads = writes = 0
    done = 0
    while done < size:
        want = ((size - done) + 511) // 512 * 512
        status, transfer, token = client.offload_read(src, done, want)
        assert status == 0, "OFFLOAD_READ at %d: 0x%08x" % (done, status)
        assert 0 < transfer <= want and transfer % 512 == 0, "TransferLength %d for %d" % (transfer, want)
        reads += 1
        used = 0
        while used < transfer:
            status, written = client.offload_write(dst, done + used, transfer - used, used, token)
            assert status == 0, "OFFLOAD_WRITE at %d: 0x%08x" % (done + used, status)
            assert 0 < written <= transfer - used, "LengthWritten %d" % written
            used += written
            writes += 1
        done += transfer
    return reads, writes


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what, flush=True)


src_data = host_file("share", "src.bin")
SIZE = len(src_data)

if phase == "token":
    c = Client(USER1, PASS1, "share")
    src = c.create("src.bin", READ_ACCESS, OPEN)
    status, transfer, token = c.offload_read(src, 0, (SIZE + 511) // 512 * 512, ttl=300000)
    assert status == 0 and transfer >= SIZE, "OFFLOAD_READ for the restart: 0x%08x" % status
    with open(os.path.join(work, "token.hex"), "w") as f:
        f.write(token.hex() + " %d\n" % transfer)
    print("token written")
    sys.exit(0)

if phase == "use-token":
    with open(os.path.join(work, "token.hex")) as f:
        hexed, transfer = f.read().split()
    token, transfer = bytes.fromhex(hexed), int(transfer)
    c = Client(USER1, PASS1, "share")
    dst = c.create("after-restart.bin", RW_ACCESS, OVERWRITE_IF)
    used = 0
    while used < transfer:
        status, written = c.offload_write(dst, used, transfer - used, used, token)
        assert status == 0, "OFFLOAD_WRITE with the stored token: 0x%08x" % status
        used += written
    c.close(dst)
    check(sha(host_file("share", "after-restart.bin")) == sha(src_data),
          "a token made by the first smbxd (before a restart, or another smbxd with its key) copies the file")
    sys.exit(0)

c = Client(USER1, PASS1, "share")
src = c.create("src.bin", READ_ACCESS, OPEN)

# 1. A whole-file copy, the last sector only partly data.
dst = c.create("copy.bin", RW_ACCESS, OVERWRITE_IF)
reads, writes = odx_copy(c, src, dst, SIZE)
c.close(dst)
copy = host_file("share", "copy.bin")
check(len(copy) == SIZE and sha(copy) == sha(src_data),
      "OFFLOAD_READ + OFFLOAD_WRITE copied %d bytes exactly (%d read, %d write)" % (SIZE, reads, writes))

# 2. Misaligned offset, empty length, past end of file; expiry.
check(c.offload_read(src, 100, 512)[0] == INVALID_PARAMETER, "OFFLOAD_READ at a misaligned offset: INVALID_PARAMETER")
check(c.offload_read(src, 0, 0)[0] == INVALID_PARAMETER, "OFFLOAD_READ of 0 bytes: INVALID_PARAMETER")
check(c.offload_read(src, (SIZE + 511) // 512 * 512, 512)[0] == END_OF_FILE, "OFFLOAD_READ past EOF: END_OF_FILE")
status, transfer, token = c.offload_read(src, 0, 4096, ttl=1)
assert status == 0
time.sleep(0.05)
dst = c.create("expired.bin", RW_ACCESS, OVERWRITE_IF)
check(c.offload_write(dst, 0, 4096, 0, token)[0] == INVALID_TOKEN, "an expired token (TTL 1 ms): INVALID_TOKEN")
c.close(dst)

# 3. Forged and truncated tokens; the genuine one works.
status, transfer, token = c.offload_read(src, 0, 65536)
assert status == 0 and transfer == 65536
dst = c.create("forged.bin", RW_ACCESS, OVERWRITE_IF)
id_len = struct.unpack_from(">H", token, 6)[0]


def flipped(tok, pos, bit=0x01):
    b = bytearray(tok)
    b[pos] ^= bit
    return bytes(b)


for what, pos in (("its MAC", 8 + id_len - 1), ("its range (offset)", 8 + 12), ("its range (length)", 8 + 20),
                  ("its TokenType", 3), ("its TokenIdLength", 7)):
    check(c.offload_write(dst, 0, 65536, 0, flipped(token, pos))[0] == INVALID_TOKEN,
          "a token with one bit flipped in %s: INVALID_TOKEN" % what)
data = struct.pack("<IIQQQ", 544, 0, 0, 65536, 0) + token
check(c.ioctl(dst, OFFLOAD_WRITE, data[:543], 16)[0] == INVALID_PARAMETER,
      "OFFLOAD_WRITE input one byte short: INVALID_PARAMETER")
check(c.ioctl(dst, OFFLOAD_WRITE, struct.pack("<I", 552) + data[4:], 16)[0] == INVALID_PARAMETER,
      "OFFLOAD_WRITE input with Size 552: INVALID_PARAMETER")
check(c.ioctl(src, OFFLOAD_READ, struct.pack("<IIIIQ", 32, 0, 0, 0, 0), 528)[0] == INVALID_PARAMETER,
      "OFFLOAD_READ input truncated: INVALID_PARAMETER")
check(c.offload_write(dst, 0, 65536, 0, token) == (0, 65536), "the genuine token still copies")
c.close(dst)
check(host_file("share", "forged.bin") == src_data[:65536], "... and the right bytes")

# 4. A write into the source range after OFFLOAD_READ invalidates the token.
scratch = c.create("changing.bin", RW_ACCESS, OVERWRITE_IF)
c.write(scratch, 0, src_data[:65536])
status, transfer, token = c.offload_read(scratch, 0, 65536)
assert status == 0 and transfer == 65536
c.write(scratch, 4096, b"NEW DATA" * 64)
dst = c.create("stale.bin", RW_ACCESS, OVERWRITE_IF)
check(c.offload_write(dst, 0, 65536, 0, token)[0] == INVALID_TOKEN,
      "OFFLOAD_WRITE after a WRITE into the source range: INVALID_TOKEN")
c.close(dst)
stale = host_file("share", "stale.bin")
check(b"NEW DATA" not in stale and len(stale) == 0, "the target got none of the new data")
c.close(scratch)

# 5. Share users: a token of "secret" is no use to a user who may not use "secret".
secret = host_file("secret", "secret.bin")
status, tid = c.tree_connect("secret")
assert status == 0
share_tree = c.tree
c.tree = tid
sfid = c.create("secret.bin", READ_ACCESS, OPEN)
status, transfer, secret_token = c.offload_read(sfid, 0, len(secret))
assert status == 0
c.close(sfid)
c.tree = share_tree
c2 = Client(USER2, PASS2, "share")
check(c2.tree_connect("secret")[0] == ACCESS_DENIED, "user 2 may not connect to share 'secret' (users=)")
dst2 = c2.create("stolen.bin", RW_ACCESS, OVERWRITE_IF)
check(c2.offload_write(dst2, 0, transfer, 0, secret_token)[0] == ACCESS_DENIED,
      "user 2's OFFLOAD_WRITE with a token of 'secret': ACCESS_DENIED")
c2.close(dst2)
check(len(host_file("share", "stolen.bin")) == 0, "... and nothing was copied")
dst = c.create("secret-copy.bin", RW_ACCESS, OVERWRITE_IF)
check(c.offload_write(dst, 0, transfer, 0, secret_token) == (0, transfer), "user 1 may use it on another share")
c.close(dst)
check(host_file("share", "secret-copy.bin") == secret, "... and gets the secret file's bytes")

# 6. Partial transfers (the offload-cap fault).
MIB = 1 << 20
fault("offload-cap 65536")
status, transfer, token = c.offload_read(src, 0, MIB)
check(status == 0 and transfer == 65536, "offload-cap 65536: TransferLength %d for CopyLength %d" % (transfer, MIB))
fault("offload-cap 0")
status, transfer, token = c.offload_read(src, 0, MIB)
check(status == 0 and transfer == MIB, "without the cap: TransferLength %d" % transfer)
fault("offload-cap 100000")  # rounded down to whole sectors: 99840
dst = c.create("partial.bin", RW_ACCESS, OVERWRITE_IF)
status, written = c.offload_write(dst, 0, MIB, 0, token)
check(status == 0 and written == 99840, "offload-cap 100000: LengthWritten %d (99840) for %d" % (written, MIB))
used = written
rounds = 1
while used < MIB:
    status, written = c.offload_write(dst, used, MIB - used, used, token)
    assert status == 0 and 0 < written <= 99840, "continuation: 0x%08x %d" % (status, written)
    used += written
    rounds += 1
fault("offload-cap 0")
c.close(dst)
check(host_file("share", "partial.bin") == src_data[:MIB] and rounds == 11,
      "the continued OFFLOAD_WRITEs (%d) copied the 1 MiB exactly" % rounds)

# 7. The well-known zero token.
dst = c.create("zeroed.bin", RW_ACCESS, OVERWRITE_IF)
c.write(dst, 0, src_data[:65536])
status, written = c.offload_write(dst, 4096, 8192, 0, ZERO_TOKEN)
check(status == 0 and written == 8192, "zero token: LengthWritten 8192")
c.close(dst)
zeroed = host_file("share", "zeroed.bin")
check(zeroed == src_data[:4096] + bytes(8192) + src_data[12288:65536],
      "zero token zeroed [4096, 12288) and nothing else")

# 8. Malformed FSCTL inputs: every one gets an answer, and smbxd goes on serving.
rng = random.Random(8)
RESUME_KEY, COPYCHUNK, COPYCHUNK_WRITE = 0x00140078, 0x001440F2, 0x001480F2
status, out = c.ioctl(src, RESUME_KEY, b"", 32)
assert status == 0 and len(out) == 32, "resume key: 0x%08x" % status
resume = out[:24]
fuzz = c.create("fuzz.bin", RW_ACCESS, OVERWRITE_IF)
status, transfer, good_token = c.offload_read(src, 0, 65536)
assert status == 0


def some_offset():
    return rng.choice([0, 512, 4096, 1 << 20, rng.randrange(1 << 64), rng.randrange(1 << 40) * 512, (1 << 64) - 1])


def some_length():
    return rng.choice([0, 1, 511, 512, 65536, rng.randrange(1 << 20), rng.randrange(1 << 64)])


statuses = set()
for i in range(600):
    ctl = rng.choice([OFFLOAD_READ, OFFLOAD_WRITE, COPYCHUNK, COPYCHUNK_WRITE, RESUME_KEY])
    if ctl == OFFLOAD_READ:
        data = struct.pack("<IIIIQQ", rng.choice([32, 0, 33]), 0, rng.randrange(1 << 32), 0, some_offset(),
                           some_length())
    elif ctl == OFFLOAD_WRITE:
        token = rng.choice([good_token, ZERO_TOKEN, bytes(rng.randrange(256) for _ in range(512)),
                            flipped(good_token, rng.randrange(512), 1 << rng.randrange(8))])
        length = rng.choice([0, 512, 4096, rng.randrange(1 << 20) // 512 * 512, rng.randrange(1 << 64)])
        data = struct.pack("<IIQQQ", rng.choice([544, 552]), 0, rng.choice([0, 512, 1 << 20, some_offset()]), length,
                           some_offset()) + token
    elif ctl == RESUME_KEY:
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    else:
        count = rng.choice([0, 1, 2, 3, 255, 256, 257, rng.randrange(1 << 32)])
        chunks = b"".join(struct.pack("<QQII", rng.choice([0, 4096, some_offset()]), some_offset(),
                                      rng.choice([0, 512, 4096, 1 << 20, (1 << 20) + 1, rng.randrange(1 << 32)]), 0)
                          for _ in range(min(count, rng.randrange(5))))
        data = rng.choice([resume, os.urandom(24)]) + struct.pack("<II", count, 0) + chunks
    data = bytearray(data)
    for _ in range(rng.choice([0, 0, 1, 3])):  # flip bytes
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.2:
        data = data[:rng.randrange(len(data) + 1)]
    status, _ = c.ioctl(rng.choice([src, fuzz]), ctl, bytes(data), rng.choice([0, 11, 12, 16, 32, 527, 528, 65536]))
    statuses.add(status)
c.close(fuzz)
dst = c.create("after-fuzz.bin", RW_ACCESS, OVERWRITE_IF)
check(c.offload_write(dst, 0, 65536, 0, good_token) == (0, 65536),
      "600 mutated FSCTL inputs answered (%d distinct statuses); smbxd still copies" % len(statuses))
c.close(dst)
c.close(src)
print("PASS: offload tokens")
