#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.hpp"
#include "crypto/random.hpp"
#include "crypto/signing.hpp"
#include "support/captures.hpp"
#include "support/test_data.hpp"
#include "wire/header.hpp"

using namespace smbx;
using namespace smbx::crypto;

namespace {

std::string signature_field(ByteView message) { return to_hex(message.subspan(wire::kSignatureOffset, 16)); }

// SigningKeys from the digest's table of capture keys (spec §10.4). Built
// with from_hex: test::hex needs a running test, and these are globals.
const Bytes kSmb311EncryptedSigningKey = from_hex("7736f657ef7d40b5d86ed842af8abedd").value();
const Bytes kSmb311SignedOpsSigningKey = from_hex("5e7be6c85ffa4a812128678d2bc9a7d4").value();
const Bytes kSmb302SigningKey = from_hex("eba1006a95cecce3ee7c0a552cebd45a").value();

// Counts the signed, unencrypted messages of a capture and how many verify.
struct Tally {
  int signed_messages = 0;
  int verified = 0;
};
Tally verify_capture(std::string_view name, SigningAlgorithm algorithm, ByteView key) {
  Tally t;
  for (const auto& f : test::capture_frames(name)) {
    if (wire::protocol_id(f.bytes) != wire::kSmb2ProtocolId) continue;  // TRANSFORM frames are not signed
    auto members = wire::split_compound(f.bytes);
    REQUIRE(members.has_value());
    for (const auto& m : *members) {
      if (!m.header.is_signed()) continue;
      ++t.signed_messages;
      if (verify_signature(algorithm, key, m.bytes)) ++t.verified;
    }
  }
  return t;
}

std::array<ByteView, 1> one(ByteView b) { return {b}; }

}  // namespace

TEST_CASE("AES-CMAC reproduces the four RFC 4493 examples") {
  const Bytes key = test::hex("2b7e151628aed2a6abf7158809cf4f3c");
  const Bytes m64 = test::hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const ByteView all{m64};
  CHECK(to_hex(aes_cmac(key, std::array<ByteView, 0>{})) == "bb1d6929e95937287fa37d129b756746");
  CHECK(to_hex(aes_cmac(key, std::array{all.first(16)})) == "070a16b46b4d4144f79bdd9dd04a287c");
  CHECK(to_hex(aes_cmac(key, std::array{all.first(40)})) == "dfa66747de9ae63030ca32611497c827");
  CHECK(to_hex(aes_cmac(key, std::array{all})) == "51f0bebf7e3b9d92fc49741779363cfe");
}

TEST_CASE("AES-CMAC over pieces equals AES-CMAC over their concatenation") {
  const Bytes key = test::hex("2b7e151628aed2a6abf7158809cf4f3c");
  const Bytes m64 = test::hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const ByteView all{m64};
  // Odd splits that straddle the 16-byte block boundaries, and an empty piece.
  const std::array pieces{all.first(5), all.subspan(5, 0), all.subspan(5, 27), all.subspan(32)};
  CHECK(to_hex(aes_cmac(key, pieces)) == "51f0bebf7e3b9d92fc49741779363cfe");
}

TEST_CASE("AES-GMAC reproduces NIST GCM vectors with an empty plaintext") {
  // NIST CAVP gcmEncryptExtIV128.rsp, PTlen = 0, AADlen = 128, Taglen = 128.
  CHECK(to_hex(aes_gmac(test::hex("77be63708971c4e240d1cb79e8d77feb"),
                        to_array<12>(test::hex("e0e00f19fed7ba0136a797f3")),
                        one(test::hex("7a43ec1d9c0a5a78a0b16533a6213cab")))) == "209fcc8d3675ed938e9c7166709dd946");
  CHECK(to_hex(aes_gmac(test::hex("7680c5d3ca6154758e510f4d25b98820"),
                        to_array<12>(test::hex("f8f105f9c3df4965780321f8")),
                        one(test::hex("c94c410194c765e3dcc7964379758ed3")))) == "94dca8edfcf90bb74b153c8d48a17930");
  // McGrew-Viega GCM test case 1: zero key and IV, nothing authenticated.
  CHECK(to_hex(aes_gmac(Bytes(16, 0), GmacNonce{}, std::array<ByteView, 0>{})) ==
        "58e2fccefa7e3061367f1d57a4e7455a");
}

TEST_CASE("AES-GMAC over one-byte pieces equals AES-GMAC over the whole AAD") {
  const Bytes aad = test::hex("7a43ec1d9c0a5a78a0b16533a6213cab");
  std::vector<ByteView> pieces;
  for (std::size_t i = 0; i < aad.size(); ++i) pieces.push_back(ByteView{aad}.subspan(i, 1));
  CHECK(to_hex(aes_gmac(test::hex("77be63708971c4e240d1cb79e8d77feb"),
                        to_array<12>(test::hex("e0e00f19fed7ba0136a797f3")), pieces)) ==
        "209fcc8d3675ed938e9c7166709dd946");
}

