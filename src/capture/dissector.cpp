#include "capture/dissector.hpp"

#include <cstdio>
#include <map>

#include "auth/ntlm.hpp"
#include "auth/spnego.hpp"
#include "crypto/keys.hpp"
#include "crypto/preauth.hpp"
#include "crypto/signing.hpp"
#include "crypto/transform.hpp"
#include "wire/message.hpp"
#include "wire/negotiate.hpp"
#include "wire/ntstatus.hpp"
#include "wire/session_setup.hpp"
#include "wire/transform.hpp"

namespace smbx::capture {

namespace {

// NTLMSSP MessageType (MS-NLMP 2.2.1): byte 8 of the message.
constexpr std::uint8_t kNtlmChallenge = 2;
constexpr std::uint8_t kNtlmAuthenticate = 3;

struct SessionState {
  crypto::PreauthHash preauth;  // MS-SMB2 3.3.1.15 PreauthSession
  Bytes challenge;              // NTLM CHALLENGE_MESSAGE
  Bytes authenticate;           // NTLM AUTHENTICATE_MESSAGE
  std::optional<crypto::SessionKeys> keys;
};

class Dissector {
 public:
  Dissector(const DissectOptions& options, DissectReport& report) : options_{options}, report_{report} {}

  void frame(const Frame& f) {
    const auto id = wire::protocol_id(f.bytes);
    if (id == wire::kTransformProtocolId) return transform_frame(f);
    if (id == wire::kCompressionProtocolId) return frame_problem(f, "compressed frames are not supported");
    if (id == wire::kSmb1ProtocolId) return frame_problem(f, "SMB1 frame (only SMB2 is dissected)");
    plaintext_frame(f, f.bytes, Decryption::plaintext);
  }

 private:
  void frame_problem(const Frame& f, const std::string& why) {
    ++report_.decode_failures;
    report_.problems.push_back("frame " + std::to_string(f.line) + ": " + why);
  }

  void plaintext_frame(const Frame& f, ByteView bytes, Decryption decryption) {
    auto members = wire::split_compound(bytes);
    if (!members) return frame_problem(f, describe(members.error()));
    for (const auto& member : *members) message(f, member, decryption);
  }

  void transform_frame(const Frame& f) {
    DissectedMessage m{.direction = f.direction, .frame = f.line, .header = {}, .bytes = {},
                       .signature = SignatureCheck::unsigned_message, .decryption = Decryption::failed,
                       .decoded = false, .summary = "TRANSFORM", .problem = {}};
    auto transform = wire::decode_transform(f.bytes);
    if (!transform) {
      m.problem = "cannot decode the transform header: " + describe(transform.error());
      return failed_transform(std::move(m));
    }
    m.header.session_id = transform->header.session_id;
    const auto session = sessions_.find(transform->header.session_id);
    if (session == sessions_.end() || !session->second.keys) {
      m.decryption = Decryption::no_key;
      m.problem = options_.password ? "no keys for this session" : "encrypted; give --password to decrypt";
      return failed_transform(std::move(m));
    }
    const auto& keys = *session->second.keys;
    // MS-SMB2 3.1.4.3: the client encrypts with EncryptionKey (C2S), the server with DecryptionKey (S2C).
    const auto& key = f.direction == Direction::client_to_server ? keys.encryption : keys.decryption;
    auto plaintext = crypto::decrypt_message(cipher_, key, *transform);
    if (!plaintext) {
      m.problem = "decryption failed (" + std::string{crypto::to_string(cipher_)} + "): " + describe(plaintext.error());
      return failed_transform(std::move(m));
    }
    ++report_.decrypted_frames;
    plaintext_frame(f, *plaintext, Decryption::decrypted);
  }

  void failed_transform(DissectedMessage m) {
    ++report_.decrypt_failures;
    report_.messages.push_back(std::move(m));
  }

