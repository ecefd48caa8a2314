#include "wire/set_info.hpp"

#include "wire/header.hpp"
#include "wire/output_buffer.hpp"

namespace smbx::wire {

namespace {
constexpr std::uint16_t kRequestStructureSize = 33;
constexpr std::uint16_t kResponseStructureSize = 2;
}  // namespace

// MS-SMB2 2.2.39
Expected<SetInfoRequest> decode_set_info_request(ByteView message) {
  Reader r = SMBX_TRY(output_buffer::open_body(message, kRequestStructureSize, "SET_INFO request"));
  SetInfoRequest m;
  m.info_type = SMBX_TRY(r.u8());
  m.file_info_class = SMBX_TRY(r.u8());
  const std::uint32_t length = SMBX_TRY(r.u32());
  const std::uint16_t offset = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  m.additional_information = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  m.buffer =
      SMBX_TRY(output_buffer::locate(message, offset, length, kHeaderSize + kRequestStructureSize - 1, "Buffer"));
  return m;
}

// MS-SMB2 2.2.40
Expected<SetInfoResponse> decode_set_info_response(ByteView message) {
  SMBX_TRY(output_buffer::open_body(message, kResponseStructureSize, "SET_INFO response"));
  return SetInfoResponse{};
}

void encode(Writer& w, const SetInfoRequest& m) {
  w.u16(kRequestStructureSize);
  w.u8(m.info_type);
  w.u8(m.file_info_class);
  w.u32(static_cast<std::uint32_t>(m.buffer.size()));
  // The buffer follows the 32-byte fixed part, whose field here starts at body offset 8.
  w.u16(static_cast<std::uint16_t>(w.offset() + 24));
  w.u16(0);  // Reserved
  w.u32(m.additional_information);
  write_file_id(w, m.file_id);
  if (m.buffer.empty())
    w.u8(0);  // MS-SMB2 2.2: Buffer is never empty
  else
    w.bytes(m.buffer);
}

void encode(Writer& w, const SetInfoResponse&) { w.u16(kResponseStructureSize); }

}  // namespace smbx::wire
