#include <doctest/doctest.h>

#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/transform.hpp"
#include "support/captures.hpp"
#include "support/test_data.hpp"
#include "wire/header.hpp"

using namespace smbx;
using namespace smbx::crypto;

namespace {

// One direction of a Microsoft transform vector: the plaintext message, the
// whole TRANSFORM message on the wire, and the key that protects it.
struct TransformVector {
  std::string_view name;
  Cipher cipher;
  std::string_view key;
  std::string_view plaintext;
  std::string_view frame;
};

// Spec digest §10.2: blog "Encryption in SMB 3.0: A protocol perspective"
// (2012-10-05), AES-128-CCM, SessionId 0x0008e40014000011.
constexpr TransformVector kSmb30Request{
    "3.0 CCM WRITE request (EncryptionKey)", Cipher::aes128_ccm, "261b72350558f2e9dcf613070383edbf",
    R"(fe534d4240000100000000000900400008000000000000000400000000000000
       fffe0000010000001100001400e4080000000000000000000000000000000000
       3100700017000000000000000000000015010000390000020100000039020000
       00000000000000007000000000000000536d623320656e6372797074696f6e20
       74657374696e67)",
    R"(fd534d4281a286535415445dae393921e44fa42e66e69a111892584fb5ed524a
       744da3ee87000000000001001100001400e4080025c8fee16605a437832d1cd5
       2da9f4645333482a175fe5384563f45fcdafaef38bc62ba4d5c62897996625a4
       4c29be5658de2e6117585779e7b59ffd971278d08580d7fa899e410e910eabf5
       aa1db43050b33b49182637759ac15d84bfcdf5b6b238993c0f4cf4d6012023f6
       c627297075d84b7803912d0a9639634453595ef3e33ffe4e7ac2ab)"};
constexpr TransformVector kSmb30Response{
    "3.0 CCM WRITE response (DecryptionKey)", Cipher::aes128_ccm, "8fe2b57ec34d2db5b1a9727f526bbdb5",
    R"(fe534d4240000100000000000900210009000000000000000400000000000000
       fffe0000010000001100001400e4080000000000000000000000000000000000
       11000000170000000000000000000000)",
    R"(fd534d42a6015530a18f6d9affe22afae8e66484860000000000000011000014
       00e4080050000000000001001100001400e40800dbf46435c5f14169293ce079
       e344479bf670227e49873f458672c3098dac467dd5809f369d67409166515787
       1483e01f7becd02064eac3e235f913668bbc2f097980d4b378f1993eff6e60d1
       77309e5b)"};
// Spec digest §10.3: blog "SMB 3.1.1 Encryption in Windows 10" (2015-09-09),
// AES-128-GCM, SessionId 0x0000100000000025.
constexpr TransformVector kSmb311Request{
    "3.1.1 GCM WRITE request (EncryptionKey)", Cipher::aes128_gcm, "a2f5e80e5d59103034f32e52f698e5ec",
    R"(fe534d4240000100000000000900010008000000000000000500000000000000
       fffe000001000000250000000010000000000000000000000000000000000000
       3100700017000000000000000000000006000000040000000100000004000000
       00000000000000007000000000000000536d623320656e6372797074696f6e20
       74657374696e67)",
    R"(fd534d42bd73d97d2bc9001bcafac0fdff5feebcc7d6822d269caf48904c664c
       00000000870000000000010025000000001000006ecdd2a7afc7b47763057a04
       1b8fd4daffe990b70c9e09d36c084e02d14ef247f8bde38acf6256f8b1d3b56f
       77fbdeb312fea5e92cbcc1ed8fb2ebbfaa75e49a4a394bb44576545567c24d4c
       014d47c9fbdfdafd2c4f9b72f8d256452620a299f48e29e53d6b61d1c13a19e9
       1af013f00d17e3abc2fc3d36c8c1b6b93973253852dbd442e46ee8)"};