  void message(const Frame& f, const wire::MessageView& view, Decryption decryption) {
    DissectedMessage m{.direction = f.direction, .frame = f.line, .header = view.header,
                       .bytes = Bytes{view.bytes.begin(), view.bytes.end()},
                       .signature = SignatureCheck::unsigned_message, .decryption = decryption,
                       .decoded = false, .summary = {}, .problem = {}};
    if (view.header.is_response() != (f.direction == Direction::server_to_client)) {
      m.problem = "the SERVER_TO_REDIR flag disagrees with the direction";
      ++report_.decode_failures;
    } else if (auto body = wire::decode_body(view.header, view.bytes, dialect_); !body) {
      m.summary = std::string{wire::to_string(view.header.command)} + (view.header.is_response() ? " response" : " request");
      m.problem = describe(body.error());
      ++report_.decode_failures;
    } else {
      m.decoded = true;
      m.summary = wire::summarize(view.header, *body);
      track_state(view, *body);
    }
    // Encryption authenticates the message; an inner signature is not checked (MS-SMB2 3.1.4.3).
    if (decryption == Decryption::plaintext && view.header.is_signed()) check_signature(view, m);
    report_.messages.push_back(std::move(m));
  }

  void track_state(const wire::MessageView& view, const wire::Body& body) {
    if (const auto* req = std::get_if<wire::NegotiateRequest>(&body)) {
      (void)req;
      negotiate_request_.assign(view.bytes.begin(), view.bytes.end());
    } else if (const auto* rsp = std::get_if<wire::NegotiateResponse>(&body)) {
      negotiated(*rsp, view.bytes);
    } else if (const auto* ss_req = std::get_if<wire::SessionSetupRequest>(&body)) {
      session_setup_request(view, *ss_req);
    } else if (const auto* ss_rsp = std::get_if<wire::SessionSetupResponse>(&body)) {
      session_setup_response(view, *ss_rsp);
    }
  }

  void negotiated(const wire::NegotiateResponse& rsp, ByteView bytes) {
    dialect_ = static_cast<wire::Dialect>(rsp.dialect_revision);
    signing_ = crypto::default_signing_algorithm(*dialect_);
    cipher_ = crypto::Cipher::aes128_ccm;  // the only cipher of 3.0 / 3.0.2 (MS-SMB2 3.1.4.3)
    if (*dialect_ != wire::Dialect::smb311) return;
    // MS-SMB2 3.2.5.2: the connection's preauth hash covers the NEGOTIATE pair.
    connection_preauth_.update(negotiate_request_);
    connection_preauth_.update(bytes);
    if (const auto* enc = wire::find_context<wire::EncryptionCapabilities>(rsp.negotiate_contexts);
        enc != nullptr && !enc->ciphers.empty()) {
      if (auto c = crypto::cipher_from_id(enc->ciphers.front())) cipher_ = *c;
    } else {
      cipher_ = crypto::Cipher::none;
    }
    if (const auto* sign = wire::find_context<wire::SigningCapabilities>(rsp.negotiate_contexts);
        sign != nullptr && !sign->signing_algorithms.empty()) {
      if (auto a = crypto::signing_algorithm_from_id(sign->signing_algorithms.front())) signing_ = *a;
    }
  }

  bool hashes_preauth() const { return dialect_ == wire::Dialect::smb311; }

  void remember_ntlm(SessionState& s, ByteView security_buffer) {
    auto ntlm = auth::extract_ntlm_message(security_buffer);
    if (!ntlm || !*ntlm || (*ntlm)->size() < 12) return;
    const auto type = (**ntlm)[8];
    if (type == kNtlmChallenge) s.challenge = std::move(**ntlm);
    if (type == kNtlmAuthenticate) s.authenticate = std::move(**ntlm);
  }

  void session_setup_request(const wire::MessageView& view, const wire::SessionSetupRequest& req) {
    const auto sid = view.header.session_id;
    SessionState* s = nullptr;
    if (sid == 0) {
      // MS-SMB2 3.3.5.5: a new session's hash starts from the connection's.
      pending_ = SessionState{.preauth = connection_preauth_, .challenge = {}, .authenticate = {}, .keys = {}};
      s = &*pending_;
    } else {
      s = &sessions_[sid];
      if (s->keys) return;  // re-authentication keeps the keys (MS-SMB2 3.3.5.5.2)
    }
    if (hashes_preauth()) s->preauth.update(view.bytes);
    remember_ntlm(*s, req.security_buffer);
  }