TEST_CASE("HMAC-SHA256 reproduces RFC 4231 test cases 1, 2, 5 and 6") {
  auto text = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
  CHECK(to_hex(hmac_sha256(Bytes(20, 0x0b), one(text("Hi There")))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(hmac_sha256(text("Jefe"), one(text("what do ya want for nothing?")))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 5 is the truncation case: RFC 4231 gives only the first 128 bits,
  // exactly what SMB 2.x keeps as its signature.
  CHECK(to_hex(ByteView{hmac_sha256(Bytes(20, 0x0c), one(text("Test With Truncation")))}.first(16)) ==
        "a3b6167473100ee06e0c796c2955552b");
  CHECK(to_hex(hmac_sha256(Bytes(131, 0xaa), one(text("Test Using Larger Than Block-Size Key - Hash Key First")))) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("the GMAC nonce is the MessageId, then bit 0 for the server and bit 1 for CANCEL") {
  // smb311-encrypted frame 5: the final SESSION_SETUP response, MessageId 2.
  CHECK(to_hex(gmac_nonce(test::capture_frame("smb311-encrypted", 5))) == "020000000000000001000000");
  // Frame 6: the TREE_CONNECT request, MessageId 3.
  Bytes request = test::capture_frame("smb311-encrypted", 6);
  CHECK(to_hex(gmac_nonce(request)) == "030000000000000000000000");
  store_le16(&request[12], static_cast<std::uint16_t>(wire::Command::cancel));
  CHECK(to_hex(gmac_nonce(request)) == "030000000000000002000000");
}

TEST_CASE("the GMAC signatures of smb311-encrypted frames 5 and 6 are reproduced") {
  const Bytes response = test::capture_frame("smb311-encrypted", 5);
  const Bytes request = test::capture_frame("smb311-encrypted", 6);
  CHECK(to_hex(compute_signature(SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey, response)) ==
        "70e6d7c16be9fc9a95e2b44c7e3054a5");
  CHECK(to_hex(compute_signature(SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey, request)) ==
        "e166e68bd91f948f05adf2caa2a59c9c");
  CHECK(signature_field(response) == "70e6d7c16be9fc9a95e2b44c7e3054a5");
  CHECK(signature_field(request) == "e166e68bd91f948f05adf2caa2a59c9c");
}

TEST_CASE("the CMAC signature of smb302-signed frame 6 is reproduced") {
  const Bytes request = test::capture_frame("smb302-signed", 6);
  CHECK(to_hex(compute_signature(SigningAlgorithm::aes_cmac, kSmb302SigningKey, request)) ==
        "a6b01d45dbe50c9b708d82b1a4eab1c4");
  CHECK(verify_signature(SigningAlgorithm::aes_cmac, kSmb302SigningKey, request));
}

TEST_CASE("every signed message of the three captures verifies") {
  // Compound members are verified one by one, each with its padding (3.1.4.1).
  const Tally ops = verify_capture("smb311-signed-ops", SigningAlgorithm::aes_gmac, kSmb311SignedOpsSigningKey);
  CHECK(ops.signed_messages >= 81);
  CHECK(ops.verified == ops.signed_messages);
  const Tally encrypted =
      verify_capture("smb311-encrypted", SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey);
  CHECK(encrypted.signed_messages > 0);
  CHECK(encrypted.verified == encrypted.signed_messages);
  const Tally cmac = verify_capture("smb302-signed", SigningAlgorithm::aes_cmac, kSmb302SigningKey);
  CHECK(cmac.signed_messages > 0);
  CHECK(cmac.verified == cmac.signed_messages);
}

TEST_CASE("a signed capture message verifies under its algorithm only") {
  const Bytes request = test::capture_frame("smb311-encrypted", 6);
  CHECK(verify_signature(SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey, request));
  CHECK_FALSE(verify_signature(SigningAlgorithm::aes_cmac, kSmb311EncryptedSigningKey, request));
  CHECK_FALSE(verify_signature(SigningAlgorithm::hmac_sha256, kSmb311EncryptedSigningKey, request));
  CHECK_FALSE(verify_signature(SigningAlgorithm::aes_gmac, kSmb311SignedOpsSigningKey, request));
}

TEST_CASE("a flipped bit anywhere in a signed message fails verification") {
  struct Case {
    std::string_view capture;
    std::size_t index;
    SigningAlgorithm algorithm;
    const Bytes& key;
  };
  const Case cases[] = {{"smb311-encrypted", 6, SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey},
                        {"smb311-encrypted", 5, SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey},
                        {"smb302-signed", 6, SigningAlgorithm::aes_cmac, kSmb302SigningKey}};
  for (const auto& c : cases) {
    const Bytes good = test::capture_frame(c.capture, c.index);
    REQUIRE(verify_signature(c.algorithm, c.key, good));
    int accepted = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
      Bytes bad = good;
      bad[i] ^= 0x01;
      if (verify_signature(c.algorithm, c.key, bad)) ++accepted;
    }
    CAPTURE(c.capture);
    CAPTURE(c.index);
    CHECK(accepted == 0);
  }
}

TEST_CASE("the Signature field's contents do not change the computed signature") {
  Bytes request = test::capture_frame("smb311-encrypted", 6);
  const auto before = compute_signature(SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey, request);
  std::fill(request.begin() + wire::kSignatureOffset, request.begin() + wire::kSignatureOffset + 16, 0xA5);
  CHECK(compute_signature(SigningAlgorithm::aes_gmac, kSmb311EncryptedSigningKey, request) == before);
}

TEST_CASE("sign_message sets SMB2_FLAGS_SIGNED and writes a signature that verifies") {
  for (auto algorithm : {SigningAlgorithm::hmac_sha256, SigningAlgorithm::aes_cmac, SigningAlgorithm::aes_gmac}) {
    CAPTURE(static_cast<int>(algorithm));
    Bytes message = test::capture_frame("smb302-signed", 6);
    const std::uint32_t flags = load_le32(&message[wire::kFlagsOffset]) & ~wire::flags::is_signed;
    store_le32(&message[wire::kFlagsOffset], flags);
    std::fill(message.begin() + wire::kSignatureOffset, message.begin() + wire::kSignatureOffset + 16, 0);
    const Bytes key = test::hex("00112233445566778899aabbccddeeff");
    sign_message(algorithm, key, message);
    CHECK(load_le32(&message[wire::kFlagsOffset]) == (flags | wire::flags::is_signed));
    CHECK(signature_field(message) != std::string(32, '0'));
    CHECK(verify_signature(algorithm, key, message));
    message.back() ^= 0x80;
    CHECK_FALSE(verify_signature(algorithm, key, message));
  }
}

TEST_CASE("the smb302 capture frame re-signed with its own key gets its captured signature back") {
  Bytes message = test::capture_frame("smb302-signed", 6);
  const std::string captured = signature_field(message);
  std::fill(message.begin() + wire::kSignatureOffset, message.begin() + wire::kSignatureOffset + 16, 0);
  sign_message(SigningAlgorithm::aes_cmac, kSmb302SigningKey, message);
  CHECK(signature_field(message) == captured);
}

TEST_CASE("an HMAC-SHA256 signature is the first 16 bytes of HMAC over the message with a zero Signature") {
  // MS-SMB2 3.1.4.1 for 2.0.2/2.1; there is no 2.x capture, so the reference
  // is the HMAC primitive checked against RFC 4231 above.
  Bytes message = test::capture_frame("smb302-signed", 6);
  const Bytes session_key = test::hex("b9193fb54cd679f7ca3955471fff836d");
  const auto signature = compute_signature(SigningAlgorithm::hmac_sha256, session_key, message);
  std::fill(message.begin() + wire::kSignatureOffset, message.begin() + wire::kSignatureOffset + 16, 0);
  const auto digest = hmac_sha256(session_key, one(message));
  CHECK(to_hex(signature) == to_hex(ByteView{digest}.first(16)));
}

TEST_CASE("signing a large WRITE-sized message gives the same signature as MACing a zeroed copy") {
  // The signer feeds the message in pieces around the Signature field instead
  // of copying it; check that against a plain MAC of a zeroed copy.
  Bytes message = test::capture_frame("smb302-signed", 6);
  message.resize(wire::kHeaderSize + (1u << 20) + 13);
  random_bytes(std::span{message}.subspan(wire::kHeaderSize));
  const Bytes key = test::hex("00112233445566778899aabbccddeeff");
  Bytes zeroed = message;
  std::fill(zeroed.begin() + wire::kSignatureOffset, zeroed.begin() + wire::kSignatureOffset + 16, 0);
  CHECK(compute_signature(SigningAlgorithm::aes_cmac, key, message) == aes_cmac(key, one(zeroed)));
  CHECK(compute_signature(SigningAlgorithm::aes_gmac, key, message) == aes_gmac(key, gmac_nonce(message), one(zeroed)));
}

TEST_CASE("a message shorter than an SMB2 header never verifies") {
  const Bytes request = test::capture_frame("smb311-encrypted", 6);
  for (std::size_t n : {0u, 1u, 48u, 63u}) {
    CAPTURE(n);
    CHECK_FALSE(verify_signature(SigningAlgorithm::aes_cmac, kSmb302SigningKey, ByteView{request}.first(n)));
  }
}

TEST_CASE("a signature over pieces equals the one over the whole message, every algorithm and split") {
  // The WRITE path signs [header + fixed part, data] without joining them.
  // Every split point from the end of the header on, including none (one
  // piece), an empty piece, and a three-way split.
  Bytes message = test::capture_frame("smb302-signed", 6);
  message.resize(wire::kHeaderSize + 48 + 4099);
  random_bytes(std::span{message}.subspan(wire::kHeaderSize));
  std::fill(message.begin() + wire::kSignatureOffset, message.begin() + wire::kSignatureOffset + 16, 0x5A);
  const Bytes key = test::hex("00112233445566778899aabbccddeeff");
  const ByteView all{message};
  for (auto algorithm : {SigningAlgorithm::hmac_sha256, SigningAlgorithm::aes_cmac, SigningAlgorithm::aes_gmac}) {
    CAPTURE(static_cast<int>(algorithm));
    const Signature whole = compute_signature(algorithm, key, all);
    int differing = 0;
    for (std::size_t at = wire::kHeaderSize; at <= message.size(); at += (at < 200 ? 1 : 509)) {
      const std::array two{all.first(at), all.subspan(at)};
      if (compute_signature(algorithm, key, two) != whole) ++differing;
      const std::array three{all.first(at), all.subspan(at, 0), all.subspan(at)};
      if (compute_signature(algorithm, key, three) != whole) ++differing;
    }
    CHECK(differing == 0);
    const std::array split3{all.first(wire::kHeaderSize), all.subspan(wire::kHeaderSize, 17),
                            all.subspan(wire::kHeaderSize + 17)};
    CHECK(compute_signature(algorithm, key, split3) == whole);
    // More pieces than the signer keeps inline.
    std::vector<ByteView> many{all.first(wire::kHeaderSize + 1)};
    for (std::size_t at = wire::kHeaderSize + 1; at < message.size(); at += 700)
      many.push_back(all.subspan(at, std::min<std::size_t>(700, message.size() - at)));
    REQUIRE(many.size() > 6);
    CHECK(compute_signature(algorithm, key, many) == whole);
    // A different tail changes it: the pieces after the first are really MACed.
    Bytes other_tail(all.begin() + 100, all.end());
    other_tail.back() ^= 1;
    const std::array changed{all.first(100), ByteView{other_tail}};
    CHECK(compute_signature(algorithm, key, changed) != whole);
  }
}

TEST_CASE("sign_message over a head and pieces writes what signing the joined message writes") {
  const Bytes key = test::hex("00112233445566778899aabbccddeeff");
  Bytes message = test::capture_frame("smb302-signed", 6);
  message.resize(wire::kHeaderSize + 48 + 70000);
  random_bytes(std::span{message}.subspan(wire::kHeaderSize));
  store_le32(&message[wire::kFlagsOffset], load_le32(&message[wire::kFlagsOffset]) & ~wire::flags::is_signed);
  for (auto algorithm : {SigningAlgorithm::hmac_sha256, SigningAlgorithm::aes_cmac, SigningAlgorithm::aes_gmac}) {
    CAPTURE(static_cast<int>(algorithm));
    Bytes joined = message;
    sign_message(algorithm, key, joined);
    Bytes head(message.begin(), message.begin() + wire::kHeaderSize + 48);
    const ByteView data = ByteView{message}.subspan(head.size());
    const std::array rest{data.first(1000), data.subspan(1000)};
    sign_message(algorithm, key, head, rest);
    CHECK(to_hex(head) == to_hex(ByteView{joined}.first(head.size())));
    CHECK((load_le32(&head[wire::kFlagsOffset]) & wire::flags::is_signed) != 0);
    // The data pieces were read, not written.
    CHECK(to_hex(data) == to_hex(ByteView{joined}.subspan(head.size())));
    CHECK(verify_signature(algorithm, key, joined));
    // No rest at all: the head alone is the message.
    Bytes alone(message.begin(), message.begin() + wire::kHeaderSize + 48);
    Bytes alone_joined = alone;
    sign_message(algorithm, key, alone, std::span<const ByteView>{});
    sign_message(algorithm, key, alone_joined);
    CHECK(alone == alone_joined);
  }
}

TEST_CASE("signing pieces whose first piece does not hold the whole header is refused") {
  // The contract: the Signature field and the GMAC nonce are read from the
  // first piece. A split inside the header is a caller bug, and the signer
  // aborts rather than sign something else (checked in a child process).
  Bytes message = test::capture_frame("smb302-signed", 6);
  const ByteView all{message};
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::freopen("/dev/null", "w", stderr);
    const std::array split{all.first(wire::kSignatureOffset + 8), all.subspan(wire::kSignatureOffset + 8)};
    (void)compute_signature(SigningAlgorithm::aes_cmac, kSmb302SigningKey, split);
    std::_Exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}
