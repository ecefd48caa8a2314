// NtlmClient against NtlmServer, and NtlmServer against Samba's captured
// client messages (ntlm.md §8).
#include <doctest/doctest.h>

#include "auth/ntlm.hpp"
#include "support/ntlm_capture.hpp"
#include "support/test_data.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::hex;

namespace {

using test::ntlm_capture::unhex;

const auto kCapNegotiate = unhex(test::ntlm_capture::kNegotiate);
const auto kCapChallenge = unhex(test::ntlm_capture::kChallenge);
const auto kCapAuthenticate = unhex(test::ntlm_capture::kAuthenticate);
const auto kMechTypeList = unhex(test::ntlm_capture::kMechTypeList);

NtHashLookup alice_lookup(std::string password = "Passw0rd!") {
  return [hash = nt_hash_from_password(password)](std::u16string_view user,
                                                  std::u16string_view) -> std::optional<NtHash> {
    if (user == u"alice" || user == u"ALICE") return hash;
    return std::nullopt;
  };
}

NtlmServerConfig server_config(std::string password = "Passw0rd!") {
  NtlmServerConfig config;
  config.lookup = alice_lookup(std::move(password));
  config.nb_computer_name = "FS1";
  config.nb_domain_name = "TESTDOM";
  config.dns_computer_name = "fs1.test.example";
  config.dns_domain_name = "test.example";
  return config;
}

NtlmServer capture_server() { return test::ntlm_capture::capture_server(alice_lookup()); }

NtlmClient alice(std::string password = "Passw0rd!", std::string domain = "TESTDOM") {
  return NtlmClient{Credentials{"alice", std::move(domain), std::move(password)}, "WS1", "cifs/fs1"};
}

struct Exchange {
  Bytes negotiate, challenge, authenticate;
};

Exchange run(NtlmClient& client, NtlmServer& server) {
  Exchange x;
  x.negotiate = client.negotiate_message();
  auto challenge = server.challenge(x.negotiate);
  REQUIRE(challenge);
  x.challenge = *challenge;
  auto authenticate = client.authenticate(x.challenge);
  REQUIRE(authenticate);
  x.authenticate = *authenticate;
  return x;
}

bool is_logon_failure(const Error& e) {
  return e.kind == ErrorKind::auth && e.status == wire::status::LOGON_FAILURE;
}

// Rewrites an AUTHENTICATE and signs it again with the MIC, as a client that
// really sent those bytes would have.
Bytes remic(const Exchange& x, AuthenticateMessage auth, const Key16& exported_session_key) {
  auth.mic = {};
  auto bytes = encode_authenticate(auth);
  const auto mic = compute_mic(exported_session_key, x.negotiate, x.challenge, bytes);
  std::copy(mic.begin(), mic.end(), bytes.begin() + AuthenticateMessage::kMicOffset);
  return bytes;
}

}  // namespace

TEST_CASE("a client and a server that share the password agree on the session key") {
  auto client = alice();
  NtlmServer server{server_config()};
  const auto x = run(client, server);
  auto result = server.authenticate(x.authenticate);
  REQUIRE(result);
  CHECK(result->user == "alice");
  CHECK(result->domain == "TESTDOM");
  CHECK_FALSE(result->is_anonymous);
  CHECK(result->exported_session_key == client.exported_session_key());
  CHECK(client.sent_mic());
  CHECK(server.client_sent_mic());
  CHECK(client.negotiated_flags() == NtlmClient::kDefaultFlags);
  CHECK(server.negotiated_flags() == NtlmClient::kDefaultFlags);
}

TEST_CASE("mechListMICs made by each side verify on the other") {
  auto client = alice();
  NtlmServer server{server_config()};
  const auto x = run(client, server);
  REQUIRE(server.authenticate(x.authenticate));
  auto client_mic = client.make_mic(kMechTypeList);
  REQUIRE(client_mic);
  CHECK(server.verify_mic(kMechTypeList, *client_mic).has_value());
  auto server_mic = server.make_mic(kMechTypeList);
  REQUIRE(server_mic);
  CHECK(client.verify_mic(kMechTypeList, *server_mic).has_value());
}

