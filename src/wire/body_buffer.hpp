// Shared checks for the variable part of SMB2 bodies: Offset/Length pairs,
// UTF-16 fields and 8-byte alignment. Used by the NEGOTIATE, SESSION_SETUP,
// TREE_CONNECT, CREATE, IOCTL, READ/WRITE, QUERY/SET_INFO, QUERY_DIRECTORY,
// CHANGE_NOTIFY and ERROR codecs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/header.hpp"
#include "wire/reader.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2: every *Offset in a body counts from the first byte of the SMB2
// header, and a buffer lies after the fixed part of its body. Returns the
// `length` bytes at `offset` of the whole message. `first_allowed` is the
// offset where the variable part begins; a non-empty buffer that starts before
// it is refused. With length 0 the offset is not looked at (peers write 0 or
// any value there) and the result is empty. The field names are the spec's
// ("SecurityBufferOffset", "SecurityBufferLength") and appear in the error.
// The one check of an Offset/Length pair in src/wire.
inline Expected<ByteView> body_buffer(ByteView message, std::string_view offset_field, std::uint64_t offset,
                                      std::string_view length_field, std::uint64_t length,
                                      std::uint64_t first_allowed) {
  if (length == 0) return ByteView{};
  const std::string detail = std::string{offset_field} + " " + std::to_string(offset);
  if (offset < first_allowed)
    return wire_error(WireError::bad_offset,
                      detail + " lies inside " +
                          (offset < kHeaderSize ? "the header" : "the fixed part of the body") +
                          " (the buffer starts at " + std::to_string(first_allowed) + " or later)");
  auto bytes = Reader{message}.window(offset, length);
  if (!bytes)
    return wire_error(WireError::truncated, detail + " + " + std::string{length_field} + " " +
                                                std::to_string(length) + " runs past the " +
                                                std::to_string(message.size()) + "-byte message");
  return bytes;
}

// The same, for decoders that hold a Reader over the whole message.
inline Expected<ByteView> body_buffer(const Reader& message, std::string_view offset_field,
                                      std::uint64_t offset, std::string_view length_field,
                                      std::uint64_t length, std::uint64_t first_allowed) {
  return body_buffer(message.input(), offset_field, offset, length_field, length, first_allowed);
}

// A UTF-16LE field whose byte length must be even.
inline Expected<std::u16string> utf16_field(ByteView bytes, std::string_view field) {
  if (bytes.size() % 2 != 0)
    return wire_error(WireError::bad_length, std::string{field} + " is " + std::to_string(bytes.size()) +
                                                 " bytes, not whole UTF-16 units");
  return utf16_from_le_bytes(bytes);
}

inline constexpr std::uint64_t align8(std::uint64_t v) noexcept { return (v + 7) & ~std::uint64_t{7}; }

// Names what was being decoded on an error, so describe() reads
// "decode SESSION_SETUP request: bad offset: SecurityBufferOffset 40 lies inside the header".
template <typename T>
Expected<T> with_action(Expected<T> result, std::string_view action) {
  if (result.has_value()) return result;
  Error e = std::move(result).error();
  if (e.action.empty()) e.action = std::string{action};
  return e;
}

}  // namespace smbx::wire
