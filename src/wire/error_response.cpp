#include "wire/error_response.hpp"

#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kStructureSize = 9;
constexpr std::size_t kErrorContextHeaderSize = 8;  // ErrorDataLength, ErrorId
constexpr std::size_t kSymlinkFixedSize = 28;       // up to PathBuffer
constexpr std::size_t kSymlinkLengthCovers = 24;    // SymLinkLength excludes itself
constexpr std::size_t kReparseDataFixedSize = 12;   // ReparseDataLength counts from SubstituteNameOffset

// MS-SMB2 2.2.2.1: ErrorData is `count` contexts. ErrorData starts at hdr
// offset 72, so aligning within it is aligning from the ERROR response start.
Expected<std::vector<ErrorContext>> decode_contexts(ByteView error_data, std::uint8_t count) {
  std::vector<ErrorContext> out;
  const Reader data{error_data};
  std::uint64_t pos = 0;
  for (unsigned i = 0; i < count; ++i) {
    pos = align8(pos);
    const std::string which = "error context " + std::to_string(i + 1) + " of " + std::to_string(count);
    auto head = data.window(pos, kErrorContextHeaderSize);
    if (!head)
      return wire_error(WireError::truncated, which + " at ErrorData offset " + std::to_string(pos) +
                                                  " runs past ByteCount " +
                                                  std::to_string(error_data.size()));
    const auto length = load_le32(head->data());
    ErrorContext c;
    c.error_id = load_le32(head->data() + 4);
    auto body = data.window(pos + kErrorContextHeaderSize, length);
    if (!body)
      return wire_error(WireError::truncated, which + " ErrorDataLength " + std::to_string(length) +
                                                  " runs past ByteCount " +
                                                  std::to_string(error_data.size()));
    c.data = *body;
    out.push_back(c);
    pos += kErrorContextHeaderSize + length;
  }
  return out;
}

Expected<ErrorResponse> decode_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kStructureSize, "ERROR response"));
  ErrorResponse m;
  m.error_context_count = SMBX_TRY(r.u8());
  SMBX_TRY_VOID(r.skip(1));  // Reserved
  const auto byte_count = SMBX_TRY(r.u32());
  if (byte_count > r.remaining())
    return wire_error(WireError::truncated, "ByteCount " + std::to_string(byte_count) + " runs past the " +
                                                std::to_string(message.size()) + "-byte message");
  m.error_data = SMBX_TRY(r.take(byte_count));
  if (m.error_context_count > 0) m.contexts = SMBX_TRY(decode_contexts(m.error_data, m.error_context_count));
  return m;
}

Expected<ByteView> name_in(ByteView path_buffer, std::string_view name, std::uint16_t offset,
                           std::uint16_t length) {
  const Reader names{path_buffer};
  auto bytes = names.window(offset, length);
  if (!bytes)
    return wire_error(WireError::truncated, std::string{name} + "Offset " + std::to_string(offset) + " + " +
                                                std::string{name} + "Length " + std::to_string(length) +
                                                " runs past the " + std::to_string(path_buffer.size()) +
                                                "-byte PathBuffer");
  return bytes;
}

