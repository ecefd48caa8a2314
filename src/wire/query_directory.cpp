#include "wire/query_directory.hpp"

#include "wire/header.hpp"
#include "wire/output_buffer.hpp"

namespace smbx::wire {

namespace {
constexpr std::uint16_t kRequestStructureSize = 33;
}

// MS-SMB2 2.2.33
Expected<QueryDirectoryRequest> decode_query_directory_request(ByteView message) {
  Reader r = SMBX_TRY(output_buffer::open_body(message, kRequestStructureSize, "QUERY_DIRECTORY request"));
  QueryDirectoryRequest m;
  m.file_information_class = SMBX_TRY(r.u8());
  m.flags = SMBX_TRY(r.u8());
  m.file_index = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  const std::uint16_t name_offset = SMBX_TRY(r.u16());
  const std::uint16_t name_length = SMBX_TRY(r.u16());
  m.output_buffer_length = SMBX_TRY(r.u32());
  if (name_length % 2 != 0)
    return wire_error(WireError::bad_length,
                      "FileNameLength " + std::to_string(name_length) + " is odd: the pattern is UTF-16");
  const ByteView name = SMBX_TRY(output_buffer::locate(message, name_offset, name_length,
                                                       kHeaderSize + kRequestStructureSize - 1, "FileName"));
  m.file_name = utf16_from_le_bytes(name);
  return m;
}

Expected<QueryDirectoryResponse> decode_query_directory_response(ByteView message) {
  return QueryDirectoryResponse{SMBX_TRY(output_buffer::decode_response(message, "QUERY_DIRECTORY response"))};
}

void encode(Writer& w, const QueryDirectoryRequest& m) {
  const auto name_bytes = utf16_byte_length(m.file_name);
  w.u16(kRequestStructureSize);
  w.u8(m.file_information_class);
  w.u8(m.flags);
  w.u32(m.file_index);
  write_file_id(w, m.file_id);
  // The pattern follows the fixed part: 0x60 in a message whose header is at base.
  w.u16(static_cast<std::uint16_t>(w.offset() + 8));
  w.u16(static_cast<std::uint16_t>(name_bytes));
  w.u32(m.output_buffer_length);
  if (name_bytes == 0)
    w.u8(0);  // MS-SMB2 2.2: Buffer is never empty
  else
    write_utf16le(w, m.file_name);
}

void encode(Writer& w, const QueryDirectoryResponse& m) { output_buffer::encode_response(w, m.output_buffer); }

}  // namespace smbx::wire