constexpr TransformVector kSmb311Response{
    "3.1.1 GCM WRITE response (DecryptionKey)", Cipher::aes128_gcm, "748c50868c90f302962a5c35f5f9a8bf",
    R"(fe534d4240000100000000000900010001000000000000000500000000000000
       fffe000001000000250000000010000000000000000000000000000000000000
       11000000170000000000000000000000)",
    R"(fd534d42acbe1cb7ed343adf1725ef144d90d4b0e06831dd2e8eb7b400000000
       000000005000000000000100250000000010000026bbbf949983a6c1c796559d
       0f2c510cb651d1f7b6ac8ded32a2a0b8f2d793a815c6f6b848d69767a215841a
       42d400ae6ddb5f0b44173a014973321fdd7950da6179159b82e03c9e18a050ff
       0ea1c967)"};

constexpr const TransformVector* kMicrosoftVectors[] = {&kSmb30Request, &kSmb30Response, &kSmb311Request,
                                                        &kSmb311Response};

ByteView nonce_field(ByteView frame) { return frame.subspan(20, 16); }
std::uint64_t session_id_field(ByteView frame) { return load_le64(&frame[44]); }

bool failed_with(const Expected<Bytes>& r, ErrorKind kind) { return !r.has_value() && r.error().kind == kind; }

}  // namespace

TEST_CASE("encrypt_message reproduces the Microsoft TRANSFORM messages byte for byte, both directions") {
  for (const auto* v : kMicrosoftVectors) {
    CAPTURE(v->name);
    const Bytes frame = test::hex(v->frame);
    const Bytes built = encrypt_message(v->cipher, test::hex(v->key), nonce_field(frame), session_id_field(frame),
                                        test::hex(v->plaintext));
    CHECK(to_hex(built) == to_hex(frame));
  }
}

TEST_CASE("decrypt_message recovers the Microsoft plaintexts, both directions") {
  for (const auto* v : kMicrosoftVectors) {
    CAPTURE(v->name);
    const auto plaintext = decrypt_message(v->cipher, test::hex(v->key), test::hex(v->frame));
    REQUIRE(plaintext.has_value());
    CHECK(to_hex(*plaintext) == to_hex(test::hex(v->plaintext)));
  }
}

TEST_CASE("a GCM nonce of 12 bytes is written into the 16-byte Nonce field followed by zeros") {
  const Bytes frame = test::hex(kSmb311Request.frame);
  const Bytes built = encrypt_message(Cipher::aes128_gcm, test::hex(kSmb311Request.key),
                                      test::hex("c7d6822d269caf48904c664c"), 0x0000100000000025,
                                      test::hex(kSmb311Request.plaintext));
  CHECK(to_hex(built) == to_hex(frame));
}

TEST_CASE("a plaintext given in pieces encrypts exactly like the same bytes in one piece") {
  const Bytes frame = test::hex(kSmb30Request.frame);
  const Bytes plaintext = test::hex(kSmb30Request.plaintext);
  const ByteView all{plaintext};
  const std::array pieces{all.first(64), all.subspan(64, 0), all.subspan(64, 48), all.subspan(112)};
  CHECK(to_hex(encrypt_message(Cipher::aes128_ccm, test::hex(kSmb30Request.key), nonce_field(frame),
                               session_id_field(frame), pieces)) == to_hex(frame));
}

TEST_CASE("every TRANSFORM message of smb311-encrypted decrypts to an SMB2 message of its session") {
  // Keys from the digest's table (§10.4); C frames use C2S, S frames S2C.
  const Bytes c2s = test::hex("92ba6d2cff0ea30bf80775d9dc779655");
  const Bytes s2c = test::hex("3ed711d841d4712d7531eae9fe161f69");
  int transforms = 0;
  for (const auto& f : test::capture_frames("smb311-encrypted")) {
    if (wire::protocol_id(f.bytes) != wire::kTransformProtocolId) continue;
    ++transforms;
    const Bytes& key = f.direction == capture::Direction::client_to_server ? c2s : s2c;
    const auto plaintext = decrypt_message(Cipher::aes128_gcm, key, f.bytes);
    // describe() only on failure: doctest may build the message of a passing REQUIRE.
    if (!plaintext) FAIL(describe(plaintext.error()));
    REQUIRE(plaintext->size() >= wire::kHeaderSize);
    CHECK(wire::protocol_id(*plaintext) == wire::kSmb2ProtocolId);
    CHECK(load_le64(&(*plaintext)[wire::kSessionIdOffset]) == session_id_field(f.bytes));
    // And Samba's frame is what we would have sent with the same nonce.
    CHECK(encrypt_message(Cipher::aes128_gcm, key, nonce_field(f.bytes), session_id_field(f.bytes), *plaintext) ==
          f.bytes);
  }
  CHECK(transforms == 30);
}

