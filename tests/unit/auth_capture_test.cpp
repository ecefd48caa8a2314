// The three Samba captures as ground truth: the NEGOTIATE hint and the
// SESSION_SETUP security buffers as the wire layer decodes them
// (test::session_setup_exchange).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "auth/spnego.hpp"
#include "support/captures.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::hex;

namespace {

struct Expected3 {
  const char* capture;
  const char* exported_session_key;  // ntlm.md §8, smb2-security.md §10.4
  const char* mic;
};
constexpr Expected3 kCaptures[] = {
    {"smb311-encrypted", "4d0268b0ed6a3a656b0d9d27e621b64d", "a65db0a1bd15e5335b46f57d1035bc0d"},
    {"smb311-signed-ops", "bc7299e3fe14da2ec265884d882a5d13", "828a7f9b130ed0a0d92d909ea08faa5b"},
    {"smb302-signed", "b9193fb54cd679f7ca3955471fff836d", "e84a74f7fd49cf67f2afd28e48ed9fad"},
};

std::vector<Bytes> ntlm_messages(const test::SessionSetupExchange& x) {
  const ByteView views[] = {x.session_setup[0], x.session_setup[1], x.session_setup[2], x.session_setup[3]};
  auto messages = extract_ntlm_messages(views);
  REQUIRE(messages);
  REQUIRE(messages->size() == 3);
  return *messages;
}

}  // namespace

TEST_CASE("every capture's SESSION_SETUP buffers hold NEGOTIATE, CHALLENGE and AUTHENTICATE in order") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto messages = ntlm_messages(test::session_setup_exchange(c.capture));
    CHECK(ntlm_message_type(messages[0]) == 1u);
    CHECK(ntlm_message_type(messages[1]) == 2u);
    CHECK(ntlm_message_type(messages[2]) == 3u);
  }
}

TEST_CASE("recover_exported_session_key recovers every capture's session key from the password") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto messages = ntlm_messages(test::session_setup_exchange(c.capture));
    auto key = recover_exported_session_key("Passw0rd!", messages[1], messages[2]);
    REQUIRE(key);
    CHECK(to_hex(*key) == c.exported_session_key);
    auto wrong = recover_exported_session_key("Passw0rd", messages[1], messages[2]);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().kind == ErrorKind::auth);
  }
}

TEST_CASE("every capture's AUTHENTICATE MIC reproduces over its three messages") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto messages = ntlm_messages(test::session_setup_exchange(c.capture));
    auto auth = decode_authenticate(messages[2]);
    REQUIRE(auth);
    CHECK(to_hex(auth->mic) == c.mic);
    auto zeroed = messages[2];
    std::fill_n(zeroed.begin() + AuthenticateMessage::kMicOffset, AuthenticateMessage::kMicSize, 0);
    const auto key = to_array<16>(hex(c.exported_session_key));
    CHECK(to_hex(compute_mic(key, messages[0], messages[1], zeroed)) == c.mic);
  }
}

TEST_CASE("both mechListMICs of every capture verify with the recovered key") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto x = test::session_setup_exchange(c.capture);
    const auto init = parse_spnego(x.session_setup[0]);
    const auto client_resp = parse_spnego(x.session_setup[2]);
    const auto server_final = parse_spnego(x.session_setup[3]);
    REQUIRE(init);
    REQUIRE(client_resp);
    REQUIRE(server_final);
    CHECK(server_final->neg_state == NegState::accept_completed);
    REQUIRE(client_resp->mech_list_mic);
    REQUIRE(server_final->mech_list_mic);
    const auto flags = decode_authenticate(*client_resp->response_token)->negotiate_flags;
    const auto key = to_array<16>(hex(c.exported_session_key));
    NtlmSessionSecurity server_side{key, flags, false};
    NtlmSessionSecurity client_side{key, flags, true};
    CHECK(server_side.verify(init->mech_type_list, *client_resp->mech_list_mic).has_value());
    CHECK(client_side.verify(init->mech_type_list, *server_final->mech_list_mic).has_value());
  }
}

TEST_CASE("Samba's NEGOTIATE hint is SpnegoServer's and Samba's first token is SpnegoClient's") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto x = test::session_setup_exchange(c.capture);
    CHECK(to_hex(x.negotiate_hint) == to_hex(SpnegoServer::negotiate_hint()));
    SpnegoClient client{NtlmClient{Credentials{"alice", "TESTDOM", "Passw0rd!"}, "VM", "cifs/127.0.0.1"}};
    CHECK(client.accept_negotiate_hint(x.negotiate_hint).has_value());
    CHECK(to_hex(client.initial_token()) == to_hex(x.session_setup[0]));
  }
}

TEST_CASE(
    "a SpnegoServer set up like Samba's answers Samba's client with Samba's server tokens, byte for byte") {
  const auto x = test::session_setup_exchange("smb311-encrypted");
  const auto challenge = decode_challenge(ntlm_messages(x)[1]);
  REQUIRE(challenge);
  NtlmServerConfig config;
  config.lookup = [hash = nt_hash_from_password("Passw0rd!")](
                      std::u16string_view user, std::u16string_view domain) -> std::optional<NtHash> {
    if (user == u"alice" && domain == u"TESTDOM") return hash;
    return std::nullopt;
  };
  config.nb_computer_name = "CAPSRV";
  config.nb_domain_name = "CAPSRV";
  config.dns_computer_name = "vm";
  NtlmServer::TestHooks hooks;
  hooks.server_challenge = challenge->server_challenge;
  hooks.time = *av_pair_timestamp(challenge->target_info);
  SpnegoServer server{NtlmServer{config, hooks}};

  auto first = server.step(x.session_setup[0]);
  REQUIRE(first);
  CHECK(to_hex(first->token) == to_hex(x.session_setup[1]));
  auto second = server.step(x.session_setup[2]);
  REQUIRE(second);
  CHECK(second->complete);
  CHECK(to_hex(second->token) == to_hex(x.session_setup[3]));
  REQUIRE(second->auth);
  CHECK(to_hex(second->auth->exported_session_key) == "4d0268b0ed6a3a656b0d9d27e621b64d");
}
