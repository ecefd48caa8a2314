#include "wire/create.hpp"

#include <cassert>
#include <string>

#include "wire/body_buffer.hpp"
#include "wire/file_times.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

// The fixed part of each body; the Buffer starts right after it (MS-SMB2 2.2.13, 2.2.14).
constexpr std::size_t kRequestFixedSize = kCreateRequestStructureSize - 1;    // 56
constexpr std::size_t kResponseFixedSize = kCreateResponseStructureSize - 1;  // 88

bool overlaps(std::uint64_t a_offset, std::uint64_t a_length, std::uint64_t b_offset, std::uint64_t b_length) {
  return a_length != 0 && b_length != 0 && a_offset < b_offset + b_length && b_offset < a_offset + a_length;
}

// MS-SMB2 2.2.13: CreateContextsOffset MUST be 8-aligned (from the header).
Expected<std::vector<CreateContext>> contexts_field(const Reader& r, std::uint32_t offset, std::uint32_t length,
                                                    std::size_t buffer_start, ContextDirection dir) {
  if (length == 0) return std::vector<CreateContext>{};
  if (offset % 8 != 0)
    return wire_error(WireError::bad_offset, "CreateContextsOffset " + std::to_string(offset) + " is not 8-aligned");
  const auto chain = SMBX_TRY(
      body_buffer(r, "CreateContextsOffset", offset, "CreateContextsLength", length, buffer_start));
  return decode_create_contexts(chain, dir);
}

Expected<CreateRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kCreateRequestStructureSize, "CREATE request"));
  CreateRequest m;
  m.security_flags = SMBX_TRY(r.u8());
  m.requested_oplock_level = SMBX_TRY(r.u8());
  m.impersonation_level = SMBX_TRY(r.u32());
  m.smb_create_flags = SMBX_TRY(r.u64());
  SMBX_TRY_VOID(r.skip(8));  // Reserved
  m.desired_access = SMBX_TRY(r.u32());
  m.file_attributes = SMBX_TRY(r.u32());
  m.share_access = SMBX_TRY(r.u32());
  m.create_disposition = SMBX_TRY(r.u32());
  m.create_options = SMBX_TRY(r.u32());
  const auto name_offset = SMBX_TRY(r.u16());
  const auto name_length = SMBX_TRY(r.u16());
  const auto contexts_offset = SMBX_TRY(r.u32());
  const auto contexts_length = SMBX_TRY(r.u32());

  constexpr std::size_t buffer_start = kHeaderSize + kRequestFixedSize;
  m.name = SMBX_TRY(
      utf16_field(SMBX_TRY(body_buffer(r, "NameOffset", name_offset, "NameLength", name_length, buffer_start)),
                  "Name"));
  if (overlaps(name_offset, name_length, contexts_offset, contexts_length))
    return wire_error(WireError::bad_offset, "the create contexts at " + std::to_string(contexts_offset) +
                                                 " overlap the name at " + std::to_string(name_offset));
  m.contexts =
      SMBX_TRY(contexts_field(r, contexts_offset, contexts_length, buffer_start, ContextDirection::request));
  return m;
}

Expected<CreateResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kCreateResponseStructureSize, "CREATE response"));
  CreateResponse m;
  m.oplock_level = SMBX_TRY(r.u8());
  m.flags = SMBX_TRY(r.u8());
  m.create_action = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(read_times_sizes_attributes(r, m));
  SMBX_TRY_VOID(r.skip(4));  // Reserved2
  m.file_id = SMBX_TRY(read_file_id(r));
  const auto contexts_offset = SMBX_TRY(r.u32());
  const auto contexts_length = SMBX_TRY(r.u32());
  m.contexts = SMBX_TRY(contexts_field(r, contexts_offset, contexts_length, kHeaderSize + kResponseFixedSize,
                                       ContextDirection::response));
  return m;
}

}  // namespace

Expected<CreateRequest> decode_create_request(ByteView message) {
  return with_action(decode_request(message), "decode CREATE request");
}

Expected<CreateResponse> decode_create_response(ByteView message) {
  return with_action(decode_response(message), "decode CREATE response");
}

void encode(Writer& w, const CreateRequest& m) {
  const auto buffer_start = w.offset() + kRequestFixedSize;
  const auto name_bytes = utf16_byte_length(m.name);
  assert(name_bytes <= 0xFFFF && buffer_start <= 0xFFFF);
  w.u16(kCreateRequestStructureSize);
  w.u8(m.security_flags);
  w.u8(m.requested_oplock_level);
  w.u32(m.impersonation_level);
  w.u64(m.smb_create_flags);
  w.u64(0);  // Reserved
  w.u32(m.desired_access);
  w.u32(m.file_attributes);
  w.u32(m.share_access);
  w.u32(m.create_disposition);
  w.u32(m.create_options);
  // Like Samba and Windows, NameOffset points at the buffer even for an empty name.
  w.u16(static_cast<std::uint16_t>(buffer_start));
  w.u16(static_cast<std::uint16_t>(name_bytes));
  const auto contexts_offset_at = w.reserve(4);
  const auto contexts_length_at = w.reserve(4);
  write_utf16le(w, m.name);
  if (!m.contexts.empty()) {
    w.align(8);
    w.patch_u32(contexts_offset_at, static_cast<std::uint32_t>(w.offset()));
    w.patch_u32(contexts_length_at, static_cast<std::uint32_t>(encode_create_contexts(w, m.contexts)));
  } else if (m.name.empty()) {
    w.u8(0);  // MS-SMB2 2.2.13: the Buffer holds at least one byte
  }
}

void encode(Writer& w, const CreateResponse& m) {
  w.u16(kCreateResponseStructureSize);
  w.u8(m.oplock_level);
  w.u8(m.flags);
  w.u32(m.create_action);
  write_times_sizes_attributes(w, m);
  w.u32(0);  // Reserved2
  write_file_id(w, m.file_id);
  const auto contexts_offset_at = w.reserve(4);
  const auto contexts_length_at = w.reserve(4);
  // Samba sends no Buffer byte when there are no contexts: an 88-byte body (captures).
  if (!m.contexts.empty()) {
    w.align(8);
    w.patch_u32(contexts_offset_at, static_cast<std::uint32_t>(w.offset()));
    w.patch_u32(contexts_length_at, static_cast<std::uint32_t>(encode_create_contexts(w, m.contexts)));
  }
}

}  // namespace smbx::wire
