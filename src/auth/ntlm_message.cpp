#include "auth/ntlm_message.hpp"

#include <algorithm>
#include <string_view>

namespace smbx::auth {
namespace {

// Fixed parts of each message, without the optional VERSION (MS-NLMP 2.2.1.x).
constexpr std::size_t kNegotiateFixed = 32;
constexpr std::size_t kChallengeFixed = 48;
constexpr std::size_t kAuthenticateFixed = 64;
constexpr std::size_t kVersionSize = 8;

Error fail(WireError code, std::string_view message, std::string detail) {
  auto e = wire_error(code, std::move(detail));
  e.action = "decode NTLM " + std::string{message};
  return e;
}

Expected<void> check_header(wire::Reader& r, NtlmMessageType type, std::string_view name) {
  const auto signature = SMBX_TRY(r.array<8>());
  if (signature != kNtlmSignature)
    return Unexpected{fail(WireError::bad_protocol_id, name, "Signature is not \"NTLMSSP\\0\"")};
  const auto message_type = SMBX_TRY(r.u32());
  if (message_type != static_cast<std::uint32_t>(type))
    return Unexpected{fail(WireError::bad_value, name,
                           "MessageType " + std::to_string(message_type) + ", expected " +
                               std::to_string(static_cast<std::uint32_t>(type)))};
  return {};
}

// A field descriptor (MS-NLMP 2.2.1.1): Len, MaxLen, BufferOffset from the
// start of the message. Empty fields are not located: peers leave any offset.
struct FieldDescriptor {
  std::uint16_t len = 0;
  std::uint32_t offset = 0;
};

Expected<FieldDescriptor> read_descriptor(wire::Reader& r) {
  FieldDescriptor d;
  d.len = SMBX_TRY(r.u16());
  SMBX_TRY(r.u16());  // MaxLen: SHOULD equal Len, MUST be ignored on receipt
  d.offset = SMBX_TRY(r.u32());
  return d;
}

// The bytes a descriptor names; they must lie after the fixed part and inside
// the message. 64-bit arithmetic in Reader::window keeps offset + len exact.
Expected<ByteView> field_bytes(const wire::Reader& r, const FieldDescriptor& d, std::size_t payload_start,
                               std::string_view message, std::string_view field) {
  if (d.len == 0) return ByteView{};
  if (d.offset < payload_start)
    return fail(WireError::bad_offset, message,
                std::string{field} + "BufferOffset " + std::to_string(d.offset) + " lies inside the " +
                    std::to_string(payload_start) + "-byte fixed part");
  auto bytes = r.window(d.offset, d.len);
  if (!bytes)
    return fail(WireError::truncated, message,
                std::string{field} + " (offset " + std::to_string(d.offset) + ", length " +
                    std::to_string(d.len) + ") runs past the " + std::to_string(r.size()) + "-byte message");
  return *bytes;
}

Expected<std::u16string> field_string(ByteView bytes, bool unicode, std::string_view message,
                                      std::string_view field) {
  if (!unicode) return std::u16string(bytes.begin(), bytes.end());  // OEM: widened byte by byte
  if (bytes.size() % 2 != 0)
    return fail(WireError::bad_length, message,
                std::string{field} + " has odd length " + std::to_string(bytes.size()) + " for UTF-16");
  return wire::utf16_from_le_bytes(bytes);
}

Expected<Version> read_version(wire::Reader& r) {
  Version v;
  v.product_major_version = SMBX_TRY(r.u8());
  v.product_minor_version = SMBX_TRY(r.u8());
  v.product_build = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(3));  // Reserved
  v.ntlm_revision_current = SMBX_TRY(r.u8());
  return v;
}

void write_version(wire::Writer& w, const Version& v) {
  w.u8(v.product_major_version);
  w.u8(v.product_minor_version);
  w.u16(v.product_build);
  w.zeros(3);
  w.u8(v.ntlm_revision_current);
}

// Encoders reserve descriptors in the fixed part and fill them as the payload
// is appended, in descriptor order (the order Samba and Windows use).
struct PendingField {
  std::size_t at;
  Bytes data;
};

void append_payload(Bytes& out, const std::vector<PendingField>& fields) {
  wire::Writer w{out};
  for (const auto& f : fields) {
    const auto offset = static_cast<std::uint32_t>(out.size());
    const auto len = static_cast<std::uint16_t>(f.data.size());
    w.bytes(f.data);
    w.patch_u16(f.at, len);
    w.patch_u16(f.at + 2, len);
    w.patch_u32(f.at + 4, offset);
  }
}

Bytes string_bytes(std::u16string_view text, bool unicode) {
  if (unicode) return utf16le_bytes(text);
  Bytes out;
  for (char16_t c : text) out.push_back(static_cast<std::uint8_t>(c));
  return out;
}

void write_header(wire::Writer& w, NtlmMessageType type) {
  w.bytes(kNtlmSignature);
  w.u32(static_cast<std::uint32_t>(type));
}

}  // namespace

