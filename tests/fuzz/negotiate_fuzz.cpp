// libFuzzer target: NEGOTIATE request and response with their contexts.
#include <cstdint>

#include "wire/negotiate.hpp"
#include "wire_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smbx::wire;
  smbx::fuzz::as_message_and_body(data, size, [](smbx::ByteView message) {
    smbx::fuzz::check_round_trip(message, decode_negotiate_request);
    smbx::fuzz::check_round_trip(message, decode_negotiate_response);
  });
  return 0;
}
