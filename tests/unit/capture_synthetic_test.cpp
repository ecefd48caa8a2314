// Conversations made here with the project's own client and server pieces
// (SPNEGO/NTLMv2 on both sides, the KDF, signing, encryption), for the
// algorithms no capture has: HMAC-SHA256 (2.x), AES-128-CCM (3.0), AES-256,
// and 3.1.1 with CMAC or HMAC chosen by the signing context. The dissector
// must verify and decrypt all of them exactly as it does Samba's captures.
#include <doctest/doctest.h>

#include "auth/ntlm.hpp"
#include "auth/spnego.hpp"
#include "capture/dissector.hpp"
#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "crypto/random.hpp"
#include "crypto/signing.hpp"
#include "crypto/transform.hpp"
#include "support/test_data.hpp"
#include "wire/message.hpp"
#include "wire/ntstatus.hpp"

using namespace smbx;
using namespace smbx::capture;
using crypto::Cipher;
using crypto::SigningAlgorithm;
using wire::Dialect;

namespace {

constexpr std::uint64_t kSessionId = 0x0000100000000025;
const std::string kPayload = "written by the synthetic conversation";

struct Conversation {
  std::vector<Frame> frames;
  std::size_t signed_messages = 0;
  std::size_t transform_frames = 0;
  std::size_t tree_connect_frame = 0;  // index into frames
};

class Builder {
 public:
  Builder(Dialect dialect, Cipher cipher, SigningAlgorithm signing)
      : dialect_{dialect}, cipher_{cipher}, signing_{signing}, nonces_{cipher == Cipher::none ? Cipher::aes128_gcm : cipher} {}

  Conversation build() {
    negotiate();
    session_setup();
    tree_connect();
    write();
    return std::move(conversation_);
  }

 private:
  bool is_311() const { return dialect_ == Dialect::smb311; }
  bool encrypts() const { return cipher_ != Cipher::none; }

  wire::Header request(wire::Command command, std::uint64_t session_id) {
    wire::Header h;
    h.command = command;
    h.message_id = next_message_id_++;
    h.credits = 1;
    h.session_id = session_id;
    return h;
  }
  static wire::Header response_to(wire::Header h, wire::NtStatus status) {
    h.flags |= wire::flags::server_to_redir;
    h.status_or_channel_sequence = status;
    return h;
  }

  void add(Direction d, Bytes bytes) {
    conversation_.frames.push_back({d, std::move(bytes), conversation_.frames.size() + 1});
  }
  // Signs (or, once keys exist and encryption is on, encrypts) and adds.
  void add_secured(Direction d, Bytes message, bool encrypt) {
    if (encrypt) {
      auto nonce = nonces_.next();
      REQUIRE(nonce);
      const auto& key = d == Direction::client_to_server ? keys_->encryption : keys_->decryption;
      add(d, crypto::encrypt_message(cipher_, key, *nonce, kSessionId, message));
      ++conversation_.transform_frames;
      return;
    }
    crypto::sign_message(signing_, keys_->signing, message);
    ++conversation_.signed_messages;
    add(d, std::move(message));
  }

  void negotiate() {
    const auto salt = crypto::random_array<32>();
    wire::NegotiateRequest req;
    req.security_mode = wire::negotiate_signing::enabled | wire::negotiate_signing::required;
    req.capabilities = wire::global_caps::large_mtu | (wire::is_smb3(dialect_) ? wire::global_caps::encryption : 0u);
    req.client_guid = crypto::random_array<16>();
    req.dialects = {static_cast<std::uint16_t>(dialect_)};
    wire::NegotiateResponse rsp;
    rsp.security_mode = req.security_mode;
    rsp.dialect_revision = static_cast<std::uint16_t>(dialect_);
    rsp.server_guid = crypto::random_array<16>();
    rsp.capabilities = wire::global_caps::large_mtu;
    rsp.max_transact_size = rsp.max_read_size = rsp.max_write_size = 8u << 20;
    hint_ = auth::SpnegoServer::negotiate_hint();
    rsp.security_buffer = hint_;
    if (is_311()) {
      req.negotiate_contexts = {wire::PreauthIntegrityCapabilities{{wire::preauth_hash::sha512}, salt},
                                wire::EncryptionCapabilities{{static_cast<std::uint16_t>(cipher_)}},
                                wire::SigningCapabilities{{static_cast<std::uint16_t>(signing_)}}};
      rsp.negotiate_contexts = req.negotiate_contexts;
    }
    const auto h = request(wire::Command::negotiate, 0);
    auto req_bytes = wire::encode_message(h, req);
    auto rsp_bytes = wire::encode_message(response_to(h, wire::status::SUCCESS), rsp);
    if (is_311()) {
      preauth_.update(req_bytes);
      preauth_.update(rsp_bytes);
    }
    add(Direction::client_to_server, std::move(req_bytes));
    add(Direction::server_to_client, std::move(rsp_bytes));
  }