std::optional<std::uint32_t> ntlm_message_type(ByteView message) {
  if (message.size() < 12 || !std::equal(kNtlmSignature.begin(), kNtlmSignature.end(), message.begin()))
    return std::nullopt;
  return load_le32(message.data() + 8);
}

Bytes utf16le_bytes(std::u16string_view text) {
  Bytes out;
  wire::Writer w{out};
  wire::write_utf16le(w, text);
  return out;
}

// ---- AV_PAIR (MS-NLMP 2.2.2.1) ----

Expected<AvPairList> decode_av_pairs(ByteView bytes) {
  wire::Reader r{bytes};
  AvPairList pairs;
  for (;;) {
    if (r.remaining() < 4)
      return fail(WireError::truncated, "AV_PAIR list",
                  "ends at offset " + std::to_string(r.position()) + " without MsvAvEOL");
    const auto id = SMBX_TRY(r.u16());
    const auto len = SMBX_TRY(r.u16());
    if (len > r.remaining())
      return fail(WireError::truncated, "AV_PAIR list",
                  "AvId " + std::to_string(id) + " AvLen " + std::to_string(len) + " runs past the list (" +
                      std::to_string(r.remaining()) + " bytes left)");
    const auto value = SMBX_TRY(r.take(len));
    if (id == static_cast<std::uint16_t>(AvId::msv_av_eol)) {
      if (len != 0)
        return fail(WireError::bad_length, "AV_PAIR list", "MsvAvEOL with AvLen " + std::to_string(len));
      return pairs;
    }
    // Fixed-size values (2.2.2.1): a wrong size would make the reader of the
    // flags or the timestamp guess.
    std::size_t want = 0;
    switch (static_cast<AvId>(id)) {
      case AvId::msv_av_flags:
        want = 4;
        break;
      case AvId::msv_av_timestamp:
        want = 8;
        break;
      case AvId::msv_av_channel_bindings:
        want = 16;
        break;
      default:
        break;
    }
    if (want != 0 && len != want)
      return fail(WireError::bad_length, "AV_PAIR list",
                  "AvId " + std::to_string(id) + " has AvLen " + std::to_string(len) + ", expected " +
                      std::to_string(want));
    pairs.push_back(AvPair{id, Bytes{value.begin(), value.end()}});
  }
}

void encode_av_pairs(wire::Writer& w, const AvPairList& pairs) {
  for (const auto& p : pairs) {
    w.u16(p.av_id);
    w.u16(static_cast<std::uint16_t>(p.value.size()));
    w.bytes(p.value);
  }
  w.u16(static_cast<std::uint16_t>(AvId::msv_av_eol));
  w.u16(0);
}

Bytes encode_av_pairs(const AvPairList& pairs) {
  Bytes out;
  wire::Writer w{out};
  encode_av_pairs(w, pairs);
  return out;
}

const AvPair* find_av_pair(const AvPairList& pairs, AvId id) {
  for (const auto& p : pairs)
    if (p.av_id == static_cast<std::uint16_t>(id)) return &p;
  return nullptr;
}

