#include <algorithm>
#include <vector>

#include "auth/ntlm.hpp"
#include "auth/unicode_case.hpp"
#include "crypto/random.hpp"
#include "wire/ntstatus.hpp"
#include "wire/types.hpp"

// NtlmServer: MS-NLMP 3.2.5.1 (connection-oriented server) with NTLMv2, and
// the same computation over a captured exchange.
namespace smbx::auth {
namespace {

constexpr std::string_view kAction = "NTLM authenticate";

Error logon_failure(std::string detail) {
  return Error{.kind = ErrorKind::auth,
               .wire = WireError::none,
               .status = wire::status::LOGON_FAILURE,
               .action = std::string{kAction},
               .detail = std::move(detail)};
}

// A message that does not decode: the SMB layer answers INVALID_PARAMETER.
Error malformed(Error e) {
  e.status = wire::status::INVALID_PARAMETER;
  e.action = std::string{kAction} + ": " + e.action;
  return e;
}

Error usage_error(std::string detail) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = std::string{kAction},
               .detail = std::move(detail)};
}

Error not_complete(std::string_view what) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = std::string{what},
               .detail = "the NTLM exchange has not completed"};
}

std::string account_name(std::u16string_view domain, std::u16string_view user) {
  return wire::utf8_from_utf16(domain) + "\\" + wire::utf8_from_utf16(user);
}

struct Verified {
  Key16 exported_session_key{};
  std::uint32_t flags = 0;
};

// 3.2.5.1.2 steps shared by NtlmServer and recover_exported_session_key:
// recompute NTProofStr over the client's blob (opaque bytes), trying the
// domain as sent, then empty and uppercased as Samba does ("NTLM servers
// SHOULD support clients which incorrectly use NIL for the UserDom"), then
// derive the ExportedSessionKey.
Expected<Verified> verify_ntlmv2(const std::optional<NtHash>& nt_hash, const Challenge8& server_challenge,
                                 const AuthenticateMessage& auth, std::u16string_view user,
                                 std::u16string_view domain, std::uint32_t challenge_flags) {
  const auto& nt = auth.nt_challenge_response;
  if (nt.size() == 24)
    return logon_failure("NTLMv1 response from " + account_name(domain, user) +
                         " refused: only NTLMv2 is accepted");
  if (nt.size() < 16 + NtlmV2ClientChallenge::kHeaderSize)
    return malformed(wire_error(WireError::bad_length, "NtChallengeResponse of " + std::to_string(nt.size()) +
                                                           " bytes is too short for NTLMv2"));
  const ByteView proof_sent = ByteView{nt}.first(16);
  const ByteView blob = ByteView{nt}.subspan(16);

  std::vector<std::u16string> domains{std::u16string{domain}};
  if (!domain.empty()) domains.emplace_back();
  if (auto upper = to_upper_simple(domain); upper != domain) domains.push_back(std::move(upper));

  // An unknown user costs the same work as a wrong password: the proof is
  // computed with a random hash that cannot match.
  const NtHash hash = nt_hash.value_or(crypto::random_array<16>());
  std::optional<Key16> response_key;
  std::optional<Key16> proof;
  for (const auto& dom : domains) {
    const auto key = ntowfv2(hash, user, dom);
    const auto candidate = nt_proof_str(key, server_challenge, blob);
    if (equal_constant_time(candidate, proof_sent) && !response_key) {
      response_key = key;
      proof = candidate;
    }
  }
  if (!nt_hash || !response_key)
    return logon_failure("NTProofStr does not match for " + account_name(domain, user) +
                         " (unknown user or wrong password)");

  Verified v;
  // The AUTHENTICATE states the final flags; it cannot add what the CHALLENGE withheld.
  v.flags = auth.negotiate_flags & challenge_flags;
  const auto key_exchange_key = session_base_key(*response_key, *proof);
  if (uses_key_exchange(v.flags)) {
    if (auth.encrypted_random_session_key.size() != 16)
      return malformed(
          wire_error(WireError::bad_length, "EncryptedRandomSessionKey of " +
                                                std::to_string(auth.encrypted_random_session_key.size()) +
                                                " bytes with NEGOTIATE_KEY_EXCH, expected 16"));
    v.exported_session_key = to_array<16>(rc4(key_exchange_key, auth.encrypted_random_session_key));
  } else {
    v.exported_session_key = key_exchange_key;
  }
  return v;
}

