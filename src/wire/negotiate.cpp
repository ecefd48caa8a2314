#include "wire/negotiate.hpp"

#include <algorithm>
#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"
#include "wire/overloaded.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kRequestStructureSize = 36;
constexpr std::uint16_t kResponseStructureSize = 65;
constexpr std::size_t kContextHeaderSize = 8;  // ContextType, DataLength, Reserved
constexpr std::size_t kResponseBufferStart = kHeaderSize + 64;

std::string hex16(std::uint16_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) out += kDigits[(v >> shift) & 0xF];
  return out;
}

Expected<std::vector<std::uint16_t>> read_u16_array(Reader& r, std::size_t count, std::string_view what) {
  if (count * 2 > r.remaining())
    return wire_error(WireError::truncated, std::string{what} + " " + std::to_string(count) + " needs " +
                                                std::to_string(count * 2) + " bytes, " +
                                                std::to_string(r.remaining()) + " remain");
  std::vector<std::uint16_t> out(count);
  for (auto& v : out) v = SMBX_TRY(r.u16());
  return out;
}

void write_u16_array(Writer& w, const std::vector<std::uint16_t>& values) {
  for (auto v : values) w.u16(v);
}

// Decodes the Data of one context; `data` is exactly DataLength bytes.
Expected<NegotiateContext> decode_context_data(std::uint16_t type, ByteView data) {
  Reader d{data};
  switch (type) {
    case negotiate_context_type::preauth_integrity: {  // MS-SMB2 2.2.3.1.1
      const auto count = SMBX_TRY(d.u16());
      const auto salt_length = SMBX_TRY(d.u16());
      PreauthIntegrityCapabilities c;
      c.hash_algorithms = SMBX_TRY(read_u16_array(d, count, "HashAlgorithmCount"));
      if (salt_length > d.remaining())
        return wire_error(WireError::truncated,
                          "SaltLength " + std::to_string(salt_length) + " runs past DataLength");
      c.salt = SMBX_TRY(d.take(salt_length));
      return NegotiateContext{std::move(c)};
    }
    case negotiate_context_type::encryption: {  // MS-SMB2 2.2.3.1.2
      const auto count = SMBX_TRY(d.u16());
      return NegotiateContext{EncryptionCapabilities{SMBX_TRY(read_u16_array(d, count, "CipherCount"))}};
    }
    case negotiate_context_type::compression: {  // MS-SMB2 2.2.3.1.3
      const auto count = SMBX_TRY(d.u16());
      SMBX_TRY_VOID(d.skip(2));  // Padding
      CompressionCapabilities c;
      c.flags = SMBX_TRY(d.u32());
      c.compression_algorithms = SMBX_TRY(read_u16_array(d, count, "CompressionAlgorithmCount"));
      return NegotiateContext{std::move(c)};
    }
    case negotiate_context_type::netname:  // MS-SMB2 2.2.3.1.4
      return NegotiateContext{NetnameContext{SMBX_TRY(utf16_field(data, "NetName"))}};
    case negotiate_context_type::transport:  // MS-SMB2 2.2.3.1.5
      return NegotiateContext{TransportCapabilities{SMBX_TRY(d.u32())}};
    case negotiate_context_type::rdma_transform: {  // MS-SMB2 2.2.3.1.6
      const auto count = SMBX_TRY(d.u16());
      SMBX_TRY_VOID(d.skip(6));  // Reserved1, Reserved2
      return NegotiateContext{
          RdmaTransformCapabilities{SMBX_TRY(read_u16_array(d, count, "TransformCount"))}};
    }
    case negotiate_context_type::signing: {  // MS-SMB2 2.2.3.1.7
      const auto count = SMBX_TRY(d.u16());
      return NegotiateContext{
          SigningCapabilities{SMBX_TRY(read_u16_array(d, count, "SigningAlgorithmCount"))}};
    }
    default:
      return NegotiateContext{RawNegotiateContext{type, data}};
  }
}

