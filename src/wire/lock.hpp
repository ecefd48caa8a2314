// SMB2 LOCK request and response (MS-SMB2 2.2.26, 2.2.26.1, 2.2.27).
#pragma once

#include <cstdint>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.26.1 Flags. Valid combinations: SHARED or EXCLUSIVE (each
// optionally with FAIL_IMMEDIATELY), or UNLOCK alone. Checking them is the
// server's job (3.3.5.14), not the codec's.
namespace lock_flags {
inline constexpr std::uint32_t shared_lock = 0x00000001;
inline constexpr std::uint32_t exclusive_lock = 0x00000002;
inline constexpr std::uint32_t unlock = 0x00000004;
inline constexpr std::uint32_t fail_immediately = 0x00000010;
}  // namespace lock_flags

// MS-SMB2 2.2.26.1, 24 bytes.
struct LockElement {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint32_t flags = 0;
  bool operator==(const LockElement&) const = default;
};

// MS-SMB2 2.2.26, StructureSize 48 (the fixed part plus one element).
struct LockRequest {
  // The 4-byte field is LockSequenceNumber in its low 4 bits and
  // LockSequenceIndex in the upper 28 (2.1+; reserved in 2.0.2). Lock replay
  // on resilient/durable handles uses them (3.3.5.14).
  std::uint8_t lock_sequence_number = 0;  // 0-15
  std::uint32_t lock_sequence_index = 0;  // 0-0x0FFFFFFF
  FileId file_id;
  std::vector<LockElement> locks;  // at least one
};

// MS-SMB2 2.2.27, StructureSize 4.
struct LockResponse {};

// Refuses LockCount 0 (bad_value) and a LockCount whose elements run past the
// message (truncated).
Expected<LockRequest> decode_lock_request(ByteView message);
Expected<LockResponse> decode_lock_response(ByteView message);

// Precondition: m.locks is not empty, lock_sequence_number < 16 and
// lock_sequence_index < 2^28 (higher bits are dropped).
void encode(Writer& w, const LockRequest& m);
void encode(Writer& w, const LockResponse& m);

}  // namespace smbx::wire
