#include "wire/tree_connect.hpp"

#include <algorithm>
#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kRequestStructureSize = 9;
constexpr std::uint16_t kResponseStructureSize = 16;
constexpr std::size_t kRequestBufferStart = kHeaderSize + 8;  // 0x48
constexpr std::size_t kExtensionSize = 16;                    // MS-SMB2 2.2.9.1, before PathName
constexpr std::size_t kContextHeaderSize = 8;                 // ContextType, DataLength, Reserved

Expected<std::vector<TreeConnectContext>> decode_contexts(const Reader& message, std::uint64_t offset,
                                                          std::uint16_t count, std::uint64_t first_allowed) {
  std::vector<TreeConnectContext> out;
  if (count == 0) return out;
  if (offset < first_allowed)
    return wire_error(WireError::bad_offset, "TreeConnectContextOffset " + std::to_string(offset) +
                                                 " lies before the end of the path (" +
                                                 std::to_string(first_allowed) + ")");
  std::uint64_t pos = offset;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (i > 0) pos = align8(pos);
    const std::string which =
        "tree connect context " + std::to_string(i + 1) + " of " + std::to_string(count);
    auto head = message.window(pos, kContextHeaderSize);
    if (!head)
      return wire_error(WireError::truncated, which + " at offset " + std::to_string(pos) +
                                                  " runs past the " + std::to_string(message.size()) +
                                                  "-byte message");
    TreeConnectContext c;
    c.context_type = load_le16(head->data());
    const auto length = load_le16(head->data() + 2);
    auto data = message.window(pos + kContextHeaderSize, length);
    if (!data)
      return wire_error(WireError::truncated,
                        which + " DataLength " + std::to_string(length) + " runs past the message");
    c.data = *data;
    out.push_back(c);
    pos += kContextHeaderSize + length;
  }
  return out;
}

Expected<TreeConnectRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kRequestStructureSize, "TREE_CONNECT request"));
  TreeConnectRequest m;
  m.flags = SMBX_TRY(r.u16());
  const auto path_offset = SMBX_TRY(r.u16());
  const auto path_length = SMBX_TRY(r.u16());
  if ((m.flags & tree_connect_flags::extension_present) == 0) {
    m.path = SMBX_TRY(utf16_field(
        SMBX_TRY(body_buffer(r, "PathOffset", path_offset, "PathLength", path_length, kRequestBufferStart)),
        "PathLength"));
    return m;
  }
  // MS-SMB2 2.2.9.1: PathName follows the 16-byte extension header.
  const auto context_offset = SMBX_TRY(r.u32());
  const auto context_count = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(10));  // Reserved
  const auto path_start = kRequestBufferStart + kExtensionSize;
  m.path = SMBX_TRY(
      utf16_field(SMBX_TRY(body_buffer(r, "PathOffset", path_offset, "PathLength", path_length, path_start)),
                  "PathLength"));
  const std::uint64_t path_end = path_length == 0 ? path_start : std::uint64_t{path_offset} + path_length;
  m.contexts = SMBX_TRY(
      decode_contexts(r, context_offset, context_count, std::max<std::uint64_t>(path_start, path_end)));
  return m;
}

Expected<TreeConnectResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kResponseStructureSize, "TREE_CONNECT response"));
  TreeConnectResponse m;
  m.share_type = SMBX_TRY(r.u8());
  SMBX_TRY_VOID(r.skip(1));  // Reserved
  m.share_flags = SMBX_TRY(r.u32());
  m.capabilities = SMBX_TRY(r.u32());
  m.maximal_access = SMBX_TRY(r.u32());
  return m;
}

}  // namespace

Expected<TreeConnectRequest> decode_tree_connect_request(ByteView message) {
  return with_action(decode_request(message), "decode TREE_CONNECT request");
}

Expected<TreeConnectResponse> decode_tree_connect_response(ByteView message) {
  return with_action(decode_response(message), "decode TREE_CONNECT response");
}

void encode(Writer& w, const TreeConnectRequest& m) {
  const auto path_bytes = static_cast<std::uint16_t>(utf16_byte_length(m.path));
  w.u16(kRequestStructureSize);
  w.u16(m.flags);
  const auto path_offset_at = w.reserve(2);
  w.u16(path_bytes);
  if ((m.flags & tree_connect_flags::extension_present) == 0) {
    w.patch_u16(path_offset_at, static_cast<std::uint16_t>(w.offset()));
    write_utf16le(w, m.path);
    if (m.path.empty()) w.u8(0);  // StructureSize 9 counts one Buffer byte
    return;
  }
  const auto context_offset_at = w.reserve(4);
  w.u16(static_cast<std::uint16_t>(m.contexts.size()));
  w.zeros(10);  // Reserved
  w.patch_u16(path_offset_at, static_cast<std::uint16_t>(w.offset()));
  write_utf16le(w, m.path);
  if (m.contexts.empty()) return;
  w.align(8);
  w.patch_u32(context_offset_at, static_cast<std::uint32_t>(w.offset()));
  for (const auto& c : m.contexts) {
    w.align(8);
    w.u16(c.context_type);
    w.u16(static_cast<std::uint16_t>(c.data.size()));
    w.u32(0);  // Reserved
    w.bytes(c.data);
  }
}

void encode(Writer& w, const TreeConnectResponse& m) {
  w.u16(kResponseStructureSize);
  w.u8(m.share_type);
  w.u8(0);  // Reserved
  w.u32(m.share_flags);
  w.u32(m.capabilities);
  w.u32(m.maximal_access);
}

}  // namespace smbx::wire