// MS-SMB2 2.2.3.1: `count` contexts from hdr offset `offset`, each starting
// 8-aligned from the header; the last one need not be padded.
Expected<std::vector<NegotiateContext>> decode_context_list(const Reader& message, std::uint64_t offset,
                                                            std::uint16_t count,
                                                            std::uint64_t first_allowed) {
  std::vector<NegotiateContext> out;
  if (count == 0) return out;
  if (offset % 8 != 0)
    return wire_error(WireError::bad_offset,
                      "NegotiateContextOffset " + std::to_string(offset) + " is not 8-aligned");
  if (offset < first_allowed)
    return wire_error(WireError::bad_offset, "NegotiateContextOffset " + std::to_string(offset) +
                                                 " lies before the end of the preceding fields (" +
                                                 std::to_string(first_allowed) + ")");
  std::uint64_t pos = offset;
  for (std::uint16_t i = 0; i < count; ++i) {
    pos = align8(pos);
    const std::string which = "negotiate context " + std::to_string(i + 1) + " of " + std::to_string(count);
    auto head = message.window(pos, kContextHeaderSize);
    if (!head)
      return wire_error(WireError::truncated, which + " at offset " + std::to_string(pos) +
                                                  " runs past the " + std::to_string(message.size()) +
                                                  "-byte message");
    const auto type = load_le16(head->data());
    const auto length = load_le16(head->data() + 2);
    auto data = message.window(pos + kContextHeaderSize, length);
    if (!data)
      return wire_error(WireError::truncated, which + " (type " + hex16(type) + ") DataLength " +
                                                  std::to_string(length) + " runs past the message");
    auto context = decode_context_data(type, *data);
    if (!context) {
      Error e = std::move(context).error();
      e.detail = which + " (type " + hex16(type) + "): " + e.detail;
      return e;
    }
    out.push_back(std::move(*context));
    pos += kContextHeaderSize + length;
  }
  return out;
}

void encode_context(Writer& w, const NegotiateContext& context) {
  w.u16(context_type(context));
  const auto length_at = w.reserve(2);
  w.u32(0);  // Reserved
  const auto data_start = w.size();
  std::visit(Overloaded{
                 [&](const PreauthIntegrityCapabilities& c) {
                   w.u16(static_cast<std::uint16_t>(c.hash_algorithms.size()));
                   w.u16(static_cast<std::uint16_t>(c.salt.size()));
                   write_u16_array(w, c.hash_algorithms);
                   w.bytes(c.salt);
                 },
                 [&](const EncryptionCapabilities& c) {
                   w.u16(static_cast<std::uint16_t>(c.ciphers.size()));
                   write_u16_array(w, c.ciphers);
                 },
                 [&](const CompressionCapabilities& c) {
                   w.u16(static_cast<std::uint16_t>(c.compression_algorithms.size()));
                   w.u16(0);  // Padding
                   w.u32(c.flags);
                   write_u16_array(w, c.compression_algorithms);
                 },
                 [&](const NetnameContext& c) { write_utf16le(w, c.net_name); },
                 [&](const TransportCapabilities& c) { w.u32(c.flags); },
                 [&](const RdmaTransformCapabilities& c) {
                   w.u16(static_cast<std::uint16_t>(c.rdma_transform_ids.size()));
                   w.zeros(6);  // Reserved1, Reserved2
                   write_u16_array(w, c.rdma_transform_ids);
                 },
                 [&](const SigningCapabilities& c) {
                   w.u16(static_cast<std::uint16_t>(c.signing_algorithms.size()));
                   write_u16_array(w, c.signing_algorithms);
                 },
                 [&](const RawNegotiateContext& c) { w.bytes(c.data); },
             },
             context);
  w.patch_u16(length_at, static_cast<std::uint16_t>(w.size() - data_start));
}

// Writes the list 8-aligned and fills in NegotiateContextOffset (4 bytes at
// offset_at) and NegotiateContextCount (2 bytes at count_at).
void encode_context_list(Writer& w, const std::vector<NegotiateContext>& contexts, std::size_t offset_at,
                         std::size_t count_at) {
  if (contexts.empty()) return;
  w.align(8);
  w.patch_u32(offset_at, static_cast<std::uint32_t>(w.offset()));
  w.patch_u16(count_at, static_cast<std::uint16_t>(contexts.size()));
  for (const auto& c : contexts) {
    w.align(8);
    encode_context(w, c);
  }
}

Expected<NegotiateRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kRequestStructureSize, "NEGOTIATE request"));
  const auto dialect_count = SMBX_TRY(r.u16());
  NegotiateRequest m;
  m.security_mode = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  m.capabilities = SMBX_TRY(r.u32());
  m.client_guid = SMBX_TRY(r.array<16>());
  const ByteView start_time_or_contexts = SMBX_TRY(r.take(8));
  m.dialects = SMBX_TRY(read_u16_array(r, dialect_count, "DialectCount"));
  // MS-SMB2 2.2.3: the 8 bytes are NegotiateContextOffset/Count only when 3.1.1 is offered.
  if (m.offers(Dialect::smb311)) {
    const auto offset = load_le32(start_time_or_contexts.data());
    const auto count = load_le16(start_time_or_contexts.data() + 4);
    m.negotiate_contexts = SMBX_TRY(decode_context_list(r, offset, count, r.position()));
  } else {
    m.client_start_time = load_le64(start_time_or_contexts.data());
  }
  return m;
}

