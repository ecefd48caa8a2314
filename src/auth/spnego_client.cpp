#include <algorithm>

#include "auth/spnego.hpp"
#include "wire/ntstatus.hpp"

// SpnegoClient: RFC 4178 initiator with NTLMSSP as its only mechanism.
namespace smbx::auth {
namespace {

Error client_error(std::string detail, std::uint32_t status = 0) {
  return Error{.kind = ErrorKind::auth,
               .wire = WireError::none,
               .status = status,
               .action = "SPNEGO session setup",
               .detail = std::move(detail)};
}

Error usage_error(std::string detail) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = "SPNEGO session setup",
               .detail = std::move(detail)};
}

Expected<SpnegoToken> parse_resp(ByteView token, std::string_view which) {
  auto parsed = parse_spnego(token);
  if (!parsed) {
    auto e = std::move(parsed).error();
    e.action = "SPNEGO session setup: " + std::string{which} + ": " + e.action;
    return e;
  }
  if (parsed->kind != SpnegoKind::neg_token_resp)
    return client_error(std::string{which} + " is not a NegTokenResp");
  if (parsed->neg_state == NegState::reject)
    return client_error("the server rejected the authentication (negState reject)",
                        wire::status::LOGON_FAILURE);
  return parsed;
}

}  // namespace

SpnegoClient::SpnegoClient(NtlmClient ntlm) : ntlm_{std::move(ntlm)} {
  const ByteView mechs[] = {oid::ntlmssp};
  mech_type_list_ = encode_mech_type_list(mechs);
}

Expected<void> SpnegoClient::accept_negotiate_hint(ByteView security_buffer) {
  // MS-SMB2 3.2.5.2: an empty buffer leaves the choice to the client.
  if (security_buffer.empty()) return {};
  const auto hint = SMBX_TRY(parse_spnego(security_buffer));
  if (hint.kind != SpnegoKind::neg_token_init)
    return Unexpected{client_error("NEGOTIATE hint is not a NegTokenInit")};
  if (!hint.mech_types.empty() && !hint.offers(oid::ntlmssp))
    return Unexpected{client_error("the server does not offer NTLMSSP")};
  return {};
}

Bytes SpnegoClient::initial_token() {
  const auto negotiate = ntlm_.negotiate_message();
  return encode_neg_token_init(mech_type_list_, ByteView{negotiate});
}

Expected<Bytes> SpnegoClient::step(ByteView server_token) {
  if (stepped_) return usage_error("step() called twice");
  const auto resp = SMBX_TRY(parse_resp(server_token, "CHALLENGE response"));
  // RFC 4178 4.2.2: the first reply is accept-incomplete (or request-mic)
  // and names the mechanism; NTLM always needs the AUTHENTICATE round.
  if (resp.neg_state != NegState::accept_incomplete && resp.neg_state != NegState::request_mic)
    return client_error("the server's first NegTokenResp is not accept-incomplete");
  if (resp.supported_mech && !std::equal(resp.supported_mech->begin(), resp.supported_mech->end(),
                                         oid::ntlmssp.begin(), oid::ntlmssp.end()))
    return client_error("the server chose a mechanism other than NTLMSSP");
  if (!resp.response_token || ntlm_message_type(*resp.response_token) != 2u)
    return client_error("the server's NegTokenResp carries no NTLM CHALLENGE_MESSAGE");
  auto authenticate = SMBX_TRY(ntlm_.authenticate(*resp.response_token));
  NegTokenResp out;
  out.response_token = std::move(authenticate);
  // ntlm.md §2.4: Samba and Windows require the mechListMIC whenever the NTLM
  // MIC is sent; request-mic asks for it explicitly. Anonymous has no key.
  if ((ntlm_.sent_mic() || resp.neg_state == NegState::request_mic) && !ntlm_.is_anonymous())
    out.mech_list_mic = SMBX_TRY(ntlm_.make_mic(mech_type_list_));
  stepped_ = true;
  return encode_neg_token_resp(out);
}

Expected<void> SpnegoClient::finish(ByteView final_server_token) {
  if (!stepped_) return Unexpected{usage_error("finish() before step()")};
  if (complete_) return Unexpected{usage_error("finish() called twice")};
  const auto resp = SMBX_TRY(parse_resp(final_server_token, "final response"));
  if (resp.neg_state != NegState::accept_completed)
    return Unexpected{client_error("the server's final NegTokenResp is not accept-completed")};
  if (resp.mech_list_mic && !ntlm_.is_anonymous()) {
    auto verified = ntlm_.verify_mic(mech_type_list_, *resp.mech_list_mic);
    if (!verified)
      return Unexpected{Error{.kind = ErrorKind::crypto,
                              .wire = WireError::none,
                              .status = 0,
                              .action = "SPNEGO session setup",
                              .detail = "the server's mechListMIC does not verify"}};
  }
  complete_ = true;
  return {};
}

}  // namespace smbx::auth
