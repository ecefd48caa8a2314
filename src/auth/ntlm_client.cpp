#include <algorithm>

#include "auth/ntlm.hpp"
#include "crypto/random.hpp"
#include "wire/types.hpp"

// NtlmClient: MS-NLMP 3.1.5.1 (connection-oriented client) with NTLMv2.
namespace smbx::auth {
namespace {

Error client_error(std::string detail) {
  return Error{.kind = ErrorKind::auth,
               .wire = WireError::none,
               .status = 0,
               .action = "NTLM authenticate",
               .detail = std::move(detail)};
}

Error usage_error(std::string_view what, std::string detail) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = std::string{what},
               .detail = std::move(detail)};
}

Error not_complete(std::string_view what) { return usage_error(what, "the NTLM exchange has not completed"); }

// 3.1.5.1.2: the client copies the server's TargetInfo and adds what it
// asserts about this authentication before MsvAvEOL.
AvPairList client_av_pairs(const AvPairList& server_pairs, bool with_mic, std::string_view target_spn) {
  AvPairList pairs = server_pairs;
  if (with_mic) {
    const std::uint32_t flags = av_pair_flags(pairs).value_or(0) | av_flags::mic_present;
    Bytes value(4);
    store_le32(value.data(), flags);
    set_av_pair(pairs, AvId::msv_av_flags, std::move(value));
  }
  // SMB has no channel bindings: an all-zero MsvAvChannelBindings says so.
  if (find_av_pair(pairs, AvId::msv_av_channel_bindings) == nullptr)
    set_av_pair(pairs, AvId::msv_av_channel_bindings, Bytes(16, 0));
  if (!target_spn.empty())
    set_av_pair(pairs, AvId::msv_av_target_name, utf16le_bytes(wire::utf16_from_utf8(target_spn)));
  return pairs;
}

}  // namespace

NtlmClient::NtlmClient(Credentials credentials, std::string workstation, std::string target_spn,
                       TestHooks hooks)
    : credentials_{std::move(credentials)},
      workstation_{std::move(workstation)},
      target_spn_{std::move(target_spn)},
      hooks_{hooks} {}

Bytes NtlmClient::negotiate_message() {
  if (negotiate_.empty()) {
    NegotiateMessage msg;
    msg.negotiate_flags = kDefaultFlags;
    msg.version = Version{};
    negotiate_ = encode_negotiate(msg);
  }
  return negotiate_;
}

Expected<Bytes> NtlmClient::authenticate(ByteView challenge_message) {
  SMBX_TRY_VOID(ensure_ntlm_crypto());
  if (security_) return usage_error("NTLM authenticate", "called twice on one exchange");
  negotiate_message();
  auto challenge = decode_challenge(challenge_message);
  if (!challenge) {
    auto e = std::move(challenge).error();
    e.action = "NTLM authenticate: " + e.action;
    return e;
  }
  std::uint32_t flags = challenge->negotiate_flags & kDefaultFlags;
  if (!(flags & ntlmssp::negotiate_unicode)) return client_error("the server did not negotiate UNICODE");
  if (!(flags & ntlmssp::negotiate_extended_sessionsecurity))
    return client_error("the server did not negotiate EXTENDED_SESSIONSECURITY");

  AuthenticateMessage auth;
  auth.domain_name = wire::utf16_from_utf8(credentials_.domain);
  auth.user_name = wire::utf16_from_utf8(credentials_.user);
  auth.workstation = wire::utf16_from_utf8(workstation_);

  if (is_anonymous()) {
    // 3.1.5.1.2 anonymous: empty NT response, LM response Z(1); there is no
    // session key to exchange, so nothing is signed with it.
    flags = (flags | ntlmssp::anonymous) & ~ntlmssp::negotiate_key_exch;
    auth.lm_challenge_response = Bytes(1, 0);
    auth.negotiate_flags = flags;
    if (flags & ntlmssp::negotiate_version) auth.version = Version{};
    negotiated_flags_ = flags;
    exported_session_key_ = {};
    security_.emplace(exported_session_key_, flags, true);
    return encode_authenticate(auth);
  }

  // 3.1.5.1.2: with a server MsvAvTimestamp the client uses that time, adds
  // a MIC and sends Z(24) as the LM response.
  const auto server_time = av_pair_timestamp(challenge->target_info);
  sent_mic_ = server_time.has_value();
  const std::uint64_t time = server_time ? *server_time : hooks_.time.value_or(filetime_now());
  const Challenge8 client_challenge = hooks_.client_challenge.value_or(crypto::random_array<8>());
  const auto pairs = client_av_pairs(challenge->target_info, sent_mic_, target_spn_);
  const auto temp = ntlmv2_temp(time, client_challenge, encode_av_pairs(pairs));

  const auto response_key =
      ntowfv2(nt_hash_from_password(credentials_.password), auth.user_name, auth.domain_name);
  const auto proof = nt_proof_str(response_key, challenge->server_challenge, temp);
  auth.nt_challenge_response.assign(proof.begin(), proof.end());
  auth.nt_challenge_response.insert(auth.nt_challenge_response.end(), temp.begin(), temp.end());
  auth.lm_challenge_response =
      sent_mic_ ? Bytes(24, 0) : lmv2_response(response_key, challenge->server_challenge, client_challenge);

  const auto key_exchange_key = session_base_key(response_key, proof);  // KXKEY for NTLMv2 (3.4.5.1)
  if (uses_key_exchange(flags)) {
    exported_session_key_ = hooks_.exported_session_key.value_or(crypto::random_array<16>());
    auth.encrypted_random_session_key = rc4(key_exchange_key, exported_session_key_);
  } else {
    exported_session_key_ = key_exchange_key;
  }

  auth.negotiate_flags = flags;
  if (flags & ntlmssp::negotiate_version) auth.version = Version{};
  auth.has_mic_field = sent_mic_;
  Bytes out = encode_authenticate(auth);
  if (sent_mic_) {
    const auto mic = compute_mic(exported_session_key_, negotiate_, challenge_message, out);
    std::copy(mic.begin(), mic.end(), out.begin() + AuthenticateMessage::kMicOffset);
  }
  negotiated_flags_ = flags;
  security_.emplace(exported_session_key_, flags, true);
  return out;
}

Expected<Bytes> NtlmClient::make_mic(ByteView message) {
  if (!security_) return not_complete("make NTLM mechListMIC");
  const auto sig = security_->sign(message);
  return Bytes{sig.begin(), sig.end()};
}

Expected<void> NtlmClient::verify_mic(ByteView message, ByteView signature) {
  if (!security_) return not_complete("verify NTLM mechListMIC");
  return security_->verify(message, signature);
}

}  // namespace smbx::auth