  void session_setup_response(const wire::MessageView& view, const wire::SessionSetupResponse& rsp) {
    const auto sid = view.header.session_id;
    if (pending_) {
      sessions_[sid] = std::move(*pending_);
      pending_.reset();
    }
    auto& s = sessions_[sid];
    if (s.keys) return;
    const auto status = view.header.status();
    if (status == wire::status::MORE_PROCESSING_REQUIRED) {
      if (hashes_preauth()) s.preauth.update(view.bytes);  // MS-SMB2 3.2.5.3
      remember_ntlm(s, rsp.security_buffer);
      return;
    }
    if (status != wire::status::SUCCESS || !options_.password) return;
    // The final response is not hashed; the keys come from the hash so far.
    if (s.challenge.empty() || s.authenticate.empty()) {
      report_.problems.push_back("session " + hex_id(sid) + ": no NTLMSSP CHALLENGE/AUTHENTICATE in the capture");
      return;
    }
    auto key = auth::recover_exported_session_key(*options_.password, s.challenge, s.authenticate, options_.user,
                                                  options_.domain);
    if (!key) {
      report_.problems.push_back("session " + hex_id(sid) + ": cannot recover the session key: " + describe(key.error()));
      return;
    }
    const auto& hash = s.preauth.value();
    s.keys = crypto::derive_session_keys(dialect_.value_or(wire::Dialect::smb311), *key, cipher_,
                                         hashes_preauth() ? ByteView{hash} : ByteView{});
  }

  void check_signature(const wire::MessageView& view, DissectedMessage& m) {
    const auto session = sessions_.find(view.header.session_id);
    if (session == sessions_.end() || !session->second.keys) {
      m.signature = SignatureCheck::no_key;
      if (options_.password) {
        if (m.problem.empty()) m.problem = "signed, but the session's keys are unknown";
        ++report_.unverifiable_signatures;
      }
      return;
    }
    if (crypto::verify_signature(signing_, session->second.keys->signing, view.bytes)) {
      m.signature = SignatureCheck::ok;
      ++report_.verified_signatures;
    } else {
      m.signature = SignatureCheck::bad;
      if (m.problem.empty()) m.problem = "bad " + std::string{crypto::to_string(signing_)} + " signature";
      ++report_.bad_signatures;
    }
  }

  const DissectOptions& options_;
  DissectReport& report_;
  std::optional<wire::Dialect> dialect_;
  crypto::SigningAlgorithm signing_ = crypto::SigningAlgorithm::aes_cmac;
  crypto::Cipher cipher_ = crypto::Cipher::none;
  crypto::PreauthHash connection_preauth_;
  Bytes negotiate_request_;
  std::optional<SessionState> pending_;  // a session whose SessionId the server has not assigned yet
  std::map<std::uint64_t, SessionState> sessions_;
};

}  // namespace

DissectReport dissect(const std::vector<Frame>& frames, const DissectOptions& options) {
  DissectReport report;
  Dissector d{options, report};
  for (const auto& f : frames) d.frame(f);
  return report;
}

std::string format_line(const DissectedMessage& m) {
  char ids[96];
  std::snprintf(ids, sizeof ids, "mid=%llu sid=0x%016llx", static_cast<unsigned long long>(m.header.message_id),
                static_cast<unsigned long long>(m.header.session_id));
  std::string line;
  line += static_cast<char>(m.direction);
  char frame[16];
  std::snprintf(frame, sizeof frame, " %4zu ", m.frame);
  line += frame;
  line += m.summary.empty() ? "?" : m.summary;
  line += " ";
  line += ids;
  if (m.header.is_response()) line += " " + wire::status_name(m.header.status());
  switch (m.signature) {
    case SignatureCheck::unsigned_message: break;
    case SignatureCheck::ok: line += " sig=ok"; break;
    case SignatureCheck::bad: line += " sig=bad"; break;
    case SignatureCheck::no_key: line += " sig=unchecked"; break;
  }
  switch (m.decryption) {
    case Decryption::plaintext: break;
    case Decryption::decrypted: line += " decrypted"; break;
    case Decryption::failed: line += " decrypt=FAILED"; break;
    case Decryption::no_key: line += " encrypted(no key)"; break;
  }
  if (!m.problem.empty()) line += "  !! " + m.problem;
  return line;
}

}  // namespace smbx::capture
