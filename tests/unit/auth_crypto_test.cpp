#include <doctest/doctest.h>

#include <string_view>

#include "auth/ntlm_crypto.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::hex;

namespace {

ByteView ascii(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return to_hex(a);
}

}  // namespace

TEST_CASE("the OpenSSL legacy provider loads, so MD4 and RC4 are available") {
  CHECK(ensure_ntlm_crypto().has_value());
}

TEST_CASE("MD4 matches the RFC 1320 test suite") {
  CHECK(hex_of(md4(ascii(""))) == "31d6cfe0d16ae931b73c59d7e0c089c0");
  CHECK(hex_of(md4(ascii("abc"))) == "a448017aaf21d8525fc10ae87aa6729d");
  CHECK(hex_of(md4(ascii("message digest"))) == "d9130a8164549fe818874806e1c7014b");
}

TEST_CASE("MD5 and HMAC-MD5 match RFC 1321 and RFC 2202") {
  CHECK(hex_of(md5(ascii(""))) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(hex_of(md5({ascii("a"), ascii("bc")})) == "900150983cd24fb0d6963f7d28e17f72");  // parts concatenate
  CHECK(hex_of(hmac_md5(ascii("Jefe"), ascii("what do ya want for nothing?"))) ==
        "750c783e6ab0b503eaa86e310a5db738");
  const Bytes key(16, 0x0b);
  CHECK(hex_of(hmac_md5(key, ascii("Hi There"))) == "9294727a3638bb1c13f48ef8158bfc9d");
}

TEST_CASE("HMAC-MD5 with an empty key equals HMAC-MD5 with a zero key") {
  // RFC 2104: the key is zero-padded to the block size.
  const Bytes zero(16, 0);
  CHECK(hmac_md5(ByteView{}, ascii("data")) == hmac_md5(zero, ascii("data")));
}

TEST_CASE("one-shot RC4 reproduces the MS-NLMP 4.2.4.2.3 encrypted session key") {
  const auto key = hex("8de40ccadbc14a82f15cb0ad0de95ca3");
  const Bytes random_session_key(16, 0x55);
  CHECK(to_hex(rc4(key, random_session_key)) == "c5dad2544fc9799094ce1ce90bc9d03e");
  // The classic "Key"/"Plaintext" vector, with a 3-byte key.
  CHECK(to_hex(rc4(ascii("Key"), ascii("Plaintext"))) == "bbf316e8d940af0ad3");
}

TEST_CASE("a stateful RC4 handle continues its keystream across calls") {
  const auto key = hex("59f600973cc4960a25480a7c196e4c58");
  const Bytes data(40, 0x42);
  const auto whole = rc4(key, data);
  Rc4 handle{key};
  auto first = handle.process(ByteView{data}.first(13));
  auto second = handle.process(ByteView{data}.subspan(13));
  first.insert(first.end(), second.begin(), second.end());
  CHECK(first == whole);
  // Applying the same keystream again decrypts.
  CHECK(rc4(key, whole) == data);
}