Expected<SymlinkErrorResponse> decode_symlink(ByteView error_data) {
  Reader r{error_data};
  const auto symlink_length = SMBX_TRY(r.u32());
  if (symlink_length < kSymlinkLengthCovers)
    return wire_error(WireError::bad_length, "SymLinkLength " + std::to_string(symlink_length) +
                                                 " is below " + std::to_string(kSymlinkLengthCovers));
  if (symlink_length > r.remaining())
    return wire_error(WireError::truncated, "SymLinkLength " + std::to_string(symlink_length) +
                                                " runs past the " + std::to_string(error_data.size()) +
                                                "-byte ErrorData");
  const auto tag = SMBX_TRY(r.u32());
  if (tag != kSymlinkErrorTag)
    return wire_error(WireError::bad_value, "SymLinkErrorTag " + std::to_string(tag));
  const auto reparse_tag = SMBX_TRY(r.u32());
  if (reparse_tag != kIoReparseTagSymlink)
    return wire_error(WireError::bad_value, "ReparseTag " + std::to_string(reparse_tag));
  SymlinkErrorResponse m;
  m.reparse_data_length = SMBX_TRY(r.u16());
  m.unparsed_path_length = SMBX_TRY(r.u16());
  const auto substitute_offset = SMBX_TRY(r.u16());
  const auto substitute_length = SMBX_TRY(r.u16());
  const auto print_offset = SMBX_TRY(r.u16());
  const auto print_length = SMBX_TRY(r.u16());
  m.flags = SMBX_TRY(r.u32());
  const ByteView path_buffer = error_data.subspan(kSymlinkFixedSize, 4 + symlink_length - kSymlinkFixedSize);
  m.substitute_name = SMBX_TRY(
      utf16_field(SMBX_TRY(name_in(path_buffer, "SubstituteName", substitute_offset, substitute_length)),
                  "SubstituteNameLength"));
  m.print_name = SMBX_TRY(utf16_field(SMBX_TRY(name_in(path_buffer, "PrintName", print_offset, print_length)),
                                      "PrintNameLength"));
  return m;
}

}  // namespace

Expected<ErrorResponse> decode_error_response(ByteView message) {
  return with_action(decode_body(message), "decode ERROR response");
}

void encode(Writer& w, const ErrorResponse& m) {
  w.u16(kStructureSize);
  w.u8(static_cast<std::uint8_t>(m.contexts.size()));
  w.u8(0);  // Reserved
  const auto byte_count_at = w.reserve(4);
  const auto data_start = w.size();
  if (m.contexts.empty()) {
    w.bytes(m.error_data);
  } else {
    for (const auto& c : m.contexts) {
      w.align(8);
      w.u32(static_cast<std::uint32_t>(c.data.size()));
      w.u32(c.error_id);
      w.bytes(c.data);
    }
  }
  const auto byte_count = w.size() - data_start;
  w.patch_u32(byte_count_at, static_cast<std::uint32_t>(byte_count));
  if (byte_count == 0) w.u8(0);  // MS-SMB2 2.2.2: ErrorData holds one byte when ByteCount is 0
}

ByteView default_error_data(const ErrorResponse& m) {
  if (m.contexts.empty()) return m.error_data;
  for (const auto& c : m.contexts)
    if (c.error_id == kErrorIdDefault) return c.data;
  return {};
}

Expected<std::uint32_t> buffer_too_small_required_length(const ErrorResponse& m) {
  const ByteView data = default_error_data(m);
  if (data.size() != 4)
    return with_action<std::uint32_t>(
        wire_error(WireError::bad_length,
                   "ErrorData is " + std::to_string(data.size()) + " bytes, not the 4-byte required length"),
        "decode STATUS_BUFFER_TOO_SMALL error data");
  return load_le32(data.data());
}

Expected<SymlinkErrorResponse> decode_symlink_error(ByteView error_data) {
  return with_action(decode_symlink(error_data), "decode symbolic link error response");
}

void encode(Writer& w, const SymlinkErrorResponse& m) {
  const auto substitute_bytes = utf16_byte_length(m.substitute_name);
  const auto print_bytes = utf16_byte_length(m.print_name);
  const auto path_bytes = substitute_bytes + print_bytes;
  w.u32(static_cast<std::uint32_t>(kSymlinkLengthCovers + path_bytes));
  w.u32(kSymlinkErrorTag);
  w.u32(kIoReparseTagSymlink);
  w.u16(static_cast<std::uint16_t>(kReparseDataFixedSize + path_bytes));
  w.u16(m.unparsed_path_length);
  w.u16(0);  // SubstituteNameOffset
  w.u16(static_cast<std::uint16_t>(substitute_bytes));
  w.u16(static_cast<std::uint16_t>(substitute_bytes));  // PrintNameOffset
  w.u16(static_cast<std::uint16_t>(print_bytes));
  w.u32(m.flags);
  write_utf16le(w, m.substitute_name);
  write_utf16le(w, m.print_name);
}

}  // namespace smbx::wire
