#include "wire/session_setup.hpp"

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kRequestStructureSize = 25;
constexpr std::uint16_t kResponseStructureSize = 9;
constexpr std::size_t kRequestBufferStart = kHeaderSize + 24;  // 0x58
constexpr std::size_t kResponseBufferStart = kHeaderSize + 8;  // 0x48

// Fills in SecurityBufferOffset and writes the buffer right after the fixed
// part, or the one filler byte an odd StructureSize counts when it is empty.
void write_buffer_after_fixed_part(Writer& w, std::size_t offset_at, ByteView buffer) {
  w.patch_u16(offset_at, static_cast<std::uint16_t>(w.offset()));
  if (buffer.empty()) {
    w.u8(0);
    return;
  }
  w.bytes(buffer);
}

Expected<SessionSetupRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kRequestStructureSize, "SESSION_SETUP request"));
  SessionSetupRequest m;
  m.flags = SMBX_TRY(r.u8());
  m.security_mode = SMBX_TRY(r.u8());
  m.capabilities = SMBX_TRY(r.u32());
  m.channel = SMBX_TRY(r.u32());
  const auto offset = SMBX_TRY(r.u16());
  const auto length = SMBX_TRY(r.u16());
  m.previous_session_id = SMBX_TRY(r.u64());
  m.security_buffer = SMBX_TRY(
      body_buffer(r, "SecurityBufferOffset", offset, "SecurityBufferLength", length, kRequestBufferStart));
  return m;
}

Expected<SessionSetupResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kResponseStructureSize, "SESSION_SETUP response"));
  SessionSetupResponse m;
  m.session_flags = SMBX_TRY(r.u16());
  const auto offset = SMBX_TRY(r.u16());
  const auto length = SMBX_TRY(r.u16());
  m.security_buffer = SMBX_TRY(
      body_buffer(r, "SecurityBufferOffset", offset, "SecurityBufferLength", length, kResponseBufferStart));
  return m;
}

}  // namespace

Expected<SessionSetupRequest> decode_session_setup_request(ByteView message) {
  return with_action(decode_request(message), "decode SESSION_SETUP request");
}

Expected<SessionSetupResponse> decode_session_setup_response(ByteView message) {
  return with_action(decode_response(message), "decode SESSION_SETUP response");
}

void encode(Writer& w, const SessionSetupRequest& m) {
  w.u16(kRequestStructureSize);
  w.u8(m.flags);
  w.u8(m.security_mode);
  w.u32(m.capabilities);
  w.u32(m.channel);
  const auto offset_at = w.reserve(2);
  w.u16(static_cast<std::uint16_t>(m.security_buffer.size()));
  w.u64(m.previous_session_id);
  write_buffer_after_fixed_part(w, offset_at, m.security_buffer);
}

void encode(Writer& w, const SessionSetupResponse& m) {
  w.u16(kResponseStructureSize);
  w.u16(m.session_flags);
  const auto offset_at = w.reserve(2);
  w.u16(static_cast<std::uint16_t>(m.security_buffer.size()));
  write_buffer_after_fixed_part(w, offset_at, m.security_buffer);
}

}  // namespace smbx::wire
