// SMB2 OPLOCK_BREAK: oplock and lease break notifications, acknowledgments and
// responses (MS-SMB2 2.2.23-2.2.25). One command, three layouts, told apart by
// StructureSize: 24 oplock (all three roles), 44 lease break notification,
// 36 lease break acknowledgment and response.
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/create.hpp"          // oplock:: levels
#include "wire/create_context.hpp"  // lease_state:: bits
#include "wire/types.hpp"

namespace smbx::wire {

inline constexpr std::uint16_t kOplockBreakStructureSize = 24;
inline constexpr std::uint16_t kLeaseBreakNotificationStructureSize = 44;
inline constexpr std::uint16_t kLeaseBreakAckStructureSize = 36;

// MS-SMB2 2.2.23.2 Flags.
namespace lease_break_flags {
inline constexpr std::uint32_t ack_required = 0x00000001;  // SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED
}

// MS-SMB2 2.2.23.1 / 2.2.24.1 / 2.2.25.1, StructureSize 24. Notification: the
// highest level the server will accept in the ack (oplock::none or
// level_ii). Ack: the level the client drops to. Response: the level granted.
struct OplockBreak {
  std::uint8_t oplock_level = oplock::none;
  FileId file_id;
};

// MS-SMB2 2.2.23.2, StructureSize 44. BreakReason and the hints are reserved
// (0) but kept as received.
struct LeaseBreakNotification {
  std::uint16_t new_epoch = 0;  // 3.x; reserved in 2.1
  std::uint32_t flags = 0;
  Guid lease_key{};
  std::uint32_t current_lease_state = 0;
  std::uint32_t new_lease_state = 0;
  std::uint32_t break_reason = 0;
  std::uint32_t access_mask_hint = 0;
  std::uint32_t share_mask_hint = 0;
};

// MS-SMB2 2.2.24.2 (acknowledgment) and 2.2.25.2 (response), StructureSize 36.
struct LeaseBreakAck {
  std::uint32_t flags = 0;  // reserved, 0
  Guid lease_key{};
  std::uint32_t lease_state = 0;     // ack: a subset of NewLeaseState
  std::uint64_t lease_duration = 0;  // reserved, 0
};

// Which form an OPLOCK_BREAK message is: its body's StructureSize, one of the
// three constants above; anything else is refused (bad_structure_size).
Expected<std::uint16_t> oplock_break_structure_size(ByteView message);

Expected<OplockBreak> decode_oplock_break(ByteView message);
Expected<LeaseBreakNotification> decode_lease_break_notification(ByteView message);
Expected<LeaseBreakAck> decode_lease_break_ack(ByteView message);

void encode(Writer& w, const OplockBreak& m);
void encode(Writer& w, const LeaseBreakNotification& m);
void encode(Writer& w, const LeaseBreakAck& m);

}  // namespace smbx::wire