Expected<NegotiateResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kResponseStructureSize, "NEGOTIATE response"));
  NegotiateResponse m;
  m.security_mode = SMBX_TRY(r.u16());
  m.dialect_revision = SMBX_TRY(r.u16());
  const auto context_count = SMBX_TRY(r.u16());
  m.server_guid = SMBX_TRY(r.array<16>());
  m.capabilities = SMBX_TRY(r.u32());
  m.max_transact_size = SMBX_TRY(r.u32());
  m.max_read_size = SMBX_TRY(r.u32());
  m.max_write_size = SMBX_TRY(r.u32());
  m.system_time = SMBX_TRY(r.u64());
  m.server_start_time = SMBX_TRY(r.u64());
  const auto security_offset = SMBX_TRY(r.u16());
  const auto security_length = SMBX_TRY(r.u16());
  const auto context_offset = SMBX_TRY(r.u32());
  m.security_buffer = SMBX_TRY(body_buffer(r, "SecurityBufferOffset", security_offset, "SecurityBufferLength",
                                           security_length, kResponseBufferStart));
  // MS-SMB2 2.2.4: the context fields are Reserved unless 3.1.1 was chosen;
  // the list follows the security buffer.
  if (m.dialect_revision == static_cast<std::uint16_t>(Dialect::smb311)) {
    const std::uint64_t first_allowed =
        security_length == 0 ? kResponseBufferStart : std::uint64_t{security_offset} + security_length;
    m.negotiate_contexts = SMBX_TRY(decode_context_list(r, context_offset, context_count, first_allowed));
  }
  return m;
}

}  // namespace

std::uint16_t context_type(const NegotiateContext& context) noexcept {
  return std::visit(
      Overloaded{
          [](const PreauthIntegrityCapabilities&) { return negotiate_context_type::preauth_integrity; },
          [](const EncryptionCapabilities&) { return negotiate_context_type::encryption; },
          [](const CompressionCapabilities&) { return negotiate_context_type::compression; },
          [](const NetnameContext&) { return negotiate_context_type::netname; },
          [](const TransportCapabilities&) { return negotiate_context_type::transport; },
          [](const RdmaTransformCapabilities&) { return negotiate_context_type::rdma_transform; },
          [](const SigningCapabilities&) { return negotiate_context_type::signing; },
          [](const RawNegotiateContext& c) { return c.context_type; },
      },
      context);
}

bool NegotiateRequest::offers(Dialect d) const noexcept {
  return std::find(dialects.begin(), dialects.end(), static_cast<std::uint16_t>(d)) != dialects.end();
}

Expected<NegotiateRequest> decode_negotiate_request(ByteView message) {
  return with_action(decode_request(message), "decode NEGOTIATE request");
}

Expected<NegotiateResponse> decode_negotiate_response(ByteView message) {
  return with_action(decode_response(message), "decode NEGOTIATE response");
}

void encode(Writer& w, const NegotiateRequest& m) {
  w.u16(kRequestStructureSize);
  w.u16(static_cast<std::uint16_t>(m.dialects.size()));
  w.u16(m.security_mode);
  w.u16(0);  // Reserved
  w.u32(m.capabilities);
  w.bytes(m.client_guid);
  const auto start_time_or_contexts = w.reserve(8);
  write_u16_array(w, m.dialects);
  if (m.offers(Dialect::smb311))
    encode_context_list(w, m.negotiate_contexts, start_time_or_contexts, start_time_or_contexts + 4);
  else
    w.patch_u64(start_time_or_contexts, m.client_start_time);
}

void encode(Writer& w, const NegotiateResponse& m) {
  w.u16(kResponseStructureSize);
  w.u16(m.security_mode);
  w.u16(m.dialect_revision);
  const auto context_count_at = w.reserve(2);
  w.bytes(m.server_guid);
  w.u32(m.capabilities);
  w.u32(m.max_transact_size);
  w.u32(m.max_read_size);
  w.u32(m.max_write_size);
  w.u64(m.system_time);
  w.u64(m.server_start_time);
  const auto security_offset_at = w.reserve(2);
  w.u16(static_cast<std::uint16_t>(m.security_buffer.size()));
  const auto context_offset_at = w.reserve(4);
  const auto buffer_start = w.size();
  w.patch_u16(security_offset_at, static_cast<std::uint16_t>(w.offset()));
  w.bytes(m.security_buffer);
  if (m.dialect_revision == static_cast<std::uint16_t>(Dialect::smb311))
    encode_context_list(w, m.negotiate_contexts, context_offset_at, context_count_at);
  if (w.size() == buffer_start) w.u8(0);  // MS-SMB2 2.2.4: StructureSize 65 counts one Buffer byte
}

}  // namespace smbx::wire
