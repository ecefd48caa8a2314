#include "auth/spnego.hpp"

#include <algorithm>

#include "auth/der.hpp"

// SPNEGO token codecs: RFC 4178 4.2, MS-SPNG 2.2.1, RFC 2743 3.1.
namespace smbx::auth {
namespace {

Error fail(WireError code, std::string detail) {
  auto e = wire_error(code, std::move(detail));
  e.action = "decode SPNEGO token";
  return e;
}

bool same(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// The single TLV inside an EXPLICIT context tag.
Expected<der::Tlv> explicit_inner(const der::Tlv& outer, std::uint8_t inner_tag, std::string_view what) {
  return der::read_only(outer.value, inner_tag, what);
}

Expected<Bytes> octet_string(const der::Tlv& outer, std::string_view what) {
  const auto inner = SMBX_TRY(explicit_inner(outer, der::tag::octet_string, what));
  return Bytes{inner.value.begin(), inner.value.end()};
}

// Reads the elements of a SEQUENCE whose members carry context tags [0],
// [1], ... in increasing order; unknown higher tags are skipped (the ASN.1
// extension marker "..." of both NegTokenInit and NegTokenResp).
template <typename Handle>
Expected<void> for_each_element(ByteView sequence_contents, std::string_view what, Handle&& handle) {
  der::Reader r{sequence_contents};
  int last = -1;
  while (!r.at_end()) {
    const auto element = SMBX_TRY(r.read());
    if ((element.tag & 0xE0) != 0xA0)
      return Unexpected{fail(
          WireError::bad_value,
          std::string{what} + " element with tag " + std::to_string(element.tag) + " is not a context tag")};
    const int number = element.tag & 0x1F;
    if (number <= last)
      return Unexpected{fail(WireError::bad_value, std::string{what} + " element [" + std::to_string(number) +
                                                       "] is out of order or repeated")};
    last = number;
    SMBX_TRY_VOID(handle(number, element));
  }
  return {};
}

Expected<void> parse_mech_type_list(const der::Tlv& outer, SpnegoToken& token) {
  const auto list = SMBX_TRY(explicit_inner(outer, der::tag::sequence, "mechTypes"));
  token.mech_type_list.assign(list.encoded.begin(), list.encoded.end());
  der::Reader r{list.value};
  while (!r.at_end()) {
    const auto mech = SMBX_TRY(r.read(der::tag::object_identifier, "MechType"));
    token.mech_types.emplace_back(mech.value.begin(), mech.value.end());
  }
  return {};
}

Expected<void> parse_neg_hints(const der::Tlv& outer, SpnegoToken& token) {
  const auto hints = SMBX_TRY(explicit_inner(outer, der::tag::sequence, "negHints"));
  return for_each_element(
      hints.value, "negHints", [&](int number, const der::Tlv& element) -> Expected<void> {
        if (number == 0) {
          const auto name = SMBX_TRY(explicit_inner(element, der::tag::general_string, "hintName"));
          token.hint_name = std::string{name.value.begin(), name.value.end()};
        }
        return {};  // hintAddress is never sent (MS-SPNG 2.2.1) and carries nothing we use
      });
}

// NegTokenInit (RFC 4178 4.2.1) and NegTokenInit2 (MS-SPNG 2.2.1) share
// [0]..[2]; [3] is mechListMIC in the first and negHints in the second.
Expected<void> parse_neg_token_init(ByteView contents, SpnegoToken& token) {
  const auto seq = SMBX_TRY(der::read_only(contents, der::tag::sequence, "NegTokenInit"));
  token.kind = SpnegoKind::neg_token_init;
  return for_each_element(seq.value, "NegTokenInit",
                          [&](int number, const der::Tlv& element) -> Expected<void> {
                            switch (number) {
                              case 0:
                                return parse_mech_type_list(element, token);
                              case 1:
                                return {};  // reqFlags: SHOULD be omitted and are ignored
                              case 2:
                                token.mech_token = SMBX_TRY(octet_string(element, "mechToken"));
                                return {};
                              case 3: {
                                der::Reader probe{element.value};
                                if (probe.peek_tag() == der::tag::sequence)
                                  return parse_neg_hints(element, token);
                                token.mech_list_mic = SMBX_TRY(octet_string(element, "mechListMIC"));
                                return {};
                              }
                              case 4:
                                token.mech_list_mic = SMBX_TRY(octet_string(element, "mechListMIC"));
                                return {};
                              default:
                                return {};
                            }
                          });
}

Expected<void> parse_neg_token_resp(ByteView contents, SpnegoToken& token) {
  const auto seq = SMBX_TRY(der::read_only(contents, der::tag::sequence, "NegTokenResp"));
  token.kind = SpnegoKind::neg_token_resp;
  return for_each_element(
      seq.value, "NegTokenResp", [&](int number, const der::Tlv& element) -> Expected<void> {
        switch (number) {
          case 0: {
            const auto state = SMBX_TRY(explicit_inner(element, der::tag::enumerated, "negState"));
            if (state.value.size() != 1 || state.value[0] > 3)
              return Unexpected{fail(WireError::bad_value, "negState is not one of 0..3")};
            token.neg_state = static_cast<NegState>(state.value[0]);
            return {};
          }
          case 1: {
            const auto mech = SMBX_TRY(explicit_inner(element, der::tag::object_identifier, "supportedMech"));
            token.supported_mech = Bytes{mech.value.begin(), mech.value.end()};
            return {};
          }
          case 2:
            token.response_token = SMBX_TRY(octet_string(element, "responseToken"));
            return {};
          case 3:
            token.mech_list_mic = SMBX_TRY(octet_string(element, "mechListMIC"));
            return {};
          default:
            return {};
        }
      });
}

void append_explicit(Bytes& out, unsigned number, ByteView inner) {
  der::append_tlv(out, der::tag::context(number), inner);
}

Bytes wrap_initial_context_token(ByteView neg_token_init_body) {
  Bytes inner = der::tlv(der::tag::object_identifier, oid::spnego);
  der::append_tlv(inner, der::tag::context(0), der::tlv(der::tag::sequence, neg_token_init_body));
  return der::tlv(der::tag::application_0, inner);
}

}  // namespace

bool SpnegoToken::offers(ByteView mech) const {
  return std::any_of(mech_types.begin(), mech_types.end(), [&](const Bytes& m) { return same(m, mech); });
}

Expected<SpnegoToken> parse_spnego(ByteView token) {
  der::Reader top{token};
  const auto outer = SMBX_TRY(top.read());
  if (!top.at_end())
    return fail(WireError::trailing_data,
                std::to_string(token.size() - outer.encoded.size()) + " bytes after the SPNEGO token");
  SpnegoToken out;
  if (outer.tag == der::tag::application_0) {
    // RFC 2743 3.1: thisMech, then the mechanism's token.
    der::Reader r{outer.value};
    const auto mech = SMBX_TRY(r.read(der::tag::object_identifier, "thisMech"));
    if (!same(mech.value, oid::spnego))
      return fail(WireError::bad_value, "InitialContextToken is for a mechanism other than SPNEGO");
    const auto inner = SMBX_TRY(r.read(der::tag::context(0), "NegTokenInit"));
    SMBX_TRY_VOID(r.expect_end("InitialContextToken"));
    out.has_initial_context_token = true;
    SMBX_TRY_VOID(parse_neg_token_init(inner.value, out));
    return out;
  }
  if (outer.tag == der::tag::context(0)) {
    SMBX_TRY_VOID(parse_neg_token_init(outer.value, out));
    return out;
  }
  if (outer.tag == der::tag::context(1)) {
    SMBX_TRY_VOID(parse_neg_token_resp(outer.value, out));
    return out;
  }
  return fail(WireError::bad_value,
              "token starts with tag " + std::to_string(outer.tag) + ", not a NegTokenInit or NegTokenResp");
}

Bytes encode_mech_type_list(std::span<const ByteView> mechs) {
  Bytes body;
  for (ByteView m : mechs) der::append_tlv(body, der::tag::object_identifier, m);
  return der::tlv(der::tag::sequence, body);
}

Bytes encode_neg_token_init(ByteView mech_type_list, std::optional<ByteView> mech_token,
                            std::optional<ByteView> mech_list_mic) {
  Bytes body;
  append_explicit(body, 0, mech_type_list);
  if (mech_token) append_explicit(body, 2, der::tlv(der::tag::octet_string, *mech_token));
  if (mech_list_mic) append_explicit(body, 3, der::tlv(der::tag::octet_string, *mech_list_mic));
  return wrap_initial_context_token(body);
}

Bytes encode_neg_token_init2(ByteView mech_type_list, std::string_view hint_name) {
  Bytes body;
  append_explicit(body, 0, mech_type_list);
  const ByteView name{reinterpret_cast<const std::uint8_t*>(hint_name.data()), hint_name.size()};
  Bytes hints;
  append_explicit(hints, 0, der::tlv(der::tag::general_string, name));
  append_explicit(body, 3, der::tlv(der::tag::sequence, hints));
  return wrap_initial_context_token(body);
}

Bytes encode_neg_token_resp(const NegTokenResp& resp) {
  Bytes body;
  if (resp.neg_state) {
    const std::uint8_t state = static_cast<std::uint8_t>(*resp.neg_state);
    append_explicit(body, 0, der::tlv(der::tag::enumerated, ByteView{&state, 1}));
  }
  if (resp.supported_mech)
    append_explicit(body, 1, der::tlv(der::tag::object_identifier, *resp.supported_mech));
  if (resp.response_token) append_explicit(body, 2, der::tlv(der::tag::octet_string, *resp.response_token));
  if (resp.mech_list_mic) append_explicit(body, 3, der::tlv(der::tag::octet_string, *resp.mech_list_mic));
  return der::tlv(der::tag::context(1), der::tlv(der::tag::sequence, body));
}

Expected<std::optional<Bytes>> extract_ntlm_message(ByteView security_buffer) {
  if (security_buffer.empty()) return std::optional<Bytes>{};
  if (ntlm_message_type(security_buffer))
    return std::optional<Bytes>{Bytes{security_buffer.begin(), security_buffer.end()}};
  const auto token = SMBX_TRY(parse_spnego(security_buffer));
  const auto& inner = token.kind == SpnegoKind::neg_token_init ? token.mech_token : token.response_token;
  if (inner && ntlm_message_type(*inner)) return std::optional<Bytes>{*inner};
  return std::optional<Bytes>{};
}

Expected<std::vector<Bytes>> extract_ntlm_messages(std::span<const ByteView> security_buffers) {
  std::vector<Bytes> out;
  for (ByteView buffer : security_buffers) {
    auto message = SMBX_TRY(extract_ntlm_message(buffer));
    if (message) out.push_back(std::move(*message));
  }
  return out;
}

}  // namespace smbx::auth