Bytes av_string(std::string_view utf8) { return utf16le_bytes(wire::utf16_from_utf8(utf8)); }

}  // namespace

NtlmServer::NtlmServer(NtlmServerConfig config, TestHooks hooks)
    : config_{std::move(config)}, hooks_{hooks} {}

Expected<Bytes> NtlmServer::challenge(ByteView negotiate_message) {
  SMBX_TRY_VOID(ensure_ntlm_crypto());
  if (!challenge_.empty()) return usage_error("challenge() called twice on one exchange");
  auto negotiate = decode_negotiate(negotiate_message);
  if (!negotiate) return malformed(std::move(negotiate).error());
  const auto client_flags = negotiate->negotiate_flags;
  // Every SMB2 client asks for both; without ESS there is no mechListMIC.
  for (auto [flag, name] :
       {std::pair{ntlmssp::negotiate_unicode, "UNICODE"},
        std::pair{ntlmssp::negotiate_extended_sessionsecurity, "EXTENDED_SESSIONSECURITY"}})
    if (!(client_flags & flag))
      return Error{.kind = ErrorKind::auth,
                   .wire = WireError::none,
                   .status = wire::status::NOT_SUPPORTED,
                   .action = "NTLM challenge",
                   .detail = std::string{"the client did not offer "} + name};

  ChallengeMessage msg;
  // 3.2.5.1.1: what the client asked for and we support, plus TARGET_INFO and
  // the target type.
  msg.negotiate_flags =
      (client_flags & kSupportedFlags) | ntlmssp::negotiate_target_info | ntlmssp::target_type_server;
  if (msg.negotiate_flags & ntlmssp::negotiate_version) msg.version = Version{};
  msg.target_name = wire::utf16_from_utf8(config_.nb_computer_name);
  msg.server_challenge = hooks_.server_challenge.value_or(crypto::random_array<8>());
  Bytes timestamp(8);
  store_le64(timestamp.data(), hooks_.time.value_or(filetime_now()));
  // The order Samba and Windows use. The timestamp makes clients add a MIC.
  msg.target_info = {
      {static_cast<std::uint16_t>(AvId::msv_av_nb_domain_name), av_string(config_.nb_domain_name)},
      {static_cast<std::uint16_t>(AvId::msv_av_nb_computer_name), av_string(config_.nb_computer_name)},
      {static_cast<std::uint16_t>(AvId::msv_av_dns_domain_name), av_string(config_.dns_domain_name)},
      {static_cast<std::uint16_t>(AvId::msv_av_dns_computer_name), av_string(config_.dns_computer_name)},
      {static_cast<std::uint16_t>(AvId::msv_av_timestamp), std::move(timestamp)},
  };
  negotiate_.assign(negotiate_message.begin(), negotiate_message.end());
  challenge_ = encode_challenge(msg);
  server_challenge_ = msg.server_challenge;
  negotiated_flags_ = msg.negotiate_flags;
  return challenge_;
}

