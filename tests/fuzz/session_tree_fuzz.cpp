// libFuzzer target: SESSION_SETUP and TREE_CONNECT requests and responses.
#include <cstdint>

#include "wire/session_setup.hpp"
#include "wire/tree_connect.hpp"
#include "wire_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smbx::wire;
  smbx::fuzz::as_message_and_body(data, size, [](smbx::ByteView message) {
    smbx::fuzz::check_round_trip(message, decode_session_setup_request);
    smbx::fuzz::check_round_trip(message, decode_session_setup_response);
    smbx::fuzz::check_round_trip(message, decode_tree_connect_request);
    smbx::fuzz::check_round_trip(message, decode_tree_connect_response);
  });
  return 0;
}