  void session_setup() {
    auth::SpnegoClient client{auth::NtlmClient{{"alice", "TESTDOM", "Passw0rd!"}, "SYNTH", "cifs/127.0.0.1"}};
    REQUIRE(client.accept_negotiate_hint(hint_));
    auth::NtlmServerConfig config;
    config.nb_computer_name = "SMBXD";
    config.nb_domain_name = "TESTDOM";
    config.lookup = [](std::u16string_view user, std::u16string_view) -> std::optional<auth::NtHash> {
      if (user != u"alice") return std::nullopt;
      return auth::nt_hash_from_password("Passw0rd!");
    };
    auth::SpnegoServer server{auth::NtlmServer{std::move(config)}};

    // Round 1: NEGOTIATE -> CHALLENGE.
    const auto token1 = client.initial_token();
    auto h1 = request(wire::Command::session_setup, 0);
    auto req1 = wire::encode_message(h1, wire::SessionSetupRequest{.flags = 0, .security_mode = 1, .capabilities = 0,
                                                                   .channel = 0, .previous_session_id = 0,
                                                                   .security_buffer = token1});
    auto step1 = server.step(token1);
    REQUIRE(step1);
    auto rsp1_header = response_to(h1, wire::status::MORE_PROCESSING_REQUIRED);
    rsp1_header.session_id = kSessionId;
    auto rsp1 = wire::encode_message(rsp1_header, wire::SessionSetupResponse{.session_flags = 0,
                                                                             .security_buffer = step1->token});
    // Round 2: AUTHENTICATE -> accept-completed.
    auto token2 = client.step(step1->token);
    REQUIRE(token2);
    auto h2 = request(wire::Command::session_setup, kSessionId);
    auto req2 = wire::encode_message(h2, wire::SessionSetupRequest{.flags = 0, .security_mode = 1, .capabilities = 0,
                                                                   .channel = 0, .previous_session_id = 0,
                                                                   .security_buffer = *token2});
    auto step2 = server.step(*token2);
    REQUIRE(step2);
    REQUIRE(step2->complete);
    REQUIRE(client.finish(step2->token));
    CHECK(step2->auth->exported_session_key == client.session_key());

    if (is_311()) {
      // MS-SMB2 3.2.5.3: requests and MORE_PROCESSING responses are hashed, the final response is not.
      preauth_.update(req1);
      preauth_.update(rsp1);
      preauth_.update(req2);
    }
    keys_ = crypto::derive_session_keys(dialect_, step2->auth->exported_session_key, cipher_,
                                        is_311() ? ByteView{preauth_.value()} : ByteView{});
    add(Direction::client_to_server, std::move(req1));
    add(Direction::server_to_client, std::move(rsp1));
    add(Direction::client_to_server, std::move(req2));
    // The final response is signed with the new key (MS-SMB2 3.3.5.5.3).
    add_secured(Direction::server_to_client,
                wire::encode_message(response_to(h2, wire::status::SUCCESS),
                                     wire::SessionSetupResponse{.session_flags = 0, .security_buffer = step2->token}),
                false);
  }

  void tree_connect() {
    auto h = request(wire::Command::tree_connect, kSessionId);
    conversation_.tree_connect_frame = conversation_.frames.size();
    add_secured(Direction::client_to_server,
                wire::encode_message(h, wire::TreeConnectRequest{.flags = 0, .path = u"\\\\127.0.0.1\\share", .contexts = {}}),
                false);
    h.tree_id = 7;
    add_secured(Direction::server_to_client,
                wire::encode_message(response_to(h, wire::status::SUCCESS),
                                     wire::TreeConnectResponse{.share_type = 1, .share_flags = 0, .capabilities = 0,
                                                               .maximal_access = 0x001F01FF}),
                false);
  }