std::optional<std::uint32_t> av_pair_flags(const AvPairList& pairs) {
  const auto* p = find_av_pair(pairs, AvId::msv_av_flags);
  if (p == nullptr || p->value.size() != 4) return std::nullopt;
  return load_le32(p->value.data());
}

std::optional<std::uint64_t> av_pair_timestamp(const AvPairList& pairs) {
  const auto* p = find_av_pair(pairs, AvId::msv_av_timestamp);
  if (p == nullptr || p->value.size() != 8) return std::nullopt;
  return load_le64(p->value.data());
}

void set_av_pair(AvPairList& pairs, AvId id, Bytes value) {
  for (auto& p : pairs) {
    if (p.av_id == static_cast<std::uint16_t>(id)) {
      p.value = std::move(value);
      return;
    }
  }
  pairs.push_back(AvPair{static_cast<std::uint16_t>(id), std::move(value)});
}

// ---- NEGOTIATE_MESSAGE (2.2.1.1) ----

Expected<NegotiateMessage> decode_negotiate(ByteView message) {
  constexpr std::string_view kName = "NEGOTIATE_MESSAGE";
  wire::Reader r{message};
  if (message.size() < kNegotiateFixed)
    return fail(WireError::truncated, kName, std::to_string(message.size()) + " bytes, need at least 32");
  SMBX_TRY_VOID(check_header(r, NtlmMessageType::negotiate, kName));
  NegotiateMessage msg;
  msg.negotiate_flags = SMBX_TRY(r.u32());
  const auto domain = SMBX_TRY(read_descriptor(r));
  const auto workstation = SMBX_TRY(read_descriptor(r));
  std::size_t payload_start = kNegotiateFixed;
  if ((msg.negotiate_flags & ntlmssp::negotiate_version) && r.remaining() >= kVersionSize) {
    msg.version = SMBX_TRY(read_version(r));
    payload_start += kVersionSize;
  }
  // 2.2.1.1: the OEM fields are meaningful only with their *_SUPPLIED flag.
  if (msg.negotiate_flags & ntlmssp::negotiate_oem_domain_supplied) {
    const auto b = SMBX_TRY(field_bytes(r, domain, payload_start, kName, "DomainName"));
    msg.domain_name.assign(b.begin(), b.end());
  }
  if (msg.negotiate_flags & ntlmssp::negotiate_oem_workstation_supplied) {
    const auto b = SMBX_TRY(field_bytes(r, workstation, payload_start, kName, "Workstation"));
    msg.workstation.assign(b.begin(), b.end());
  }
  return msg;
}

Bytes encode_negotiate(const NegotiateMessage& msg) {
  Bytes out;
  wire::Writer w{out};
  write_header(w, NtlmMessageType::negotiate);
  auto flags = msg.negotiate_flags;
  if (msg.version) flags |= ntlmssp::negotiate_version;
  if (!msg.domain_name.empty()) flags |= ntlmssp::negotiate_oem_domain_supplied;
  if (!msg.workstation.empty()) flags |= ntlmssp::negotiate_oem_workstation_supplied;
  w.u32(flags);
  std::vector<PendingField> fields;
  fields.push_back({w.reserve(8), msg.domain_name});
  fields.push_back({w.reserve(8), msg.workstation});
  if (flags & ntlmssp::negotiate_version) write_version(w, msg.version.value_or(Version{}));
  append_payload(out, fields);
  return out;
}

// ---- CHALLENGE_MESSAGE (2.2.1.2) ----

