"""Raw SMB2 over Direct TCP for the server tests that need to send exactly
what they mean (unsigned_tcon_test.py, persistent_restart_test.py): framing,
the 64-byte header, and an NTLMv2 logon built by hand (MS-NLMP 3.3.2)."""
import hmac
import os
import struct


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


def ntlm_logon(sock, user, password, security_mode=0, previous_session=0):
    """SESSION_SETUP with raw NTLMSSP (NEGOTIATE, then AUTHENTICATE with an
    NTLMv2 response) after a successful NEGOTIATE; returns the SessionId."""
    flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000 | 0x02000000 | 0x20000000 | 0x80000000
    nego = b"NTLMSSP\0" + struct.pack("<II", 1, flags) + bytes(16) + bytes(8)

    def setup(mid, session, token):
        body = struct.pack("<HBBIIHHQ", 25, 0, security_mode, 0, 0, 88, len(token), previous_session) + token
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