TEST_CASE("a flipped bit anywhere in a TRANSFORM message fails decryption") {
  for (const auto* v : kMicrosoftVectors) {
    CAPTURE(v->name);
    const Bytes good = test::hex(v->frame);
    const Bytes key = test::hex(v->key);
    for (std::size_t i = 0; i < good.size(); ++i) {
      CAPTURE(i);
      Bytes bad = good;
      bad[i] ^= 0x01;
      const auto result = decrypt_message(v->cipher, key, bad);
      // ProtocolId, OriginalMessageSize and Flags are refused while decoding;
      // every other byte (tag, nonce, Reserved, SessionId, ciphertext) by the AEAD.
      const bool header_check = i < 4 || (i >= 36 && i < 40) || (i >= 42 && i < 44);
      CHECK(failed_with(result, header_check ? ErrorKind::wire : ErrorKind::crypto));
    }
  }
}

TEST_CASE("decryption with the wrong key, direction or cipher fails with a crypto error") {
  const Bytes frame = test::hex(kSmb311Request.frame);
  CHECK(failed_with(decrypt_message(Cipher::aes128_gcm, test::hex(kSmb311Response.key), frame), ErrorKind::crypto));
  CHECK(failed_with(decrypt_message(Cipher::aes128_ccm, test::hex(kSmb311Request.key), frame), ErrorKind::crypto));
  CHECK(failed_with(decrypt_message(Cipher::none, test::hex(kSmb311Request.key), frame), ErrorKind::crypto));
  // A key of the wrong size is refused, not passed to OpenSSL.
  CHECK(failed_with(decrypt_message(Cipher::aes256_gcm, test::hex(kSmb311Request.key), frame), ErrorKind::crypto));
  const auto e = decrypt_message(Cipher::aes128_gcm, test::hex(kSmb311Response.key), frame);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().detail.find("0x0000100000000025") != std::string::npos);
}

TEST_CASE("a TRANSFORM message cut short or extended is refused before decryption") {
  const Bytes good = test::hex(kSmb30Response.frame);
  const Bytes key = test::hex(kSmb30Response.key);
  for (std::size_t n : {0u, 4u, 51u, 52u, 100u, 131u}) {
    CAPTURE(n);
    CHECK(failed_with(decrypt_message(Cipher::aes128_ccm, key, ByteView{good}.first(n)), ErrorKind::wire));
  }
  Bytes longer = good;
  longer.push_back(0);
  CHECK(failed_with(decrypt_message(Cipher::aes128_ccm, key, longer), ErrorKind::wire));
}

TEST_CASE("the AES-256 ciphers round-trip through TRANSFORM messages") {
  const Bytes plaintext = test::hex(kSmb311Request.plaintext);
  for (Cipher c : {Cipher::aes256_ccm, Cipher::aes256_gcm, Cipher::aes128_ccm, Cipher::aes128_gcm}) {
    CAPTURE(static_cast<int>(c));
    const Bytes key(key_size(c), 0x3C);
    NonceGenerator nonces{c};
    const auto nonce = nonces.next();
    REQUIRE(nonce.has_value());
    const Bytes frame = encrypt_message(c, key, *nonce, 0x0000100000000025, plaintext);
    CHECK(frame.size() == wire::kTransformHeaderSize + plaintext.size());
    const auto back = decrypt_message(c, key, frame);
    REQUIRE(back.has_value());
    CHECK(*back == plaintext);
  }
}

