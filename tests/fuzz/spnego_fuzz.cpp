// libFuzzer target for the SPNEGO codecs and SpnegoServer::step.
//
// The first byte picks what the rest feeds:
//   0: parse_spnego and extract_ntlm_message; what parses must re-encode to a
//      token that parses to the same fields;
//   1: SpnegoServer::step on arbitrary bytes as the first token;
//   2: SpnegoServer::step on arbitrary bytes as the AUTHENTICATE round, after
//      a valid NegTokenInit from an NtlmClient.
#include <cstddef>
#include <cstdint>

#include "auth/spnego.hpp"

using namespace smbx;
using namespace smbx::auth;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::optional<ByteView> view(const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  return ByteView{*b};
}

void parse_and_reencode(ByteView data) {
  (void)extract_ntlm_message(data);
  auto token = parse_spnego(data);
  if (!token) return;
  if (token->kind == SpnegoKind::neg_token_resp) {
    const NegTokenResp fields{token->neg_state, token->supported_mech, token->response_token,
                              token->mech_list_mic};
    auto again = parse_spnego(encode_neg_token_resp(fields));
    check(again.has_value());
    check(again->neg_state == token->neg_state && again->supported_mech == token->supported_mech &&
          again->response_token == token->response_token && again->mech_list_mic == token->mech_list_mic);
    return;
  }
  // A NegTokenInit without mechTypes cannot be re-encoded as one.
  if (token->mech_type_list.empty()) return;
  auto again =
      parse_spnego(token->hint_name ? encode_neg_token_init2(token->mech_type_list, *token->hint_name)
                                    : encode_neg_token_init(token->mech_type_list, view(token->mech_token),
                                                            view(token->mech_list_mic)));
  check(again.has_value());
  check(again->mech_types == token->mech_types && again->mech_type_list == token->mech_type_list);
  if (token->hint_name)
    check(again->hint_name == token->hint_name);
  else
    check(again->mech_token == token->mech_token && again->mech_list_mic == token->mech_list_mic);
}

NtlmServer make_server() {
  NtlmServerConfig config;
  config.lookup = [hash = nt_hash_from_password("Passw0rd!")](
                      std::u16string_view, std::u16string_view) -> std::optional<NtHash> { return hash; };
  config.allow_anonymous = true;
  NtlmServer::TestHooks hooks;
  hooks.server_challenge = Challenge8{1, 2, 3, 4, 5, 6, 7, 8};
  hooks.time = 0x01dd000000000000ull;
  return NtlmServer{config, hooks};
}

void first_step(ByteView data) {
  SpnegoServer server{make_server()};
  auto r = server.step(data);
  if (r) (void)server.step(data);  // the same bytes again, in the next state
}

void authenticate_step(ByteView data) {
  SpnegoServer server{make_server()};
  SpnegoClient client{NtlmClient{Credentials{"alice", "TESTDOM", "Passw0rd!"}, "WS", "cifs/x"}};
  auto r = server.step(client.initial_token());
  check(r.has_value());
  auto result = server.step(data);
  // Arbitrary bytes cannot carry a valid proof except for anonymous.
  if (result) check(result->complete && result->auth && result->auth->is_anonymous);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const ByteView data{bytes + 1, size - 1};
  switch (bytes[0] % 3) {
    case 0:
      parse_and_reencode(data);
      break;
    case 1:
      first_step(data);
      break;
    case 2:
      authenticate_step(data);
      break;
  }
  return 0;
}
