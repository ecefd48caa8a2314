#!/usr/bin/env python3
"""A persistent handle on a continuously available smbxd share survives a
`kill -9` of smbxd (MS-SMB2 3.3.5.9.10, 3.3.5.9.12; failover.md section 12).

  persistent_restart_test.py HOST PORT USER PASSWORD SHARE STATEFILE create
      CREATE with DH2Q (PERSISTENT) + RqLs v2 (RWH), a WRITE_THROUGH of
      "persistent data", an exclusive byte-range lock on [0, 10); writes the
      FileId, ClientGuid, CreateGuid and LeaseKey to STATEFILE, prints READY,
      and keeps the connection open until the server goes away.
  persistent_restart_test.py HOST PORT USER PASSWORD SHARE STATEFILE reconnect
      Same ClientGuid; DH2C with the stored FileId, CreateGuid and LeaseKey must
      succeed with the lease still RWH; READ returns the data; the lock is
      still held (a second exclusive lock fails LOCK_NOT_GRANTED, the unlock
      works); a replay of the original CREATE (SMB2_FLAGS_REPLAY_OPERATION,
      same CreateGuid) answers with the same FileId instead of opening again;
      a replayed mkdir (persistent directory open, FILE_CREATE) succeeds."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawsmb import header, ntlm_logon, recv, send, status_of  # noqa: E402

host, port, user, password, share = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
statefile, phase = sys.argv[6], sys.argv[7]



def logon(sock, client_guid):
    # SMB 3.0.2 without signing (allowed below 3.1.1 when neither side
    # requires it), offering persistent handles and leasing.
    body = struct.pack("<HHHHI", 36, 1, 1, 0, 0x10 | 0x2) + client_guid + bytes(8) + struct.pack("<H", 0x0302)
    send(sock, header(0, 0) + body)
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "NEGOTIATE failed"
    assert struct.unpack_from("<H", rsp, 64 + 4)[0] == 0x0302, "server did not choose 3.0.2"
    caps = struct.unpack_from("<I", rsp, 64 + 24)[0]
    assert caps & 0x10, "server does not offer SMB2_GLOBAL_CAP_PERSISTENT_HANDLES (caps 0x%x)" % caps

    return ntlm_logon(sock, user, password)



def tree_connect(sock, session, mid):
    path = ("\\\\%s\\%s" % (host, share)).encode("utf-16le")
    send(sock, header(3, mid, session) + struct.pack("<HHHH", 9, 0, 72, len(path)) + path)
    rsp = recv(sock)
    assert rsp and status_of(rsp) == 0, "TREE_CONNECT failed"
    caps = struct.unpack_from("<I", rsp, 64 + 8)[0]
    assert caps & 0x10, "share is not SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY (caps 0x%x)" % caps
    return struct.unpack_from("<I", rsp, 36)[0]


def context(name, data):
    return struct.pack("<IHHHHI", 0, 16, len(name), 0, 24, len(data)) + name + bytes(8 - len(name)) + data


def chain(contexts):
    out = b""
    for i, c in enumerate(contexts):
        if i + 1 < len(contexts):
            c += bytes((8 - len(c) % 8) % 8)
            c = struct.pack("<I", len(c)) + c[4:]
        out += c
    return out


FILE_NAME = "persistent.dat"
DATA = b"persistent data"
DIR_NAME = "persistent.dir"


def create(sock, mid, session, tree, contexts, flags=0, fname=FILE_NAME, disposition=3, options=0x40,
           oplock=0xFF):
    name = fname.encode("utf-16le")
    ctx = chain(contexts)
    ctx_off = 64 + 56 + len(name)
    ctx_off += (8 - ctx_off % 8) % 8
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, 0x0012019F, 0x80, 7, disposition, options, 120,
                       len(name), ctx_off, len(ctx))
    body += name + bytes(ctx_off - 64 - 56 - len(name)) + ctx
    send(sock, header(5, mid, session, tree, flags) + body)
    rsp = recv(sock)
    assert rsp is not None, "no CREATE response"
    return rsp


def response_contexts(rsp):
    off, length = struct.unpack_from("<II", rsp, 64 + 80)
    out = {}
    pos = off
    while length and pos < len(rsp):
        nxt, noff, nlen, _, doff, dlen = struct.unpack_from("<IHHHHI", rsp, pos)
        out[rsp[pos + noff:pos + noff + nlen]] = rsp[pos + doff:pos + doff + dlen]
        if nxt == 0:
            break
        pos += nxt
    return out


def lease_v2(key, state):
    return context(b"RqLs", key + struct.pack("<IIQ", state, 0, 0) + bytes(16) + struct.pack("<HH", 0, 0))


def lock(sock, mid, session, tree, file_id, flags):
    body = struct.pack("<HHI", 48, 1, 0) + file_id + struct.pack("<QQII", 0, 10, flags, 0)
    send(sock, header(10, mid, session, tree) + body)
    return status_of(recv(sock))


RWH = 0x7
with socket.create_connection((host, port), timeout=20) as sock:
    if phase == "create":
        client_guid, create_guid, lease_key = os.urandom(16), os.urandom(16), os.urandom(16)
    else:
        with open(statefile) as f:
            file_id, client_guid, create_guid, lease_key, dir_guid = (bytes.fromhex(x) for x in f.read().split())
    session = logon(sock, client_guid)
    tree = tree_connect(sock, session, 3)
    dh2q = context(b"DH2Q", struct.pack("<IIQ", 0, 0x2, 0) + create_guid)
    if phase == "create":
        rsp = create(sock, 4, session, tree, [dh2q, lease_v2(lease_key, RWH)])
        assert status_of(rsp) == 0, "CREATE failed: 0x%08x" % status_of(rsp)
        file_id = rsp[64 + 64:64 + 80]
        ctx = response_contexts(rsp)
        assert b"DH2Q" in ctx, "no DH2Q response: not durable"
        timeout, flags = struct.unpack_from("<II", ctx[b"DH2Q"])
        assert flags & 0x2, "DH2Q response without PERSISTENT"
        assert struct.unpack_from("<I", ctx[b"RqLs"], 16)[0] == RWH, "lease is not RWH"
        body = struct.pack("<HHIQ", 49, 112, len(DATA), 0) + file_id + struct.pack("<IIHHI", 0, 0, 0, 0, 1) + DATA
        send(sock, header(9, 5, session, tree) + body)  # WRITE with SMB2_WRITEFLAG_WRITE_THROUGH
        assert status_of(recv(sock)) == 0, "WRITE failed"
        assert lock(sock, 6, session, tree, file_id, 0x2 | 0x10) == 0, "LOCK failed"
        # mkdir through a persistent directory open (smbx replays it after a failover).
        dir_guid = os.urandom(16)
        dir_dh2q = context(b"DH2Q", struct.pack("<IIQ", 0, 0x2, 0) + dir_guid)
        rsp = create(sock, 7, session, tree, [dir_dh2q], fname=DIR_NAME, disposition=2, options=0x1, oplock=0)
        assert status_of(rsp) == 0, "mkdir CREATE failed: 0x%08x" % status_of(rsp)
        assert b"DH2Q" in response_contexts(rsp), "directory open on the CA share is not persistent"
        with open(statefile, "w") as f:
            f.write(" ".join(x.hex() for x in (file_id, client_guid, create_guid, lease_key, dir_guid)))
        print("READY (persistent handle %s, timeout %d ms)" % (file_id.hex(), timeout), flush=True)
        try:
            while recv(sock) is not None:
                pass
        except OSError:
            pass
        sys.exit(0)

    # reconnect
    dh2c = context(b"DH2C", file_id + create_guid + struct.pack("<I", 0x2))
    rsp = create(sock, 4, session, tree, [dh2c, lease_v2(lease_key, RWH)])
    assert status_of(rsp) == 0, "DH2C after the restart failed: 0x%08x" % status_of(rsp)
    assert rsp[64 + 64:64 + 72] == file_id[:8], "DH2C answered another FileId"
    new_id = rsp[64 + 64:64 + 80]
    ctx = response_contexts(rsp)
    assert b"RqLs" in ctx, "DH2C response without the lease"
    state = struct.unpack_from("<I", ctx[b"RqLs"], 16)[0]
    assert state == RWH, "lease after the restart is 0x%x, not RWH" % state
    body = struct.pack("<HBBIQ", 49, 0x50, 0, 64, 0) + new_id + struct.pack("<IIIHH", 0, 0, 0, 0, 0) + b"\0"
    send(sock, header(8, 5, session, tree) + body)
    rsp = recv(sock)
    assert status_of(rsp) == 0, "READ failed: 0x%08x" % status_of(rsp)
    doff, dlen = rsp[64 + 2], struct.unpack_from("<I", rsp, 64 + 4)[0]
    assert rsp[doff:doff + dlen] == DATA, "READ returned %r" % rsp[doff:doff + dlen]
    st = lock(sock, 6, session, tree, new_id, 0x2 | 0x10)
    assert st == 0xC0000055, "the byte-range lock did not survive (second lock: 0x%08x)" % st
    st = lock(sock, 7, session, tree, new_id, 0x4)
    assert st == 0, "unlock of the surviving lock failed: 0x%08x" % st
    # A replayed CREATE (its response lost in the crash) finds the same open.
    rsp = create(sock, 8, session, tree, [dh2q, lease_v2(lease_key, RWH)], flags=0x20000000)
    assert status_of(rsp) == 0, "replayed CREATE failed: 0x%08x" % status_of(rsp)
    assert rsp[64 + 64:64 + 72] == file_id[:8], "replayed CREATE opened the file again"
    # The mkdir's response was "lost": its replay (FILE_CREATE) answers from
    # the restored open instead of failing OBJECT_NAME_COLLISION.
    dir_dh2q = context(b"DH2Q", struct.pack("<IIQ", 0, 0x2, 0) + dir_guid)
    rsp = create(sock, 9, session, tree, [dir_dh2q], flags=0x20000000, fname=DIR_NAME, disposition=2, options=0x1,
                 oplock=0)
    assert status_of(rsp) == 0, "replayed mkdir failed: 0x%08x" % status_of(rsp)
    print("PASS: persistent handle, lease, lock and CreateGuid survived kill -9 of smbxd")
