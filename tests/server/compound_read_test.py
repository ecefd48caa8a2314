#!/usr/bin/env python3
"""READ responses of smbxd, lone and inside compounds (MS-SMB2 2.2.20,
3.3.4.1.3, 3.3.5.2.7): a lone READ is built around its data where it was
read, a READ inside a compound is encoded with the other members; both must
carry exactly the file's bytes at DataOffset 0x50, every member but the last
padded to 8 bytes. SMB 3.0.2 without signing (neither side requires it).
Usage: compound_read_test.py HOST PORT USER PASSWORD SHARE FILE_NAME LOCAL_PATH"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawsmb import header, ntlm_logon, recv, send, status_of  # noqa: E402

host, port, user, password, share = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
file_name, local_path = sys.argv[6], sys.argv[7]
with open(local_path, "rb") as f:
    expected = f.read()

READ, CREATE, CLOSE = 8, 5, 6
RELATED = 0x4
RELATED_FID = b"\xff" * 16
END_OF_FILE = 0xC0000011
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def read_body(fid, offset, length):
    return struct.pack("<HBBIQ", 49, 0x50, 0, length, offset) + fid + struct.pack("<IIIHH", 0, 0, 0, 0, 0) + b"\0"


def create_body(name):
    n = name.encode("utf-16le")
    # FILE_OPEN of a non-directory for GENERIC_READ-like access, no oplock, no contexts.
    return struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, 0x00120089, 0x80, 7, 1, 0x40, 120, len(n), 0, 0) + n


def close_body(fid):
    return struct.pack("<HHI", 24, 0, 0) + fid


def compound(members):
    """members: (header bytes, body bytes); returns one frame with NextCommand set."""
    out = b""
    for i, (h, b) in enumerate(members):
        msg = h + b
        if i + 1 < len(members):
            msg += bytes((8 - len(msg) % 8) % 8)
            msg = msg[:20] + struct.pack("<I", len(msg)) + msg[24:]
        out += msg
    return out


def split(frame):
    out = []
    pos = 0
    while True:
        nxt = struct.unpack_from("<I", frame, pos + 20)[0]
        if nxt == 0:
            out.append(frame[pos:])
            return out
        if nxt % 8:
            failures.append("NextCommand %d is not 8-aligned" % nxt)
        out.append(frame[pos:pos + nxt])
        pos += nxt


def read_data(msg, what):
    """The data of a READ response, checked for layout (2.2.20)."""
    size, data_offset, _, length = struct.unpack_from("<HBBI", msg, 64)
    check(size == 17, "%s: StructureSize %d" % (what, size))
    check(data_offset == 0x50, "%s: DataOffset 0x%x" % (what, data_offset))
    check(data_offset + length <= len(msg), "%s: DataLength %d runs past the message" % (what, length))
    return msg[data_offset:data_offset + length]


def logon(sock):
    body = struct.pack("<HHHHI", 36, 1, 1, 0, 0) + os.urandom(16) + bytes(8) + struct.pack("<H", 0x0302)
    send(sock, header(0, 0) + body)
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "NEGOTIATE failed"
    assert struct.unpack_from("<H", rsp, 64 + 4)[0] == 0x0302, "server did not choose 3.0.2"
    return ntlm_logon(sock, user, password)


with socket.create_connection((host, port), timeout=10) as sock:
    session = logon(sock)
    path = ("\\\\%s\\%s" % (host, share)).encode("utf-16le")
    send(sock, header(3, 3, session) + struct.pack("<HHHH", 9, 0, 72, len(path)) + path)
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "TREE_CONNECT failed"
    tree = struct.unpack_from("<I", rsp, 36)[0]
    mid = 4

    def next_mid():
        global mid
        mid += 1
        return mid - 1

    send(sock, header(CREATE, next_mid(), session, tree) + create_body(file_name))
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "CREATE failed: 0x%08x" % (status_of(rsp) if rsp else 0)
    fid = rsp[128:144]

    # A lone READ: built in the buffer its data was read into.
    send(sock, header(READ, next_mid(), session, tree) + read_body(fid, 1000, 5000))
    rsp = recv(sock)
    check(rsp is not None and status_of(rsp) == 0, "lone READ failed")
    if rsp is not None and status_of(rsp) == 0:
        check(read_data(rsp, "lone READ") == expected[1000:6000], "lone READ: wrong data")
        check(len(rsp) == 0x50 + 5000, "lone READ: message of %d bytes" % len(rsp))

    # A lone READ of the last bytes: shorter than asked.
    send(sock, header(READ, next_mid(), session, tree) + read_body(fid, len(expected) - 300, 4096))
    rsp = recv(sock)
    check(rsp is not None and status_of(rsp) == 0, "READ at the end failed")
    if rsp is not None and status_of(rsp) == 0:
        check(read_data(rsp, "READ at the end") == expected[-300:], "READ at the end: wrong data")

    # Two unrelated READs and a READ past the end in one compound.
    frame = compound([(header(READ, next_mid(), session, tree), read_body(fid, 0, 4097)),
                      (header(READ, next_mid(), session, tree), read_body(fid, 65536, 30000)),
                      (header(READ, next_mid(), session, tree), read_body(fid, len(expected) + 10, 100))])
    send(sock, frame)
    rsp = recv(sock)
    check(rsp is not None, "no answer to the compound of READs")
    if rsp is not None:
        members = split(rsp)
        check(len(members) == 3, "compound of READs: %d members answered" % len(members))
        if len(members) == 3:
            check(status_of(members[0]) == 0 and read_data(members[0], "READ 1 of 3") == expected[0:4097],
                  "READ 1 of 3: wrong status or data")
            check(status_of(members[1]) == 0 and read_data(members[1], "READ 2 of 3") == expected[65536:95536],
                  "READ 2 of 3: wrong status or data")
            check(status_of(members[2]) == END_OF_FILE, "READ 3 of 3 (past the end): status 0x%08x" %
                  status_of(members[2]))

    # CREATE + READ + CLOSE, related (the READ and CLOSE use the CREATE's FileId).
    frame = compound([(header(CREATE, next_mid(), session, tree), create_body(file_name)),
                      (header(READ, next_mid(), session, tree, RELATED), read_body(RELATED_FID, 777, 3000)),
                      (header(CLOSE, next_mid(), session, tree, RELATED), close_body(RELATED_FID))])
    send(sock, frame)
    rsp = recv(sock)
    check(rsp is not None, "no answer to CREATE + READ + CLOSE")
    if rsp is not None:
        members = split(rsp)
        check(len(members) == 3 and all(status_of(m) == 0 for m in members),
              "CREATE + READ + CLOSE: statuses %s" % [hex(status_of(m)) for m in members])
        if len(members) == 3 and status_of(members[1]) == 0:
            check(read_data(members[1], "related READ") == expected[777:3777], "related READ: wrong data")

    # The connection still serves a lone READ afterwards.
    send(sock, header(READ, next_mid(), session, tree) + read_body(fid, 50000, 65536))
    rsp = recv(sock)
    check(rsp is not None and status_of(rsp) == 0, "last lone READ failed")
    if rsp is not None and status_of(rsp) == 0:
        check(read_data(rsp, "last lone READ") == expected[50000:115536], "last lone READ: wrong data")

if failures:
    sys.exit(1)
print("PASS: lone and compound READs return the file's bytes")
