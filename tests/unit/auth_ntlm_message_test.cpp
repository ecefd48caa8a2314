#include <doctest/doctest.h>

#include "auth/ntlm_message.hpp"
#include "support/ntlm_capture.hpp"
#include "support/test_data.hpp"
#include "support/wire_errors.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::failed_with;
using smbx::test::hex;

namespace {

// MS-NLMP 4.2.4.3 (via Chromium's kChallengeMsgFromSpecV2), ntlm.md §7.
constexpr std::string_view kSpecChallenge =
    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"
    "00000000000000002400240044000000060070170000000f5300650072007600"
    "6500720002000c0044006f006d00610069006e0001000c005300650072007600"
    "6500720000000000";

// Capture smb311-encrypted, ntlm.md §8.
constexpr std::string_view kCaptureNegotiate = test::ntlm_capture::kNegotiate;
constexpr std::string_view kCaptureChallenge = test::ntlm_capture::kChallenge;
constexpr std::string_view kCaptureAuthenticate = test::ntlm_capture::kAuthenticate;

}  // namespace

TEST_CASE("the MS-NLMP 4.2.4.3 CHALLENGE_MESSAGE decodes to its documented fields") {
  const auto bytes = hex(kSpecChallenge);
  auto msg = decode_challenge(bytes);
  REQUIRE(msg);
  CHECK(msg->negotiate_flags == 0xE28A8233);
  CHECK(msg->target_name == u"Server");
  CHECK(to_hex(msg->server_challenge) == "0123456789abcdef");
  REQUIRE(msg->version);
  CHECK(msg->version->product_major_version == 6);
  CHECK(msg->version->product_minor_version == 0);
  CHECK(msg->version->product_build == 6000);
  CHECK(msg->version->ntlm_revision_current == 0x0F);
  REQUIRE(msg->target_info.size() == 2);
  CHECK(msg->target_info[0].av_id == static_cast<std::uint16_t>(AvId::msv_av_nb_domain_name));
  CHECK(msg->target_info[0].value == utf16le_bytes(u"Domain"));
  CHECK(msg->target_info[1].av_id == static_cast<std::uint16_t>(AvId::msv_av_nb_computer_name));
  CHECK(msg->target_info[1].value == utf16le_bytes(u"Server"));
  CHECK(encode_challenge(*msg) == bytes);
}

TEST_CASE("Samba's NEGOTIATE, CHALLENGE and AUTHENTICATE re-encode to the captured bytes") {
  const auto negotiate = hex(kCaptureNegotiate);
  auto n = decode_negotiate(negotiate);
  REQUIRE(n);
  CHECK(n->negotiate_flags == 0x62088215);
  CHECK(n->version == Version{6, 1, 0, 0x0F});
  CHECK(encode_negotiate(*n) == negotiate);

  const auto challenge = hex(kCaptureChallenge);
  auto c = decode_challenge(challenge);
  REQUIRE(c);
  CHECK(c->negotiate_flags == 0x628A8215);
  CHECK(c->target_name == u"CAPSRV");
  CHECK(to_hex(c->server_challenge) == "a571b7f9c30e5118");
  CHECK(av_pair_timestamp(c->target_info) == 0x01dd7c19b985b398ull);
  CHECK(encode_challenge(*c) == challenge);

  const auto authenticate = hex(kCaptureAuthenticate);
  auto a = decode_authenticate(authenticate);
  REQUIRE(a);
  CHECK(a->user_name == u"alice");
  CHECK(a->domain_name == u"TESTDOM");
  CHECK(a->workstation == u"VM");
  CHECK(a->lm_challenge_response == Bytes(24, 0));  // Z(24): the server sent MsvAvTimestamp
  CHECK(a->nt_challenge_response.size() == 216);
  CHECK(to_hex(a->encrypted_random_session_key) == "847051c3a62bc1d0c2b13b04207f88bf");
  CHECK(a->has_mic_field);
  CHECK(to_hex(a->mic) == "a65db0a1bd15e5335b46f57d1035bc0d");
  CHECK(a->raw == authenticate);
  CHECK(encode_authenticate(*a) == authenticate);
}

TEST_CASE("the captured NTLMv2 client challenge decodes, MIC flag and target name included") {
  auto a = decode_authenticate(hex(kCaptureAuthenticate));
  REQUIRE(a);
  auto blob = decode_ntlmv2_client_challenge(ByteView{a->nt_challenge_response}.subspan(16));
  REQUIRE(blob);
  CHECK(blob->time_stamp == 0x01dd7c19b985b398ull);
  CHECK(to_hex(blob->challenge_from_client) == "fa2dca228050d686");
  CHECK(av_pair_flags(blob->av_pairs) == av_flags::mic_present);
  const auto* target = find_av_pair(blob->av_pairs, AvId::msv_av_target_name);
  REQUIRE(target != nullptr);
  CHECK(target->value == utf16le_bytes(u"cifs/127.0.0.1"));
}

TEST_CASE("an NTLMv2 blob shorter than its 28-byte header is refused") {
  Bytes blob(27, 0);
  blob[0] = blob[1] = 1;
  auto r = decode_ntlmv2_client_challenge(blob);
  REQUIRE_FALSE(r);
  CHECK(failed_with(r.error(), WireError::truncated));
  // 28 bytes plus an EOL is the smallest valid blob.
  blob.resize(32, 0);
  CHECK(decode_ntlmv2_client_challenge(blob).has_value());
}

