// MS-NLMP 4.2 test vectors and the values derived from the smb311-encrypted
// capture (ntlm.md §7 and §8).
#include <doctest/doctest.h>

#include "auth/ntlm.hpp"
#include "auth/unicode_case.hpp"
#include "support/ntlm_capture.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::hex;

namespace {

using test::ntlm_capture::unhex;

// MS-NLMP 4.2.1 common inputs.
const Challenge8 kServerChallenge = to_array<8>(unhex("0123456789abcdef"));
const Challenge8 kClientChallenge = to_array<8>(unhex("aaaaaaaaaaaaaaaa"));
constexpr std::uint32_t kSpecFlags = 0xE28A8233;

Key16 spec_response_key() { return ntowfv2(nt_hash_from_password("Password"), u"User", u"Domain"); }

Bytes spec_av_pairs() {
  return encode_av_pairs(
      {{static_cast<std::uint16_t>(AvId::msv_av_nb_domain_name), utf16le_bytes(u"Domain")},
       {static_cast<std::uint16_t>(AvId::msv_av_nb_computer_name), utf16le_bytes(u"Server")}});
}

// ntlm.md §8.
const auto kCapNegotiate = unhex(test::ntlm_capture::kNegotiate);
const auto kCapChallenge = unhex(test::ntlm_capture::kChallenge);
const auto kCapAuthenticate = unhex(test::ntlm_capture::kAuthenticate);
const auto kCapMechTypeList = unhex(test::ntlm_capture::kMechTypeList);
const Key16 kCapExportedSessionKey = to_array<16>(unhex("4d0268b0ed6a3a656b0d9d27e621b64d"));

}  // namespace

TEST_CASE("NTOWFv1 of \"Password\" is the MS-NLMP 4.2.2.1.2 value") {
  CHECK(to_hex(nt_hash_from_password("Password")) == "a4f49c406510bdcab6824ee7c30fd852");
}

TEST_CASE("NTOWFv2 of User/Domain/Password is the MS-NLMP 4.2.4.1.1 value") {
  CHECK(to_hex(spec_response_key()) == "0c868a403bfd7a93a3001ef22ef02e3f");
}

TEST_CASE("NTOWFv2 uppercases the user but not the domain") {
  const auto hash = nt_hash_from_password("Password");
  CHECK(ntowfv2(hash, u"user", u"Domain") == ntowfv2(hash, u"USER", u"Domain"));
  CHECK(ntowfv2(hash, u"User", u"domain") != ntowfv2(hash, u"User", u"Domain"));
}

