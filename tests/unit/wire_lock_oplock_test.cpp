#include <doctest/doctest.h>

#include "wire/lock.hpp"
#include "wire/oplock_break.hpp"
#include "wire_message_support.hpp"

using namespace smbx;
using namespace smbx::wire;
using smbx::test::failed_with;

namespace {

// A LOCK request laid out by hand from the MS-SMB2 2.2.26 table: LockCount 2,
// LockSequenceNumber 5 in the low 4 bits and LockSequenceIndex 0x1234567 in the
// upper 28, then two 24-byte LOCK_ELEMENTs.
constexpr const char* kLockBody =
    "3000 0200 75563412"                                    // StructureSize 48, LockCount, sequence
    "0100000000000000 0200000000000000"                     // FileId
    "0000100000000000 0010000000000000 12000000 00000000"   // 4 KiB at 1 MiB, EXCLUSIVE|FAIL_IMMEDIATELY
    "ffffffffffffff7f 0100000000000000 04000000 00000000";  // the byte at 2^63-1, UNLOCK

// A lease break notification laid out by hand from MS-SMB2 2.2.23.2.
constexpr const char* kLeaseBreakBody =
    "2c00 0300 01000000"                // StructureSize 44, NewEpoch 3, ACK_REQUIRED
    "00112233445566778899aabbccddeeff"  // LeaseKey
    "07000000 01000000"                 // RWH -> R
    "00000000 00000000 00000000";       // BreakReason, AccessMaskHint, ShareMaskHint

}  // namespace

TEST_CASE("a hand-laid LOCK request decodes its sequence bits and both elements") {
  const Bytes message = test::message_with_body(Command::lock, test::hex(kLockBody));
  auto m = decode_lock_request(message);
  REQUIRE(m.has_value());
  CHECK(m->lock_sequence_number == 5);
  CHECK(m->lock_sequence_index == 0x1234567);
  CHECK(m->file_id == FileId{1, 2});
  REQUIRE(m->locks.size() == 2);
  CHECK(m->locks[0] ==
        LockElement{0x100000, 0x1000, lock_flags::exclusive_lock | lock_flags::fail_immediately});
  CHECK(m->locks[1] == LockElement{0x7FFFFFFFFFFFFFFF, 1, lock_flags::unlock});
  CHECK(test::encode_message(Command::lock, *m) == message);
}

TEST_CASE("a LOCK with LockCount 0 is refused") {
  Bytes message = test::message_with_body(Command::lock, test::hex(kLockBody));
  test::poke16(message, kHeaderSize + 2, 0);
  CHECK(failed_with(decode_lock_request(message), WireError::bad_value));
}

TEST_CASE("a LOCK whose LockCount needs more elements than the message holds is refused") {
  for (std::uint16_t count :
       std::initializer_list<std::uint16_t>{3, 0xFFFF}) {  // one too many; 24 * 0xFFFF would need 1.5 MiB
    CAPTURE(count);
    Bytes message = test::message_with_body(Command::lock, test::hex(kLockBody));
    test::poke16(message, kHeaderSize + 2, count);
    CHECK(failed_with(decode_lock_request(message), WireError::truncated));
  }
  const Bytes message = test::message_with_body(Command::lock, test::hex(kLockBody));
  test::check_prefixes_refused(message, decode_lock_request, message.size());
}

TEST_CASE("a LOCK response is StructureSize 4 and a LOCK request with another size is refused") {
  const Bytes response = test::encode_message(Command::lock, LockResponse{}, true);
  CHECK(to_hex(test::body_bytes(response)) == "04000000");
  CHECK(decode_lock_response(response).has_value());
  CHECK(failed_with(decode_lock_request(response), WireError::bad_structure_size));
  Bytes request = test::message_with_body(Command::lock, test::hex(kLockBody));
  CHECK(failed_with(decode_lock_response(request), WireError::bad_structure_size));
}

TEST_CASE("a lease break notification laid out per MS-SMB2 2.2.23.2 decodes and re-encodes") {
  const Bytes message = test::message_with_body(Command::oplock_break, test::hex(kLeaseBreakBody), true);
  auto size = oplock_break_structure_size(message);
  REQUIRE(size.has_value());
  CHECK(*size == kLeaseBreakNotificationStructureSize);
  auto m = decode_lease_break_notification(message);
  REQUIRE(m.has_value());
  CHECK(m->new_epoch == 3);
  CHECK(m->flags == lease_break_flags::ack_required);
  CHECK(to_hex(m->lease_key) == "00112233445566778899aabbccddeeff");
  CHECK(m->current_lease_state ==
        (lease_state::read_caching | lease_state::write_caching | lease_state::handle_caching));
  CHECK(m->new_lease_state == lease_state::read_caching);
  CHECK(test::encode_message(Command::oplock_break, *m, true) == message);
  test::check_prefixes_refused(message, decode_lease_break_notification, message.size());
}

TEST_CASE("a lease break acknowledgment is 36 bytes with the acked state at offset 24") {
  LeaseBreakAck m;
  m.lease_key = to_array<16>(test::hex("00112233445566778899aabbccddeeff"));
  m.lease_state = lease_state::read_caching;
  const Bytes message = test::encode_message(Command::oplock_break, m);
  REQUIRE(message.size() == kHeaderSize + 36);
  CHECK(load_le32(&message[kHeaderSize + 24]) == lease_state::read_caching);
  CHECK(*oplock_break_structure_size(message) == kLeaseBreakAckStructureSize);
  auto back = decode_lease_break_ack(message);
  REQUIRE(back.has_value());
  CHECK(back->lease_key == m.lease_key);
  CHECK(back->lease_state == lease_state::read_caching);
  CHECK(back->lease_duration == 0);
  test::check_prefixes_refused(message, decode_lease_break_ack, message.size());
}

TEST_CASE("an oplock break is 24 bytes: level at offset 2, FileId at 8") {
  OplockBreak m;
  m.oplock_level = oplock::level_ii;
  m.file_id = {0x0102030405060708, 0x1112131415161718};
  const Bytes message = test::encode_message(Command::oplock_break, m, true);
  CHECK(to_hex(test::body_bytes(message)) ==
        "1800010000000000"
        "0807060504030201"
        "1817161514131211");
  CHECK(*oplock_break_structure_size(message) == kOplockBreakStructureSize);
  auto back = decode_oplock_break(message);
  REQUIRE(back.has_value());
  CHECK(back->oplock_level == oplock::level_ii);
  CHECK(back->file_id == m.file_id);
  test::check_prefixes_refused(message, decode_oplock_break, message.size());
}

TEST_CASE("each OPLOCK_BREAK decoder refuses the other forms, and unknown sizes are named") {
  const Bytes oplock = test::encode_message(Command::oplock_break, OplockBreak{});
  const Bytes notification = test::encode_message(Command::oplock_break, LeaseBreakNotification{});
  const Bytes ack = test::encode_message(Command::oplock_break, LeaseBreakAck{});
  CHECK(failed_with(decode_oplock_break(ack), WireError::bad_structure_size));
  CHECK(failed_with(decode_lease_break_ack(notification), WireError::bad_structure_size));
  CHECK(failed_with(decode_lease_break_notification(oplock), WireError::bad_structure_size));
  Bytes odd = oplock;
  test::poke16(odd, kHeaderSize, 25);
  CHECK(failed_with(oplock_break_structure_size(odd), WireError::bad_structure_size));
  CHECK(failed_with(oplock_break_structure_size(ByteView{oplock}.first(kHeaderSize + 1)),
                    WireError::truncated));
}
