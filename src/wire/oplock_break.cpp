#include "wire/oplock_break.hpp"

#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

Expected<std::uint16_t> structure_size(ByteView message) {
  Reader r{message, kHeaderSize};
  const auto size = SMBX_TRY(r.u16());
  if (size != kOplockBreakStructureSize && size != kLeaseBreakNotificationStructureSize &&
      size != kLeaseBreakAckStructureSize)
    return wire_error(WireError::bad_structure_size,
                      "OPLOCK_BREAK StructureSize " + std::to_string(size) + ", expected 24, 36 or 44");
  return size;
}

Expected<OplockBreak> decode_oplock(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kOplockBreakStructureSize, "oplock break"));
  OplockBreak m;
  m.oplock_level = SMBX_TRY(r.u8());
  SMBX_TRY_VOID(r.skip(5));  // Reserved, Reserved2
  m.file_id = SMBX_TRY(read_file_id(r));
  return m;
}

Expected<LeaseBreakNotification> decode_notification(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kLeaseBreakNotificationStructureSize,
                                      "lease break notification"));
  LeaseBreakNotification m;
  m.new_epoch = SMBX_TRY(r.u16());
  m.flags = SMBX_TRY(r.u32());
  m.lease_key = SMBX_TRY(r.array<16>());
  m.current_lease_state = SMBX_TRY(r.u32());
  m.new_lease_state = SMBX_TRY(r.u32());
  m.break_reason = SMBX_TRY(r.u32());
  m.access_mask_hint = SMBX_TRY(r.u32());
  m.share_mask_hint = SMBX_TRY(r.u32());
  return m;
}

Expected<LeaseBreakAck> decode_ack(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(
      expect_structure_size(SMBX_TRY(r.u16()), kLeaseBreakAckStructureSize, "lease break acknowledgment"));
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  LeaseBreakAck m;
  m.flags = SMBX_TRY(r.u32());
  m.lease_key = SMBX_TRY(r.array<16>());
  m.lease_state = SMBX_TRY(r.u32());
  m.lease_duration = SMBX_TRY(r.u64());
  return m;
}

}  // namespace

Expected<std::uint16_t> oplock_break_structure_size(ByteView message) {
  return with_action(structure_size(message), "decode OPLOCK_BREAK");
}
Expected<OplockBreak> decode_oplock_break(ByteView message) {
  return with_action(decode_oplock(message), "decode OPLOCK_BREAK (oplock)");
}
Expected<LeaseBreakNotification> decode_lease_break_notification(ByteView message) {
  return with_action(decode_notification(message), "decode OPLOCK_BREAK (lease break notification)");
}
Expected<LeaseBreakAck> decode_lease_break_ack(ByteView message) {
  return with_action(decode_ack(message), "decode OPLOCK_BREAK (lease break acknowledgment)");
}

void encode(Writer& w, const OplockBreak& m) {
  w.u16(kOplockBreakStructureSize);
  w.u8(m.oplock_level);
  w.zeros(5);  // Reserved, Reserved2
  write_file_id(w, m.file_id);
}

void encode(Writer& w, const LeaseBreakNotification& m) {
  w.u16(kLeaseBreakNotificationStructureSize);
  w.u16(m.new_epoch);
  w.u32(m.flags);
  w.bytes(m.lease_key);
  w.u32(m.current_lease_state);
  w.u32(m.new_lease_state);
  w.u32(m.break_reason);
  w.u32(m.access_mask_hint);
  w.u32(m.share_mask_hint);
}

void encode(Writer& w, const LeaseBreakAck& m) {
  w.u16(kLeaseBreakAckStructureSize);
  w.u16(0);  // Reserved
  w.u32(m.flags);
  w.bytes(m.lease_key);
  w.u32(m.lease_state);
  w.u64(m.lease_duration);
}

}  // namespace smbx::wire
