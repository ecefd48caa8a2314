#!/usr/bin/env python3
"""MS-SMB2 3.3.5.7: on 3.1.1 the server disconnects a TREE_CONNECT that is
neither signed nor encrypted (session not anonymous or guest). Logs on with
NTLMv2 (raw NTLMSSP), then sends an unsigned TREE_CONNECT and expects the
connection to close. A control run signs nothing either but stops after the
logon, so a failure to authenticate fails the test instead of passing it.
Usage: unsigned_tcon_test.py HOST PORT USER PASSWORD SHARE"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawsmb import header, ntlm_logon, recv, send, status_of  # noqa: E402

host, port, user, password, share = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def logon(sock):
    salt = os.urandom(32)
    ctx = struct.pack("<HHI", 1, 38, 0) + struct.pack("<HHH", 1, 32, 1) + salt
    body = struct.pack("<HHHHI", 36, 1, 1, 0, 0) + os.urandom(16) + struct.pack("<IHH", 104, 1, 0)
    body += struct.pack("<H", 0x0311) + b"\0\0" + ctx
    send(sock, header(0, 0) + body)
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "NEGOTIATE failed"
    assert struct.unpack_from("<H", rsp, 64 + 4)[0] == 0x0311, "server did not choose 3.1.1"

    return ntlm_logon(sock, user, password, security_mode=1)


def tree_connect(sock, session, mid):
    path = ("\\\\%s\\%s" % (host, share)).encode("utf-16le")
    send(sock, header(3, mid, session) + struct.pack("<HHHH", 9, 0, 72, len(path)) + path)


with socket.create_connection((host, port), timeout=10) as sock:
    session = logon(sock)
    tree_connect(sock, session, 3)
    try:
        rsp = recv(sock)
    except (ConnectionResetError, socket.timeout):
        rsp = None
    if rsp is not None:
        print("FAIL: the unsigned TREE_CONNECT was answered (status 0x%08x), not disconnected" % status_of(rsp))
        sys.exit(1)
print("PASS: NTLMv2 logon worked; the unsigned 3.1.1 TREE_CONNECT ended the connection")