TEST_CASE("temp, NTProofStr, session base key and LMv2 match MS-NLMP 4.2.4") {
  const auto temp = ntlmv2_temp(0, kClientChallenge, spec_av_pairs());
  CHECK(to_hex(temp) ==
        "0101000000000000"
        "0000000000000000"
        "aaaaaaaaaaaaaaaa"
        "00000000"
        "02000c0044006f006d00610069006e00"
        "01000c00530065007200760065007200"
        "00000000"
        "00000000");
  const auto proof = nt_proof_str(spec_response_key(), kServerChallenge, temp);
  CHECK(to_hex(proof) == "68cd0ab851e51c96aabc927bebef6a1c");
  CHECK(to_hex(session_base_key(spec_response_key(), proof)) == "8de40ccadbc14a82f15cb0ad0de95ca3");
  CHECK(to_hex(lmv2_response(spec_response_key(), kServerChallenge, kClientChallenge)) ==
        "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
}

TEST_CASE("the encrypted random session key matches MS-NLMP 4.2.4.2.3") {
  const auto proof =
      nt_proof_str(spec_response_key(), kServerChallenge, ntlmv2_temp(0, kClientChallenge, spec_av_pairs()));
  const auto key_exchange_key = session_base_key(spec_response_key(), proof);
  CHECK(to_hex(rc4(key_exchange_key, Bytes(16, 0x55))) == "c5dad2544fc9799094ce1ce90bc9d03e");
}

TEST_CASE("seal and sign keys match MS-NLMP 4.2.4.4") {
  const Key16 exported{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                       0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
  CHECK(to_hex(seal_key(exported, kSpecFlags, Direction::client_to_server)) ==
        "59f600973cc4960a25480a7c196e4c58");
  CHECK(to_hex(sign_key(exported, Direction::client_to_server)) == "4788dc861b4782f35d43fd98fe1a2d39");
  // Without NEGOTIATE_128 the key is cut to 7 (56-bit) or 5 bytes before hashing (3.4.5.3).
  const auto k56 = seal_key(exported, ntlmssp::negotiate_56, Direction::client_to_server);
  const auto k40 = seal_key(exported, 0, Direction::client_to_server);
  CHECK(k56 != k40);
  CHECK(k56 != seal_key(exported, kSpecFlags, Direction::client_to_server));
}

TEST_CASE("GSS_WrapEx of \"Plaintext\" gives the MS-NLMP 4.2.4.4 sealed data and signature") {
  const Key16 exported{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                       0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
  const auto plaintext = utf16le_bytes(u"Plaintext");
  // The unencrypted checksum: HMAC_MD5(SignKey, SeqNum || msg)[0..7].
  const auto mac = hmac_md5(sign_key(exported, Direction::client_to_server), {hex("00000000"), plaintext});
  CHECK(to_hex(ByteView{mac}.first(8)) == "70352851f2564309");

  NtlmSessionSecurity client{exported, kSpecFlags, true};
  const auto wrapped = client.wrap(plaintext);
  CHECK(to_hex(wrapped.sealed) == "54e50165bf1936dc996020c1811b0f06fb5f");
  CHECK(to_hex(wrapped.signature) == "010000007fb38ec5c55d497600000000");

  NtlmSessionSecurity server{exported, kSpecFlags, false};
  auto unwrapped = server.unwrap(wrapped.sealed, wrapped.signature);
  REQUIRE(unwrapped);
  CHECK(*unwrapped == plaintext);
}

TEST_CASE("the capture's ResponseKeyNT, NTProofStr and SessionBaseKey reproduce from the password") {
  auto auth = decode_authenticate(kCapAuthenticate);
  auto challenge = decode_challenge(kCapChallenge);
  REQUIRE(auth);
  REQUIRE(challenge);
  const auto response_key = ntowfv2(nt_hash_from_password("Passw0rd!"), auth->user_name, auth->domain_name);
  CHECK(to_hex(response_key) == "ca4284f5a4360b68310d83d7bf754608");
  const ByteView blob = ByteView{auth->nt_challenge_response}.subspan(16);
  const auto proof = nt_proof_str(response_key, challenge->server_challenge, blob);
  CHECK(to_hex(proof) == "9a6f291d9afbe19e56e503c761690e5a");
  CHECK(to_hex(ByteView{auth->nt_challenge_response}.first(16)) == to_hex(proof));
  const auto base = session_base_key(response_key, proof);
  CHECK(to_hex(base) == "ef278fb6dbd2ced8f16c05c8438eead6");
  CHECK(to_hex(rc4(base, auth->encrypted_random_session_key)) == "4d0268b0ed6a3a656b0d9d27e621b64d");
}

TEST_CASE("the capture's MIC reproduces over the three messages with the MIC zeroed") {
  auto zeroed = kCapAuthenticate;
  std::fill_n(zeroed.begin() + AuthenticateMessage::kMicOffset, AuthenticateMessage::kMicSize, 0);
  CHECK(to_hex(compute_mic(kCapExportedSessionKey, kCapNegotiate, kCapChallenge, zeroed)) ==
        "a65db0a1bd15e5335b46f57d1035bc0d");
}

TEST_CASE("both mechListMICs of the capture reproduce with GetMIC") {
  const std::uint32_t flags = 0x62088215;
  NtlmSessionSecurity client{kCapExportedSessionKey, flags, true};
  NtlmSessionSecurity server{kCapExportedSessionKey, flags, false};
  CHECK(to_hex(client.sign(kCapMechTypeList)) == "0100000008b58d2915d6a43e00000000");
  CHECK(to_hex(server.sign(kCapMechTypeList)) == "01000000ed1cbd2199e339ff00000000");
}

TEST_CASE("GetMIC verifies on the other side and a changed byte is refused") {
  NtlmSessionSecurity client{kCapExportedSessionKey, 0x62088215, true};
  NtlmSessionSecurity server{kCapExportedSessionKey, 0x62088215, false};
  const auto sig = client.sign(kCapMechTypeList);
  CHECK(server.verify(kCapMechTypeList, sig).has_value());

  NtlmSessionSecurity client2{kCapExportedSessionKey, 0x62088215, true};
  NtlmSessionSecurity server2{kCapExportedSessionKey, 0x62088215, false};
  auto tampered = client2.sign(kCapMechTypeList);
  tampered[5] ^= 1;
  CHECK_FALSE(server2.verify(kCapMechTypeList, tampered).has_value());
}

TEST_CASE("user names are uppercased with Unicode simple case mapping") {
  CHECK(to_upper_simple(u"alice") == u"ALICE");
  CHECK(to_upper_simple(u"J\u00f6rg") == u"J\u00d6RG");                    // Latin-1
  CHECK(to_upper_simple(u"\u00ff") == u"\u0178");                          // y diaeresis leaves Latin-1
  CHECK(to_upper_simple(u"\u00e0\u00fe\u00f7") == u"\u00c0\u00de\u00f7");  // division sign has no case
  CHECK(to_upper_simple(u"\u0142ukasz") == u"\u0141UKASZ");                // Latin Extended-A
  CHECK(to_upper_simple(u"\u03b1\u03c2") == u"\u0391\u03a3");              // Greek, final sigma
  CHECK(to_upper_simple(u"\u0434\u0456\u043c\u0430") == u"\u0414\u0406\u041c\u0410");  // Cyrillic
  CHECK(to_upper_simple(u"stra\u00dfe") == u"STRA\u00dfE");        // sharp s: no single-character uppercase
  CHECK(to_upper_simple(u"\uff41") == u"\uff21");                  // fullwidth
  CHECK(to_upper_simple(u"ABC-123_\u00c9") == u"ABC-123_\u00c9");  // already upper
}
