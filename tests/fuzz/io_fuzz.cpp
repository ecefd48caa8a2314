// libFuzzer target: READ, WRITE, LOCK, OPLOCK_BREAK, the fixed-size messages
// (LOGOFF, TREE_DISCONNECT, ECHO, CANCEL, FLUSH, CLOSE) and the ERROR response
// with its symlink and buffer-too-small payloads.
#include <cstdint>

#include "wire/error_response.hpp"
#include "wire/lock.hpp"
#include "wire/oplock_break.hpp"
#include "wire/read_write.hpp"
#include "wire/simple.hpp"
#include "wire_round_trip.hpp"

namespace {

using namespace smbx;
using namespace smbx::wire;

// read_write.hpp: channel info after data needs a 16-bit WriteChannelInfoOffset.
bool representable(const WriteRequest& m) {
  return m.write_channel_info.empty() || kWriteRequestDataOffset + m.data.size() <= 0xFFFF;
}

void check_symlink(ByteView error_data) {
  auto first = decode_symlink_error(error_data);
  if (!first.has_value()) return;
  Bytes once;
  Writer w{once};
  encode(w, *first);
  auto second = decode_symlink_error(once);
  if (!second.has_value()) __builtin_trap();
  Bytes twice;
  Writer w2{twice};
  encode(w2, *second);
  if (twice != once) __builtin_trap();
}

void check_message(ByteView message) {
  fuzz::check_round_trip(message, decode_read_request);
  fuzz::check_round_trip(message, decode_read_response);
  fuzz::check_round_trip(message, decode_write_request,
                         [](const WriteRequest& m) { return representable(m); });
  fuzz::check_round_trip(message, decode_write_response);
  fuzz::check_round_trip(message, decode_lock_request);
  fuzz::check_round_trip(message, decode_lock_response);
  if (oplock_break_structure_size(message).has_value()) {
    fuzz::check_round_trip(message, decode_oplock_break);
    fuzz::check_round_trip(message, decode_lease_break_notification);
    fuzz::check_round_trip(message, decode_lease_break_ack);
  }
  fuzz::check_round_trip(message, decode_logoff_request);
  fuzz::check_round_trip(message, decode_logoff_response);
  fuzz::check_round_trip(message, decode_tree_disconnect_request);
  fuzz::check_round_trip(message, decode_tree_disconnect_response);
  fuzz::check_round_trip(message, decode_echo_request);
  fuzz::check_round_trip(message, decode_echo_response);
  fuzz::check_round_trip(message, decode_cancel_request);
  fuzz::check_round_trip(message, decode_flush_response);
  fuzz::check_round_trip(message, decode_flush_request);
  fuzz::check_round_trip(message, decode_close_request);
  fuzz::check_round_trip(message, decode_close_response);
  fuzz::check_round_trip(message, decode_error_response);
  if (auto error = decode_error_response(message); error.has_value()) {
    (void)buffer_too_small_required_length(*error);
    check_symlink(default_error_data(*error));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smbx::fuzz::as_message_and_body(data, size, check_message);
  check_symlink(smbx::ByteView{data, size});
  return 0;
}