TEST_CASE("a wrong password is refused with STATUS_LOGON_FAILURE") {
  auto client = alice("Passw0rd?");
  NtlmServer server{server_config()};
  const auto x = run(client, server);
  auto result = server.authenticate(x.authenticate);
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
  CHECK_FALSE(server.is_complete());
}

TEST_CASE("an unknown user is refused with STATUS_LOGON_FAILURE") {
  NtlmClient client{Credentials{"mallory", "TESTDOM", "Passw0rd!"}, "WS1", "cifs/fs1"};
  NtlmServer server{server_config()};
  const auto x = run(client, server);
  auto result = server.authenticate(x.authenticate);
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("an AUTHENTICATE with a tampered MIC is refused") {
  auto client = alice();
  NtlmServer server{server_config()};
  auto x = run(client, server);
  x.authenticate[AuthenticateMessage::kMicOffset + 3] ^= 0x01;
  auto result = server.authenticate(x.authenticate);
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("a changed workstation name, which NTProofStr does not cover, is caught by the MIC") {
  auto client = alice();
  NtlmServer server{server_config()};
  auto x = run(client, server);
  auto auth = decode_authenticate(x.authenticate);
  REQUIRE(auth);
  auth->workstation = u"WS2";
  auto result = server.authenticate(encode_authenticate(*auth));
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("an AUTHENTICATE whose MsvAvFlags announce a MIC but that has no MIC field is refused") {
  auto client = alice();
  NtlmServer server{server_config()};
  auto x = run(client, server);
  auto auth = decode_authenticate(x.authenticate);
  REQUIRE(auth);
  auth->has_mic_field = false;  // the payload now starts at 72
  auto result = server.authenticate(encode_authenticate(*auth));
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("a client that keyed NTOWFv2 with an empty or uppercased domain is still accepted") {
  // MS-NLMP 3.2.5.1.2: servers SHOULD accept clients that use NIL for UserDom;
  // Samba also retries the uppercased domain.
  struct Case {
    std::string keyed_with;
    std::u16string sent;
  };
  for (const auto& c : {Case{"", u"TESTDOM"}, Case{"TESTDOM", u"testdom"}}) {
    CAPTURE(c.keyed_with);
    auto client = alice("Passw0rd!", c.keyed_with);
    NtlmServer server{server_config()};
    const auto x = run(client, server);
    auto auth = decode_authenticate(x.authenticate);
    REQUIRE(auth);
    auth->domain_name = c.sent;
    auto result = server.authenticate(remic(x, *auth, client.exported_session_key()));
    REQUIRE(result);
    CHECK(result->exported_session_key == client.exported_session_key());
    CHECK(wire::utf16_from_utf8(result->domain) == c.sent);
  }
}

TEST_CASE("an NTLMv1 response is refused") {
  auto client = alice();
  NtlmServer server{server_config()};
  auto x = run(client, server);
  auto auth = decode_authenticate(x.authenticate);
  REQUIRE(auth);
  auth->nt_challenge_response.resize(24);
  auto result = server.authenticate(remic(x, *auth, client.exported_session_key()));
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("a malformed AUTHENTICATE is a wire error with STATUS_INVALID_PARAMETER") {
  auto client = alice();
  NtlmServer server{server_config()};
  auto x = run(client, server);
  store_le32(&x.authenticate[20 + 4], 0xFFFFFFF0);  // NtChallengeResponse offset
  auto result = server.authenticate(x.authenticate);
  REQUIRE_FALSE(result);
  CHECK(result.error().kind == ErrorKind::wire);
  CHECK(result.error().status == wire::status::INVALID_PARAMETER);
}

TEST_CASE("anonymous logon is refused unless the server allows it") {
  for (bool allow : {false, true}) {
    CAPTURE(allow);
    NtlmClient client{Credentials{}, "WS1", "cifs/fs1"};
    auto config = server_config();
    config.allow_anonymous = allow;
    NtlmServer server{config};
    const auto x = run(client, server);
    auto auth = decode_authenticate(x.authenticate);
    REQUIRE(auth);
    CHECK(auth->nt_challenge_response.empty());
    CHECK(auth->lm_challenge_response == Bytes(1, 0));
    CHECK((auth->negotiate_flags & ntlmssp::anonymous) != 0);
    auto result = server.authenticate(x.authenticate);
    CHECK(result.has_value() == allow);
    if (allow) {
      CHECK(result->is_anonymous);
      CHECK(result->exported_session_key == Key16{});
    } else {
      CHECK(is_logon_failure(result.error()));
    }
  }
}

TEST_CASE("the client's AUTHENTICATE carries what MS-NLMP 3.1.5.1.2 asks for") {
  NtlmClient::TestHooks hooks;
  hooks.client_challenge = to_array<8>(hex("0102030405060708"));
  hooks.exported_session_key = to_array<16>(hex("00112233445566778899aabbccddeeff"));
  NtlmClient client{Credentials{"alice", "TESTDOM", "Passw0rd!"}, "WS1", "cifs/fs1", hooks};
  NtlmServer::TestHooks server_hooks;
  server_hooks.time = 0x01d0000000000000ull;
  NtlmServer server{server_config(), server_hooks};
  const auto x = run(client, server);
  auto auth = decode_authenticate(x.authenticate);
  REQUIRE(auth);
  CHECK(auth->lm_challenge_response == Bytes(24, 0));  // Z(24) with a server timestamp
  CHECK(auth->has_mic_field);
  CHECK(auth->workstation == u"WS1");
  auto blob = decode_ntlmv2_client_challenge(ByteView{auth->nt_challenge_response}.subspan(16));
  REQUIRE(blob);
  CHECK(blob->time_stamp == 0x01d0000000000000ull);  // the server's, not the client's clock
  CHECK(to_hex(blob->challenge_from_client) == "0102030405060708");
  CHECK(av_pair_flags(blob->av_pairs) == av_flags::mic_present);
  const auto* bindings = find_av_pair(blob->av_pairs, AvId::msv_av_channel_bindings);
  REQUIRE(bindings != nullptr);
  CHECK(bindings->value == Bytes(16, 0));
  const auto* target = find_av_pair(blob->av_pairs, AvId::msv_av_target_name);
  REQUIRE(target != nullptr);
  CHECK(target->value == utf16le_bytes(u"cifs/fs1"));
  CHECK(auth->encrypted_random_session_key.size() == 16);
  CHECK(to_hex(client.exported_session_key()) == "00112233445566778899aabbccddeeff");
  // The blob ends with the Z(4) of MS-NLMP 3.3.2 temp.
  const auto& nt = auth->nt_challenge_response;
  CHECK(Bytes(nt.end() - 8, nt.end()) == Bytes(8, 0));  // MsvAvEOL, then Z(4)
}

TEST_CASE("without a server timestamp the client sends an LMv2 response and no MIC") {
  ChallengeMessage challenge;
  challenge.negotiate_flags = 0x628A8215;
  challenge.target_name = u"OLD";
  challenge.server_challenge = to_array<8>(hex("0123456789abcdef"));
  challenge.target_info = {
      {static_cast<std::uint16_t>(AvId::msv_av_nb_domain_name), utf16le_bytes(u"OLD")},
      {static_cast<std::uint16_t>(AvId::msv_av_nb_computer_name), utf16le_bytes(u"OLD")}};
  NtlmClient::TestHooks hooks;
  hooks.client_challenge = to_array<8>(hex("aaaaaaaaaaaaaaaa"));
  hooks.time = 42;
  NtlmClient client{Credentials{"User", "Domain", "Password"}, "", "", hooks};
  client.negotiate_message();
  auto bytes = client.authenticate(encode_challenge(challenge));
  REQUIRE(bytes);
  auto auth = decode_authenticate(*bytes);
  REQUIRE(auth);
  CHECK_FALSE(client.sent_mic());
  CHECK_FALSE(auth->has_mic_field);
  // The LMv2 response of MS-NLMP 4.2.4.2.1: same key, challenges.
  CHECK(to_hex(auth->lm_challenge_response) == "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
  auto blob = decode_ntlmv2_client_challenge(ByteView{auth->nt_challenge_response}.subspan(16));
  REQUIRE(blob);
  CHECK(blob->time_stamp == 42);
  CHECK_FALSE(av_pair_flags(blob->av_pairs).has_value());
}

TEST_CASE("the client refuses a server that withholds EXTENDED_SESSIONSECURITY or sends garbage") {
  auto challenge = decode_challenge(kCapChallenge);
  REQUIRE(challenge);
  challenge->negotiate_flags &= ~ntlmssp::negotiate_extended_sessionsecurity;
  auto client = alice();
  auto refused = client.authenticate(encode_challenge(*challenge));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::auth);

  auto client2 = alice();
  auto garbage = client2.authenticate(hex("4e544c4d5353500002000000"));
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().kind == ErrorKind::wire);
}

TEST_CASE("the client's NEGOTIATE_MESSAGE is byte for byte Samba's") {
  CHECK(alice().negotiate_message() == kCapNegotiate);
}

TEST_CASE(
    "a server configured like the capture's reproduces Samba's CHALLENGE and accepts its AUTHENTICATE") {
  auto server = capture_server();
  auto challenge = server.challenge(kCapNegotiate);
  REQUIRE(challenge);
  CHECK(to_hex(*challenge) == to_hex(kCapChallenge));
  auto result = server.authenticate(kCapAuthenticate);
  REQUIRE(result);
  CHECK(result->user == "alice");
  CHECK(result->domain == "TESTDOM");
  CHECK(to_hex(result->exported_session_key) == "4d0268b0ed6a3a656b0d9d27e621b64d");
  CHECK(server.client_sent_mic());
  // Samba's client mechListMIC verifies, and ours equals Samba's server's.
  CHECK(server.verify_mic(kMechTypeList, hex("0100000008b58d2915d6a43e00000000")).has_value());
  auto mic = server.make_mic(kMechTypeList);
  REQUIRE(mic);
  CHECK(to_hex(*mic) == "01000000ed1cbd2199e339ff00000000");
}

TEST_CASE("the captured AUTHENTICATE with a flipped MIC byte is refused") {
  auto server = capture_server();
  REQUIRE(server.challenge(kCapNegotiate));
  auto tampered = kCapAuthenticate;
  tampered[AuthenticateMessage::kMicOffset] ^= 0x80;
  auto result = server.authenticate(tampered);
  REQUIRE_FALSE(result);
  CHECK(is_logon_failure(result.error()));
}

TEST_CASE("the server's CHALLENGE grants the client's flags it supports and lists its names") {
  NtlmServer server{server_config()};
  auto challenge = server.challenge(kCapNegotiate);
  REQUIRE(challenge);
  auto msg = decode_challenge(*challenge);
  REQUIRE(msg);
  CHECK(msg->negotiate_flags == 0x628A8215);  // Samba's answer to the same NEGOTIATE
  CHECK(msg->target_name == u"FS1");
  std::vector<std::uint16_t> ids;
  for (const auto& p : msg->target_info) ids.push_back(p.av_id);
  CHECK(ids == std::vector<std::uint16_t>{2, 1, 4, 3, 7});
  CHECK(find_av_pair(msg->target_info, AvId::msv_av_dns_computer_name)->value ==
        utf16le_bytes(u"fs1.test.example"));
  // A second NEGOTIATE on the same exchange is a caller bug.
  CHECK(server.challenge(kCapNegotiate).error().kind == ErrorKind::usage);
}

TEST_CASE("a server refuses AUTHENTICATE before CHALLENGE, and a client MIC before authenticate") {
  NtlmServer server{server_config()};
  CHECK(server.authenticate(kCapAuthenticate).error().kind == ErrorKind::usage);
  auto client = alice();
  CHECK(client.make_mic(kMechTypeList).error().kind == ErrorKind::usage);
}

TEST_CASE("recover_exported_session_key reproduces the capture's key and refuses a wrong password") {
  auto key = recover_exported_session_key("Passw0rd!", kCapChallenge, kCapAuthenticate);
  REQUIRE(key);
  CHECK(to_hex(*key) == "4d0268b0ed6a3a656b0d9d27e621b64d");
  auto explicit_names =
      recover_exported_session_key("Passw0rd!", kCapChallenge, kCapAuthenticate, "ALICE", "TESTDOM");
  REQUIRE(explicit_names);
  CHECK(*explicit_names == *key);
  auto wrong = recover_exported_session_key("passw0rd!", kCapChallenge, kCapAuthenticate);
  REQUIRE_FALSE(wrong);
  CHECK(is_logon_failure(wrong.error()));
  auto wrong_user = recover_exported_session_key("Passw0rd!", kCapChallenge, kCapAuthenticate, "bob");
  REQUIRE_FALSE(wrong_user);
  CHECK(is_logon_failure(wrong_user.error()));
}