Expected<AuthResult> NtlmServer::authenticate(ByteView authenticate_message) {
  SMBX_TRY_VOID(ensure_ntlm_crypto());
  if (challenge_.empty()) return usage_error("authenticate() before challenge()");
  if (security_) return usage_error("authenticate() called twice on one exchange");
  auto decoded = decode_authenticate(authenticate_message);
  if (!decoded) return malformed(std::move(decoded).error());
  const auto& auth = *decoded;

  AuthResult result;
  result.user = wire::utf8_from_utf16(auth.user_name);
  result.domain = wire::utf8_from_utf16(auth.domain_name);

  // 3.2.5.1.2: an empty user name and empty responses mean ANONYMOUS; the LM
  // response may be empty or Z(1).
  const bool lm_empty = auth.lm_challenge_response.empty() ||
                        (auth.lm_challenge_response.size() == 1 && auth.lm_challenge_response[0] == 0);
  if (auth.user_name.empty() && auth.nt_challenge_response.empty() && lm_empty) {
    if (!config_.allow_anonymous) return logon_failure("anonymous logon is not allowed");
    result.is_anonymous = true;
    negotiated_flags_ &= auth.negotiate_flags;
    security_.emplace(result.exported_session_key, negotiated_flags_, false);
    return result;
  }

  // The blob is parsed (28-byte header, AV pairs up to MsvAvEOL) for
  // MsvAvFlags; the proof itself treats it as opaque bytes.
  std::optional<NtlmV2ClientChallenge> blob;
  if (auth.nt_challenge_response.size() > 24) {
    auto parsed = decode_ntlmv2_client_challenge(ByteView{auth.nt_challenge_response}.subspan(16));
    if (!parsed) return malformed(std::move(parsed).error());
    blob = std::move(*parsed);
  }

  const auto nt_hash = config_.lookup ? config_.lookup(auth.user_name, auth.domain_name) : std::nullopt;
  const auto verified = SMBX_TRY(
      verify_ntlmv2(nt_hash, server_challenge_, auth, auth.user_name, auth.domain_name, negotiated_flags_));

  // 3.2.5.1.2: the MIC is checked when MsvAvFlags says one was sent, not by
  // looking at the offsets.
  client_sent_mic_ = blob && (av_pair_flags(blob->av_pairs).value_or(0) & av_flags::mic_present);
  if (client_sent_mic_) {
    if (!auth.has_mic_field)
      return logon_failure("MsvAvFlags announces a MIC but the message has no MIC field");
    Bytes zeroed = auth.raw;
    std::fill_n(zeroed.begin() + AuthenticateMessage::kMicOffset, AuthenticateMessage::kMicSize, 0);
    const auto mic = compute_mic(verified.exported_session_key, negotiate_, challenge_, zeroed);
    if (!equal_constant_time(mic, auth.mic))
      return logon_failure("the AUTHENTICATE_MESSAGE MIC does not match for " +
                           account_name(auth.domain_name, auth.user_name));
  }

  negotiated_flags_ = verified.flags;
  result.exported_session_key = verified.exported_session_key;
  security_.emplace(result.exported_session_key, negotiated_flags_, false);
  return result;
}

Expected<Bytes> NtlmServer::make_mic(ByteView message) {
  if (!security_) return not_complete("make NTLM mechListMIC");
  const auto sig = security_->sign(message);
  return Bytes{sig.begin(), sig.end()};
}

Expected<void> NtlmServer::verify_mic(ByteView message, ByteView signature) {
  if (!security_) return not_complete("verify NTLM mechListMIC");
  return security_->verify(message, signature);
}

Expected<Bytes> recover_exported_session_key(std::string_view password, ByteView challenge_message,
                                             ByteView authenticate_message, std::optional<std::string> user,
                                             std::optional<std::string> domain) {
  SMBX_TRY_VOID(ensure_ntlm_crypto());
  auto challenge = decode_challenge(challenge_message);
  if (!challenge) return malformed(std::move(challenge).error());
  auto auth = decode_authenticate(authenticate_message);
  if (!auth) return malformed(std::move(auth).error());
  const auto user16 = user ? wire::utf16_from_utf8(*user) : auth->user_name;
  const auto domain16 = domain ? wire::utf16_from_utf8(*domain) : auth->domain_name;
  const auto verified = SMBX_TRY(verify_ntlmv2(nt_hash_from_password(password), challenge->server_challenge,
                                               *auth, user16, domain16, challenge->negotiate_flags));
  return Bytes{verified.exported_session_key.begin(), verified.exported_session_key.end()};
}

}  // namespace smbx::auth
