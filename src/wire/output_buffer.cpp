#include "wire/output_buffer.hpp"

#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"
#include "wire/types.hpp"

namespace smbx::wire::output_buffer {

Expected<ByteView> locate(ByteView message, std::uint64_t offset, std::uint64_t length, std::size_t fixed_end,
                          std::string_view field) {
  return body_buffer(message, std::string{field} + "Offset", offset, std::string{field} + "Length", length,
                     fixed_end);
}

Expected<Reader> open_body(ByteView message, std::uint16_t structure_size, std::string_view what) {
  Reader r{message, kHeaderSize};
  if (message.size() < kHeaderSize + 2)
    return wire_error(WireError::truncated, std::string{what} + " has no body (" + std::to_string(message.size()) +
                                                " bytes)");
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), structure_size, what));
  if (message.size() - kHeaderSize < structure_size)
    return wire_error(WireError::truncated, std::string{what} + " body is " +
                                                std::to_string(message.size() - kHeaderSize) +
                                                " bytes, StructureSize says " + std::to_string(structure_size));
  return r;
}

Expected<ByteView> decode_response(ByteView message, std::string_view what) {
  constexpr std::uint16_t kStructureSize = 9;
  Reader r = SMBX_TRY(open_body(message, kStructureSize, what));
  const std::uint16_t offset = SMBX_TRY(r.u16());
  const std::uint32_t length = SMBX_TRY(r.u32());
  return locate(message, offset, length, kHeaderSize + kStructureSize - 1, "OutputBuffer");
}

void encode_response(Writer& w, ByteView buffer) {
  w.u16(9);
  w.u16(static_cast<std::uint16_t>(w.offset() + 6));  // right after this field and the length
  w.u32(static_cast<std::uint32_t>(buffer.size()));
  if (buffer.empty())
    w.u8(0);
  else
    w.bytes(buffer);
}

}  // namespace smbx::wire::output_buffer
