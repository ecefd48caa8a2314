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
import hashlib
import hmac
import os
import socket
import struct
import sys

host, port, user, password, share = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
statefile, phase = sys.argv[6], sys.argv[7]

def md4(data):  # RFC 1320; hashlib often lacks MD4 under OpenSSL 3
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rotl(v, s): return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            a, b, c, d = d, rotl((a + f(b, c, d) + x[k]) & 0xFFFFFFFF, s), b, c
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            a, b, c, d = d, rotl((a + g(b, c, d) + x[k] + 0x5A827999) & 0xFFFFFFFF, s), b, c
        for i in range(16):
            k, s = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i], (3, 9, 11, 15)[i % 4]
            a, b, c, d = d, rotl((a + h(b, c, d) + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF, s), b, c
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"


def header(command, mid, session=0, tree=0, flags=0, channel_sequence=0):
    return b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, channel_sequence, command, 64, flags, 0, mid, 0, tree,
                                     session) + bytes(16)


def send(sock, msg):
    sock.sendall(struct.pack(">I", len(msg)) + msg)


def recv(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    prefix = exact(4)
    if prefix is None:
        return None
    return exact(struct.unpack(">I", prefix)[0] & 0xFFFFFF)


def status_of(msg): return struct.unpack_from("<I", msg, 8)[0]


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

    flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000 | 0x02000000 | 0x20000000 | 0x80000000
    nego = b"NTLMSSP\0" + struct.pack("<II", 1, flags) + bytes(16) + bytes(8)

    def setup(mid, session, token):
        body = struct.pack("<HBBIIHHQ", 25, 0, 0, 0, 0, 88, len(token), 0) + token
        send(sock, header(1, mid, session) + body)
        return recv(sock)

    rsp = setup(1, 0, nego)
    assert rsp and status_of(rsp) == 0xC0000016, "SESSION_SETUP 1: expected MORE_PROCESSING_REQUIRED"
    session = struct.unpack_from("<Q", rsp, 40)[0]
    off, length = struct.unpack_from("<HH", rsp, 64 + 4)
    chal = rsp[off:off + length]
    assert chal[:8] == b"NTLMSSP\0" and struct.unpack_from("<I", chal, 8)[0] == 2
    server_challenge = chal[24:32]
    ti_len, _, ti_off = struct.unpack_from("<HHI", chal, 40)
    target_info = chal[ti_off:ti_off + ti_len]
    timestamp = b"\0" * 8
    pos = 0
    while pos + 4 <= len(target_info):  # MsvAvTimestamp (7), else zero
        av_id, av_len = struct.unpack_from("<HH", target_info, pos)
        if av_id == 7:
            timestamp = target_info[pos + 4:pos + 4 + av_len]
        if av_id == 0:
            break
        pos += 4 + av_len

    ntowf = hmac.new(md4(password.encode("utf-16le")), (user.upper() + "").encode("utf-16le"), "md5").digest()
    temp = b"\x01\x01" + bytes(6) + timestamp + os.urandom(8) + bytes(4) + target_info + bytes(4)
    proof = hmac.new(ntowf, server_challenge + temp, "md5").digest()
    nt_response = proof + temp
    fields = [bytes(24), nt_response, b"", user.encode("utf-16le"), b"", b""]  # LM, NT, domain, user, ws, key
    offset = 88
    head = b"NTLMSSP\0" + struct.pack("<I", 3)
    payload = b""
    for f in fields:
        head += struct.pack("<HHI", len(f), len(f), offset + len(payload))
        payload += f
    auth = head + struct.pack("<I", flags) + bytes(8) + bytes(16) + payload
    rsp = setup(2, session, auth)
    assert rsp and status_of(rsp) == 0, "SESSION_SETUP 2 failed: 0x%08x" % (status_of(rsp) if rsp else 0)
    return session



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