  void write() {
    const ByteView data{reinterpret_cast<const std::uint8_t*>(kPayload.data()), kPayload.size()};
    auto h = request(wire::Command::write, kSessionId);
    h.tree_id = 7;
    wire::WriteRequest req;
    req.offset = 4096;
    req.file_id = {1, 2};
    req.data = data;
    add_secured(Direction::client_to_server, wire::encode_message(h, req), encrypts());
    wire::WriteResponse rsp;
    rsp.count = static_cast<std::uint32_t>(data.size());
    add_secured(Direction::server_to_client, wire::encode_message(response_to(h, wire::status::SUCCESS), rsp),
                encrypts());
  }

  Dialect dialect_;
  Cipher cipher_;
  SigningAlgorithm signing_;
  crypto::NonceGenerator nonces_;
  crypto::PreauthHash preauth_;
  Bytes hint_;
  std::optional<crypto::SessionKeys> keys_;
  std::uint64_t next_message_id_ = 0;
  Conversation conversation_;
};

struct Case {
  Dialect dialect;
  Cipher cipher;
  SigningAlgorithm signing;
};

// Every signing algorithm and every cipher, each in a dialect that allows it.
const Case kCases[] = {
    {Dialect::smb202, Cipher::none, SigningAlgorithm::hmac_sha256},
    {Dialect::smb210, Cipher::none, SigningAlgorithm::hmac_sha256},
    {Dialect::smb300, Cipher::aes128_ccm, SigningAlgorithm::aes_cmac},
    {Dialect::smb302, Cipher::aes128_ccm, SigningAlgorithm::aes_cmac},
    {Dialect::smb311, Cipher::aes128_ccm, SigningAlgorithm::aes_gmac},
    {Dialect::smb311, Cipher::aes128_gcm, SigningAlgorithm::aes_cmac},
    {Dialect::smb311, Cipher::aes256_ccm, SigningAlgorithm::hmac_sha256},
    {Dialect::smb311, Cipher::aes256_gcm, SigningAlgorithm::aes_gmac},
    {Dialect::smb311, Cipher::none, SigningAlgorithm::aes_gmac},
};

std::string name_of(const Case& c) {
  return std::string{wire::to_string(c.dialect)} + " " + std::string{crypto::to_string(c.cipher)} + " " +
         std::string{crypto::to_string(c.signing)};
}

DissectOptions password() {
  DissectOptions o;
  o.password = "Passw0rd!";
  return o;
}

}  // namespace

TEST_CASE("the dissector verifies and decrypts a conversation in every dialect, cipher and signing algorithm") {
  for (const auto& c : kCases) {
    CAPTURE(name_of(c));
    const auto conversation = Builder{c.dialect, c.cipher, c.signing}.build();
    const auto report = dissect(conversation.frames, password());
    for (const auto& p : report.problems) MESSAGE(p);
    CHECK(report.ok());
    CHECK(report.verified_signatures == conversation.signed_messages);
    CHECK(report.decrypted_frames == conversation.transform_frames);
    CHECK(conversation.transform_frames == (c.cipher == Cipher::none ? 0u : 2u));

    bool found_write = false;
    for (const auto& m : report.messages) {
      if (m.header.command != wire::Command::write || m.header.is_response()) continue;
      auto body = wire::decode_body(m.header, m.bytes);
      REQUIRE(body);
      const auto& w = std::get<wire::WriteRequest>(*body);
      CHECK(std::string(w.data.begin(), w.data.end()) == kPayload);
      found_write = true;
    }
    CHECK(found_write);
  }
}

TEST_CASE("in every algorithm a flipped byte in a signed or encrypted frame is caught") {
  for (const auto& c : kCases) {
    CAPTURE(name_of(c));
    auto conversation = Builder{c.dialect, c.cipher, c.signing}.build();
    auto signed_tamper = conversation.frames;
    signed_tamper[conversation.tree_connect_frame].bytes[70] ^= 0x40;  // the share path
    auto report = dissect(signed_tamper, password());
    CHECK(report.bad_signatures == 1);
    CHECK_FALSE(report.ok());

    auto last_tamper = conversation.frames;
    last_tamper.back().bytes.back() ^= 0x01;  // body (signed) or ciphertext (encrypted)
    report = dissect(last_tamper, password());
    if (c.cipher == Cipher::none) {
      CHECK(report.bad_signatures == 1);
    } else {
      CHECK(report.decrypt_failures == 1);
    }
    CHECK_FALSE(report.ok());
  }
}