TEST_CASE("an AV_PAIR list without MsvAvEOL is refused") {
  const auto no_eol = hex("02000400410042000100020043");  // second pair's AvLen 2 > 1 byte left
  CHECK(failed_with(decode_av_pairs(no_eol).error(), WireError::truncated));
  const auto ends_early = hex("0200040041004200");  // one pair, then nothing
  CHECK(failed_with(decode_av_pairs(ends_early).error(), WireError::truncated));
  CHECK(decode_av_pairs(hex("020004004100420000000000"))->size() == 1);
}

TEST_CASE("an AV_PAIR whose AvLen runs past the list is refused") {
  for (std::string_view list : {"0200ffff41004200",           // 65535 bytes claimed
                                "020005004100420000000000"})  // 5 bytes claimed: eats into the EOL
  {
    CAPTURE(list);
    CHECK_FALSE(decode_av_pairs(hex(list)).has_value());
  }
}

TEST_CASE("MsvAvFlags and MsvAvTimestamp of the wrong size are refused") {
  CHECK(failed_with(decode_av_pairs(hex("06000200020000000000")).error(), WireError::bad_length));
  CHECK(failed_with(decode_av_pairs(hex("0700040001020304"
                                        "00000000"))
                        .error(),
                    WireError::bad_length));
}

TEST_CASE("AUTHENTICATE field descriptors pointing outside the message are refused") {
  const auto good = hex(kCaptureAuthenticate);
  struct Case {
    std::size_t descriptor;  // offset of the field descriptor in the message
    std::uint16_t len;
    std::uint32_t offset;
    WireError expected;
    const char* why;
  };
  const Case cases[] = {
      {20, 0xD8, 0xFFFFFFFF, WireError::truncated,
       "NtChallengeResponse offset at 4 GiB - 1: offset + len wraps in 32 bits"},
      {20, 0xD8, 0xFFFFFF40, WireError::truncated, "offset + len wraps to exactly 0x18 in 32 bits"},
      {52, 0x10, 0x165, WireError::truncated, "EncryptedRandomSessionKey one byte past the end"},
      {12, 0x18, 0x28, WireError::bad_offset, "LmChallengeResponse inside the fixed part"},
      {28, 0x0E, 0x00, WireError::bad_offset, "DomainName at offset 0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.why);
    auto bytes = good;
    store_le16(&bytes[c.descriptor], c.len);
    store_le16(&bytes[c.descriptor + 2], c.len);
    store_le32(&bytes[c.descriptor + 4], c.offset);
    auto r = decode_authenticate(bytes);
    REQUIRE_FALSE(r);
    CHECK(failed_with(r.error(), c.expected));
  }
  // The last field ending exactly at the end of the message is fine.
  auto exact = good;
  store_le32(&exact[52 + 4], 0x164);
  CHECK(decode_authenticate(exact).has_value());
}

TEST_CASE("a UserName of odd length is refused as UTF-16") {
  auto bytes = hex(kCaptureAuthenticate);
  store_le16(&bytes[36], 9);  // "alice" is 10 bytes
  auto r = decode_authenticate(bytes);
  REQUIRE_FALSE(r);
  CHECK(failed_with(r.error(), WireError::bad_length));
}

TEST_CASE("CHALLENGE TargetInfo and NEGOTIATE fields pointing outside the message are refused") {
  auto challenge = hex(kCaptureChallenge);
  store_le16(&challenge[40], 0x3d);  // TargetInfoLen one byte longer than the message holds
  CHECK(failed_with(decode_challenge(challenge).error(), WireError::truncated));

  // A NEGOTIATE that claims an OEM workstation name after its end.
  auto negotiate = hex(kCaptureNegotiate);
  store_le32(&negotiate[12], 0x62088215 | ntlmssp::negotiate_oem_workstation_supplied);
  store_le16(&negotiate[24], 4);
  CHECK(failed_with(decode_negotiate(negotiate).error(), WireError::truncated));
}

TEST_CASE("messages with the wrong signature, type or size are refused") {
  auto bad_signature = hex(kCaptureChallenge);
  bad_signature[0] = 'X';
  CHECK(failed_with(decode_challenge(bad_signature).error(), WireError::bad_protocol_id));
  CHECK(failed_with(decode_challenge(hex(kCaptureNegotiate)).error(), WireError::truncated));     // 40 < 48
  CHECK(failed_with(decode_authenticate(hex(kCaptureChallenge)).error(), WireError::bad_value));  // type 2
  CHECK(failed_with(decode_negotiate(hex("4e544c4d5353500001000000")).error(), WireError::truncated));
  CHECK(ntlm_message_type(hex(kCaptureAuthenticate)) == 3u);
  CHECK_FALSE(ntlm_message_type(hex("4e544c4d53535000")).has_value());
}

TEST_CASE("an AUTHENTICATE whose payload starts inside the MIC field has no MIC field") {
  // MS-NLMP 2.2.1.3: older clients put the payload at 72 (after VERSION).
  AuthenticateMessage a;
  a.negotiate_flags = ntlmssp::negotiate_unicode | ntlmssp::negotiate_version;
  a.version = Version{};
  a.user_name = u"bob";
  a.nt_challenge_response = Bytes(48, 1);
  const auto bytes = encode_authenticate(a);
  CHECK(load_le32(&bytes[20 + 4]) == 72);
  auto back = decode_authenticate(bytes);
  REQUIRE(back);
  CHECK_FALSE(back->has_mic_field);
  CHECK(back->user_name == u"bob");
}
