// The three Samba captures as ground truth: SESSION_SETUP security buffers
// (frames 2-5, lines 3-6) are located by hand-parsing the SMB2 header and the
// SESSION_SETUP body (MS-SMB2 2.2.5, 2.2.6), so these tests do not depend on
// the wire layer's session_setup decoder. test_auth links only smbx_auth, so
// the frames are read here rather than with capture::load_frames_file.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "auth/spnego.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::auth;
using smbx::test::hex;

namespace {

constexpr std::size_t kSmb2Header = 64;

struct CaptureExchange {
  Bytes negotiate_hint;              // NEGOTIATE response SecurityBuffer
  std::vector<Bytes> session_setup;  // request 1, response 1, request 2, response 2
};

Bytes buffer_at(const Bytes& frame, std::size_t offset_field) {
  REQUIRE(frame.size() >= kSmb2Header + offset_field + 4);
  const auto offset = load_le16(&frame[kSmb2Header + offset_field]);
  const auto length = load_le16(&frame[kSmb2Header + offset_field + 2]);
  REQUIRE(std::size_t{offset} + length <= frame.size());
  return Bytes{frame.begin() + offset, frame.begin() + offset + length};
}

// The first `count` frames of a .frames file: "C <hex>" or "S <hex>" lines.
std::vector<Bytes> first_frames(const std::string& name, std::size_t count) {
  const auto text = test::read_file(test::data_path("captures/" + name + ".frames"));
  std::vector<Bytes> frames;
  std::string line;
  for (auto c : text) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      continue;
    }
    if (line.size() > 2 && (line[0] == 'C' || line[0] == 'S'))
      frames.push_back(hex(std::string_view{line}.substr(2)));
    line.clear();
    if (frames.size() == count) break;
  }
  REQUIRE(frames.size() == count);
  return frames;
}

CaptureExchange load(const std::string& name) {
  const auto frames = first_frames(name, 6);
  CaptureExchange x;
  // NEGOTIATE response: SecurityBufferOffset at body + 56 (MS-SMB2 2.2.4).
  x.negotiate_hint = buffer_at(frames[1], 56);
  // SESSION_SETUP request: at body + 12 (2.2.5); response: at body + 4 (2.2.6).
  x.session_setup.push_back(buffer_at(frames[2], 12));
  x.session_setup.push_back(buffer_at(frames[3], 4));
  x.session_setup.push_back(buffer_at(frames[4], 12));
  x.session_setup.push_back(buffer_at(frames[5], 4));
  return x;
}

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

std::vector<Bytes> ntlm_messages(const CaptureExchange& x) {
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
    const auto messages = ntlm_messages(load(c.capture));
    CHECK(ntlm_message_type(messages[0]) == 1u);
    CHECK(ntlm_message_type(messages[1]) == 2u);
    CHECK(ntlm_message_type(messages[2]) == 3u);
  }
}

TEST_CASE("recover_exported_session_key recovers every capture's session key from the password") {
  for (const auto& c : kCaptures) {
    CAPTURE(c.capture);
    const auto messages = ntlm_messages(load(c.capture));
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
    const auto messages = ntlm_messages(load(c.capture));
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
    const auto x = load(c.capture);
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
    const auto x = load(c.capture);
    CHECK(to_hex(x.negotiate_hint) == to_hex(SpnegoServer::negotiate_hint()));
    SpnegoClient client{NtlmClient{Credentials{"alice", "TESTDOM", "Passw0rd!"}, "VM", "cifs/127.0.0.1"}};
    CHECK(client.accept_negotiate_hint(x.negotiate_hint).has_value());
    CHECK(to_hex(client.initial_token()) == to_hex(x.session_setup[0]));
  }
}

TEST_CASE(
    "a SpnegoServer set up like Samba's answers Samba's client with Samba's server tokens, byte for byte") {
  const auto x = load("smb311-encrypted");
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