TEST_CASE("an empty plaintext still gets an authenticated TRANSFORM message") {
  for (Cipher c : {Cipher::aes128_ccm, Cipher::aes128_gcm, Cipher::aes256_ccm, Cipher::aes256_gcm}) {
    CAPTURE(static_cast<int>(c));
    const Bytes key(key_size(c), 0x01);
    Bytes frame = encrypt_message(c, key, Bytes(16, 0), 7, ByteView{});
    const auto back = decrypt_message(c, key, frame);
    REQUIRE(back.has_value());
    CHECK(back->empty());
    frame[44] ^= 1;  // SessionId is authenticated too
    CHECK(failed_with(decrypt_message(c, key, frame), ErrorKind::crypto));
  }
}

TEST_CASE("nonces carry a counter in bytes 0-7, a fixed random part up to the nonce size, then zeros") {
  for (Cipher c : {Cipher::aes128_ccm, Cipher::aes256_gcm}) {
    CAPTURE(static_cast<int>(c));
    NonceGenerator nonces{c};
    const auto first = nonces.next();
    const auto second = nonces.next();
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK(load_le64(first->data()) == 1);
    CHECK(load_le64(second->data()) == 2);
    const std::size_t n = nonce_size(c);
    CHECK(std::equal(first->begin() + 8, first->begin() + static_cast<std::ptrdiff_t>(n), second->begin() + 8));
    for (std::size_t i = n; i < 16; ++i) CHECK((*first)[i] == 0);
  }
}

TEST_CASE("a nonce generator never repeats and refuses once its counter is used up") {
  NonceGenerator nonces{Cipher::aes128_gcm, std::numeric_limits<std::uint64_t>::max() - 2};
  std::set<TransformNonce> seen;
  for (int i = 0; i < 3; ++i) {
    const auto nonce = nonces.next();
    REQUIRE(nonce.has_value());
    CHECK(seen.insert(*nonce).second);
  }
  const auto refused = nonces.next();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == ErrorKind::crypto);
  CHECK_FALSE(nonces.next().has_value());  // and stays refused
}

TEST_CASE("two sessions' nonce generators differ in their random part") {
  // 32 random bits for GCM: a collision here is a 1 in 4 billion event.
  const auto a = NonceGenerator{Cipher::aes128_gcm}.next();
  const auto b = NonceGenerator{Cipher::aes128_gcm}.next();
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(*a != *b);
}

TEST_CASE("encrypt_message_in_place seals the Microsoft vectors byte for byte where the plaintext lies") {
  for (const auto* v : kMicrosoftVectors) {
    CAPTURE(v->name);
    const Bytes frame = test::hex(v->frame);
    const Bytes plaintext = test::hex(v->plaintext);
    Bytes buffer(wire::kTransformHeaderSize, 0xEE);  // the room's old content must not matter
    buffer.insert(buffer.end(), plaintext.begin(), plaintext.end());
    const auto* before = buffer.data();
    encrypt_message_in_place(v->cipher, test::hex(v->key), nonce_field(frame), session_id_field(frame), buffer);
    CHECK(buffer.data() == before);
    CHECK(to_hex(buffer) == to_hex(frame));
  }
}

TEST_CASE("encrypt_message_in_place matches encrypt_message for every cipher, empty and 1 MiB plaintexts") {
  for (Cipher c : {Cipher::aes128_ccm, Cipher::aes128_gcm, Cipher::aes256_ccm, Cipher::aes256_gcm}) {
    CAPTURE(static_cast<int>(c));
    const Bytes key(key_size(c), 0x5A);
    NonceGenerator nonces{c};
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1} << 20}) {
      CAPTURE(size);
      Bytes plaintext(size);
      for (std::size_t i = 0; i < size; ++i) plaintext[i] = static_cast<std::uint8_t>(i * 7 + 3);
      const auto nonce = nonces.next();
      REQUIRE(nonce.has_value());
      const Bytes expected = encrypt_message(c, key, *nonce, 0x1122334455667788, plaintext);
      Bytes buffer(wire::kTransformHeaderSize);
      buffer.insert(buffer.end(), plaintext.begin(), plaintext.end());
      encrypt_message_in_place(c, key, *nonce, 0x1122334455667788, buffer);
      CHECK(buffer == expected);
      const auto back = decrypt_message(c, key, buffer);
      REQUIRE(back.has_value());
      CHECK(*back == plaintext);
    }
  }
}
