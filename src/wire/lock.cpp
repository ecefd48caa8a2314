#include "wire/lock.hpp"

#include <cassert>
#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kRequestStructureSize = 48;
constexpr std::uint16_t kResponseStructureSize = 4;
constexpr std::size_t kLockElementSize = 24;

Expected<LockRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kRequestStructureSize, "LOCK request"));
  const auto lock_count = SMBX_TRY(r.u16());
  const auto sequence = SMBX_TRY(r.u32());
  LockRequest m;
  m.lock_sequence_number = static_cast<std::uint8_t>(sequence & 0xF);
  m.lock_sequence_index = sequence >> 4;
  m.file_id = SMBX_TRY(read_file_id(r));
  // MS-SMB2 2.2.26: "MUST be greater than or equal to 1".
  if (lock_count == 0) return wire_error(WireError::bad_value, "LockCount 0");
  if (std::size_t{lock_count} * kLockElementSize > r.remaining())
    return wire_error(WireError::truncated, "LockCount " + std::to_string(lock_count) + " needs " +
                                                std::to_string(lock_count * kLockElementSize) + " bytes, " +
                                                std::to_string(r.remaining()) + " remain");
  m.locks.resize(lock_count);
  for (auto& lock : m.locks) {
    lock.offset = SMBX_TRY(r.u64());
    lock.length = SMBX_TRY(r.u64());
    lock.flags = SMBX_TRY(r.u32());
    SMBX_TRY_VOID(r.skip(4));  // Reserved
  }
  return m;
}

Expected<LockResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kResponseStructureSize, "LOCK response"));
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  return LockResponse{};
}

}  // namespace

Expected<LockRequest> decode_lock_request(ByteView message) {
  return with_action(decode_request(message), "decode LOCK request");
}
Expected<LockResponse> decode_lock_response(ByteView message) {
  return with_action(decode_response(message), "decode LOCK response");
}

void encode(Writer& w, const LockRequest& m) {
  assert(!m.locks.empty() && m.lock_sequence_number < 16);
  w.u16(kRequestStructureSize);
  w.u16(static_cast<std::uint16_t>(m.locks.size()));
  w.u32((m.lock_sequence_index << 4) | (m.lock_sequence_number & 0xFu));
  write_file_id(w, m.file_id);
  for (const auto& lock : m.locks) {
    w.u64(lock.offset);
    w.u64(lock.length);
    w.u32(lock.flags);
    w.u32(0);  // Reserved
  }
}

void encode(Writer& w, const LockResponse&) {
  w.u16(kResponseStructureSize);
  w.u16(0);  // Reserved
}

}  // namespace smbx::wire
