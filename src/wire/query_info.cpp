#include "wire/query_info.hpp"

#include "wire/header.hpp"
#include "wire/output_buffer.hpp"

namespace smbx::wire {

namespace {
constexpr std::uint16_t kRequestStructureSize = 41;
}

// MS-SMB2 2.2.37
Expected<QueryInfoRequest> decode_query_info_request(ByteView message) {
  Reader r = SMBX_TRY(output_buffer::open_body(message, kRequestStructureSize, "QUERY_INFO request"));
  QueryInfoRequest m;
  m.info_type = SMBX_TRY(r.u8());
  m.file_info_class = SMBX_TRY(r.u8());
  m.output_buffer_length = SMBX_TRY(r.u32());
  const std::uint16_t input_offset = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  const std::uint32_t input_length = SMBX_TRY(r.u32());
  m.additional_information = SMBX_TRY(r.u32());
  m.flags = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  m.input_buffer = SMBX_TRY(output_buffer::locate(message, input_offset, input_length,
                                                  kHeaderSize + kRequestStructureSize - 1, "InputBuffer"));
  return m;
}

Expected<QueryInfoResponse> decode_query_info_response(ByteView message) {
  return QueryInfoResponse{SMBX_TRY(output_buffer::decode_response(message, "QUERY_INFO response"))};
}

void encode(Writer& w, const QueryInfoRequest& m) {
  w.u16(kRequestStructureSize);
  w.u8(m.info_type);
  w.u8(m.file_info_class);
  w.u32(m.output_buffer_length);
  // The input buffer follows the 40-byte fixed part, whose field here starts at body offset 8.
  w.u16(m.input_buffer.empty() ? std::uint16_t{0} : static_cast<std::uint16_t>(w.offset() + 32));
  w.u16(0);  // Reserved
  w.u32(static_cast<std::uint32_t>(m.input_buffer.size()));
  w.u32(m.additional_information);
  w.u32(m.flags);
  write_file_id(w, m.file_id);
  if (m.input_buffer.empty())
    w.u8(0);  // MS-SMB2 2.2: Buffer is never empty
  else
    w.bytes(m.input_buffer);
}

void encode(Writer& w, const QueryInfoResponse& m) { output_buffer::encode_response(w, m.output_buffer); }

}  // namespace smbx::wire
