#include <algorithm>

#include "auth/spnego.hpp"
#include "wire/ntstatus.hpp"

// SpnegoServer: RFC 4178 acceptor offering NTLMSSP only.
namespace smbx::auth {
namespace {

constexpr std::string_view kAction = "SPNEGO session setup";

Error refuse(std::string detail, std::uint32_t status = wire::status::LOGON_FAILURE) {
  return Error{.kind = ErrorKind::auth,
               .wire = WireError::none,
               .status = status,
               .action = std::string{kAction},
               .detail = std::move(detail)};
}

Error usage_error(std::string detail) {
  return Error{.kind = ErrorKind::usage,
               .wire = WireError::none,
               .status = 0,
               .action = std::string{kAction},
               .detail = std::move(detail)};
}

// A token that does not decode: the SMB layer answers INVALID_PARAMETER.
Expected<SpnegoToken> parse(ByteView token, SpnegoKind expected_kind) {
  auto parsed = parse_spnego(token);
  if (!parsed) {
    auto e = std::move(parsed).error();
    e.status = wire::status::INVALID_PARAMETER;
    e.action = std::string{kAction} + ": " + e.action;
    return e;
  }
  if (parsed->kind != expected_kind)
    return refuse(
        expected_kind == SpnegoKind::neg_token_init ? "expected a NegTokenInit" : "expected a NegTokenResp",
        wire::status::INVALID_PARAMETER);
  return parsed;
}

bool is_ntlmssp(ByteView mech) {
  return std::equal(mech.begin(), mech.end(), oid::ntlmssp.begin(), oid::ntlmssp.end());
}

}  // namespace

SpnegoServer::SpnegoServer(NtlmServer ntlm) : ntlm_{std::move(ntlm)} {}

Bytes SpnegoServer::negotiate_hint() {
  const ByteView mechs[] = {oid::ntlmssp};
  return encode_neg_token_init2(encode_mech_type_list(mechs));
}

Expected<SpnegoServer::StepResult> SpnegoServer::step(ByteView client_token) {
  const State state = state_;
  state_ = State::failed;  // until a step succeeds, the context is dead
  Expected<StepResult> result = usage_error("step() after the exchange ended");
  switch (state) {
    case State::initial:
      result = step_initial(client_token);
      break;
    case State::expect_negotiate:
      result = step_negotiate(client_token);
      break;
    case State::expect_authenticate:
      result = step_authenticate(client_token);
      break;
    case State::raw_expect_authenticate:
      result = step_raw_authenticate(client_token);
      break;
    case State::done:
    case State::failed:
      break;
  }
  return result;
}

Expected<SpnegoServer::StepResult> SpnegoServer::step_initial(ByteView client_token) {
  // Samba and Windows accept NTLMSSP without SPNEGO around it.
  if (ntlm_message_type(client_token) == 1u) {
    StepResult out{.token = SMBX_TRY(ntlm_.challenge(client_token)), .complete = false, .auth = {}};
    state_ = State::raw_expect_authenticate;
    return out;
  }
  const auto init = SMBX_TRY(parse(client_token, SpnegoKind::neg_token_init));
  if (!init.offers(oid::ntlmssp))
    return refuse("the client does not offer NTLMSSP", wire::status::NOT_SUPPORTED);
  mech_type_list_ = init.mech_type_list;
  NegTokenResp resp;
  resp.supported_mech = Bytes{oid::ntlmssp.begin(), oid::ntlmssp.end()};
  // The optimistic mechToken belongs to the client's first mechanism
  // (RFC 4178 4.2.1); it can be used only when that is NTLMSSP.
  const bool preferred = is_ntlmssp(init.mech_types.front());
  if (preferred && init.mech_token) {
    if (ntlm_message_type(*init.mech_token) != 1u)
      return refuse("mechToken is not an NTLM NEGOTIATE_MESSAGE");
    resp.neg_state = NegState::accept_incomplete;
    resp.response_token = SMBX_TRY(ntlm_.challenge(*init.mech_token));
    state_ = State::expect_authenticate;
  } else {
    // RFC 4178 5: choosing other than the client's first mechanism makes the
    // mechListMIC exchange mandatory, and the server says so.
    mic_required_ = !preferred;
    resp.neg_state = preferred ? NegState::accept_incomplete : NegState::request_mic;
    state_ = State::expect_negotiate;
  }
  return StepResult{.token = encode_neg_token_resp(resp), .complete = false, .auth = {}};
}

Expected<SpnegoServer::StepResult> SpnegoServer::step_negotiate(ByteView client_token) {
  const auto token = SMBX_TRY(parse(client_token, SpnegoKind::neg_token_resp));
  if (!token.response_token || ntlm_message_type(*token.response_token) != 1u)
    return refuse("expected an NTLM NEGOTIATE_MESSAGE in the responseToken");
  NegTokenResp resp;
  resp.neg_state = NegState::accept_incomplete;
  resp.response_token = SMBX_TRY(ntlm_.challenge(*token.response_token));
  state_ = State::expect_authenticate;
  return StepResult{.token = encode_neg_token_resp(resp), .complete = false, .auth = {}};
}

Expected<SpnegoServer::StepResult> SpnegoServer::step_authenticate(ByteView client_token) {
  const auto token = SMBX_TRY(parse(client_token, SpnegoKind::neg_token_resp));
  if (!token.response_token || ntlm_message_type(*token.response_token) != 3u)
    return refuse("expected an NTLM AUTHENTICATE_MESSAGE in the responseToken");
  auto auth = SMBX_TRY(ntlm_.authenticate(*token.response_token));
  NegTokenResp resp;
  resp.neg_state = NegState::accept_completed;
  if (!auth.is_anonymous) {
    // ntlm.md §2.4: with the NTLM MIC (or after request-mic) the client must
    // send the mechListMIC; the server checks it and answers with its own.
    if (token.mech_list_mic) {
      if (!ntlm_.verify_mic(mech_type_list_, *token.mech_list_mic))
        return refuse("the client's mechListMIC does not verify");
      resp.mech_list_mic = SMBX_TRY(ntlm_.make_mic(mech_type_list_));
    } else if (mic_required_ || ntlm_.client_sent_mic()) {
      return refuse("the client sent no mechListMIC although one is required");
    }
  }
  state_ = State::done;
  return StepResult{.token = encode_neg_token_resp(resp), .complete = true, .auth = std::move(auth)};
}

Expected<SpnegoServer::StepResult> SpnegoServer::step_raw_authenticate(ByteView client_token) {
  if (ntlm_message_type(client_token) != 3u) return refuse("expected a raw NTLM AUTHENTICATE_MESSAGE");
  auto auth = SMBX_TRY(ntlm_.authenticate(client_token));
  state_ = State::done;
  return StepResult{.token = {}, .complete = true, .auth = std::move(auth)};
}

}  // namespace smbx::auth