Expected<ChallengeMessage> decode_challenge(ByteView message) {
  constexpr std::string_view kName = "CHALLENGE_MESSAGE";
  wire::Reader r{message};
  if (message.size() < kChallengeFixed)
    return fail(WireError::truncated, kName, std::to_string(message.size()) + " bytes, need at least 48");
  SMBX_TRY_VOID(check_header(r, NtlmMessageType::challenge, kName));
  ChallengeMessage msg;
  const auto target_name = SMBX_TRY(read_descriptor(r));
  msg.negotiate_flags = SMBX_TRY(r.u32());
  msg.server_challenge = SMBX_TRY(r.array<8>());
  SMBX_TRY_VOID(r.skip(8));  // Reserved
  const auto target_info = SMBX_TRY(read_descriptor(r));
  std::size_t payload_start = kChallengeFixed;
  if ((msg.negotiate_flags & ntlmssp::negotiate_version) && r.remaining() >= kVersionSize) {
    msg.version = SMBX_TRY(read_version(r));
    payload_start += kVersionSize;
  }
  const bool unicode = msg.negotiate_flags & ntlmssp::negotiate_unicode;
  const auto name = SMBX_TRY(field_bytes(r, target_name, payload_start, kName, "TargetName"));
  msg.target_name = SMBX_TRY(field_string(name, unicode, kName, "TargetName"));
  if (msg.negotiate_flags & ntlmssp::negotiate_target_info) {
    const auto info = SMBX_TRY(field_bytes(r, target_info, payload_start, kName, "TargetInfo"));
    if (!info.empty()) msg.target_info = SMBX_TRY(decode_av_pairs(info));
  }
  return msg;
}

Bytes encode_challenge(const ChallengeMessage& msg) {
  Bytes out;
  wire::Writer w{out};
  write_header(w, NtlmMessageType::challenge);
  std::vector<PendingField> fields;
  const bool unicode = msg.negotiate_flags & ntlmssp::negotiate_unicode;
  fields.push_back({w.reserve(8), string_bytes(msg.target_name, unicode)});
  auto flags = msg.negotiate_flags;
  if (msg.version) flags |= ntlmssp::negotiate_version;
  w.u32(flags);
  w.bytes(msg.server_challenge);
  w.zeros(8);
  const bool has_info = flags & ntlmssp::negotiate_target_info;
  fields.push_back({w.reserve(8), has_info ? encode_av_pairs(msg.target_info) : Bytes{}});
  if (flags & ntlmssp::negotiate_version) write_version(w, msg.version.value_or(Version{}));
  append_payload(out, fields);
  return out;
}

// ---- AUTHENTICATE_MESSAGE (2.2.1.3) ----

Expected<AuthenticateMessage> decode_authenticate(ByteView message) {
  constexpr std::string_view kName = "AUTHENTICATE_MESSAGE";
  wire::Reader r{message};
  if (message.size() < kAuthenticateFixed)
    return fail(WireError::truncated, kName, std::to_string(message.size()) + " bytes, need at least 64");
  SMBX_TRY_VOID(check_header(r, NtlmMessageType::authenticate, kName));
  const auto lm = SMBX_TRY(read_descriptor(r));
  const auto nt = SMBX_TRY(read_descriptor(r));
  const auto domain = SMBX_TRY(read_descriptor(r));
  const auto user = SMBX_TRY(read_descriptor(r));
  const auto workstation = SMBX_TRY(read_descriptor(r));
  const auto session_key = SMBX_TRY(read_descriptor(r));
  AuthenticateMessage msg;
  msg.negotiate_flags = SMBX_TRY(r.u32());
  std::size_t payload_start = kAuthenticateFixed;
  if ((msg.negotiate_flags & ntlmssp::negotiate_version) && r.remaining() >= kVersionSize) {
    msg.version = SMBX_TRY(read_version(r));
    payload_start += kVersionSize;
  }
  // The MIC field exists when no payload starts before its end (2.2.1.3);
  // whether it must be checked is decided by MsvAvFlags in the NTLMv2 blob.
  std::uint64_t first_payload = message.size();
  for (const auto* d : {&lm, &nt, &domain, &user, &workstation, &session_key})
    if (d->len != 0) first_payload = std::min<std::uint64_t>(first_payload, d->offset);
  constexpr auto kMicEnd = AuthenticateMessage::kMicOffset + AuthenticateMessage::kMicSize;
  if (message.size() >= kMicEnd && first_payload >= kMicEnd) {
    msg.has_mic_field = true;
    msg.mic = to_array<16>(message.subspan(AuthenticateMessage::kMicOffset, AuthenticateMessage::kMicSize));
  }
  const bool unicode = msg.negotiate_flags & ntlmssp::negotiate_unicode;
  auto bytes_of = [&](const FieldDescriptor& d, std::string_view field) -> Expected<Bytes> {
    const auto b = SMBX_TRY(field_bytes(r, d, payload_start, kName, field));
    return Bytes{b.begin(), b.end()};
  };
  auto string_of = [&](const FieldDescriptor& d, std::string_view field) -> Expected<std::u16string> {
    const auto b = SMBX_TRY(field_bytes(r, d, payload_start, kName, field));
    return field_string(b, unicode, kName, field);
  };
  msg.lm_challenge_response = SMBX_TRY(bytes_of(lm, "LmChallengeResponse"));
  msg.nt_challenge_response = SMBX_TRY(bytes_of(nt, "NtChallengeResponse"));
  msg.domain_name = SMBX_TRY(string_of(domain, "DomainName"));
  msg.user_name = SMBX_TRY(string_of(user, "UserName"));
  msg.workstation = SMBX_TRY(string_of(workstation, "Workstation"));
  msg.encrypted_random_session_key = SMBX_TRY(bytes_of(session_key, "EncryptedRandomSessionKey"));
  msg.raw.assign(message.begin(), message.end());
  return msg;
}

Bytes encode_authenticate(const AuthenticateMessage& msg) {
  Bytes out;
  wire::Writer w{out};
  write_header(w, NtlmMessageType::authenticate);
  const bool unicode = msg.negotiate_flags & ntlmssp::negotiate_unicode;
  std::vector<PendingField> fields;
  fields.push_back({w.reserve(8), msg.lm_challenge_response});
  fields.push_back({w.reserve(8), msg.nt_challenge_response});
  fields.push_back({w.reserve(8), string_bytes(msg.domain_name, unicode)});
  fields.push_back({w.reserve(8), string_bytes(msg.user_name, unicode)});
  fields.push_back({w.reserve(8), string_bytes(msg.workstation, unicode)});
  fields.push_back({w.reserve(8), msg.encrypted_random_session_key});
  auto flags = msg.negotiate_flags;
  if (msg.version) flags |= ntlmssp::negotiate_version;
  w.u32(flags);
  // The MIC sits at 72 whether or not VERSION was negotiated, so its slot is
  // kept (zeroed) when a MIC follows.
  if (flags & ntlmssp::negotiate_version)
    write_version(w, msg.version.value_or(Version{}));
  else if (msg.has_mic_field)
    w.zeros(kVersionSize);
  if (msg.has_mic_field) w.bytes(msg.mic);
  append_payload(out, fields);
  return out;
}

// ---- NTLMv2_CLIENT_CHALLENGE (2.2.2.7) ----

Expected<NtlmV2ClientChallenge> decode_ntlmv2_client_challenge(ByteView blob) {
  constexpr std::string_view kName = "NTLMv2_CLIENT_CHALLENGE";
  if (blob.size() < NtlmV2ClientChallenge::kHeaderSize)
    return fail(WireError::truncated, kName, std::to_string(blob.size()) + " bytes, need at least 28");
  wire::Reader r{blob};
  NtlmV2ClientChallenge c;
  c.resp_type = SMBX_TRY(r.u8());
  c.hi_resp_type = SMBX_TRY(r.u8());
  if (c.resp_type != 1 || c.hi_resp_type != 1)
    return fail(WireError::bad_value, kName,
                "RespType/HiRespType " + std::to_string(c.resp_type) + "/" + std::to_string(c.hi_resp_type) +
                    ", expected 1/1");
  SMBX_TRY_VOID(r.skip(6));  // Reserved1, Reserved2
  c.time_stamp = SMBX_TRY(r.u64());
  c.challenge_from_client = SMBX_TRY(r.array<8>());
  SMBX_TRY_VOID(r.skip(4));  // Reserved3
  c.av_pairs = SMBX_TRY(decode_av_pairs(r.rest()));
  return c;
}

}  // namespace smbx::auth
