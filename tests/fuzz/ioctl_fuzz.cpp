// libFuzzer target for IOCTL: requests and responses (the input is the body
// behind a fixed header) and every FSCTL payload decoder on the bare input.
// Whatever decodes must re-encode to something that decodes to the same value.
#include <cstddef>
#include <cstdint>

#include "wire/fsctl.hpp"
#include "wire/header.hpp"
#include "wire/ioctl.hpp"
#include "wire_round_trip.hpp"

using namespace smbx;
using namespace smbx::wire;

namespace {

template <typename Decode>
void payload_round_trip(ByteView payload, Decode decode) {
  auto first = decode(payload);
  if (!first) return;
  const Bytes again = fsctl_payload(*first);
  auto second = decode(ByteView{again});
  if (!second || !(*second == *first)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};
  fuzz::check_body_round_trip(Command::ioctl, false, input, decode_ioctl_request);
  fuzz::check_body_round_trip(Command::ioctl, true, input, decode_ioctl_response);
  if (auto header = decode_header(input); header && header->command == Command::ioctl) {
    (void)decode_ioctl_request(input);
    (void)decode_ioctl_response(input);
  }
  payload_round_trip(input, decode_validate_negotiate_info_request);
  payload_round_trip(input, decode_validate_negotiate_info_response);
  payload_round_trip(input, decode_network_interface_info);
  payload_round_trip(input, decode_srv_request_resume_key);
  payload_round_trip(input, decode_srv_copychunk_copy);
  payload_round_trip(input, decode_srv_copychunk_response);
  payload_round_trip(input, decode_offload_read_input);
  payload_round_trip(input, decode_offload_read_output);
  payload_round_trip(input, decode_offload_write_input);
  payload_round_trip(input, decode_offload_write_output);
  payload_round_trip(input, decode_duplicate_extents_data);
  payload_round_trip(input, decode_duplicate_extents_data_ex);
  payload_round_trip(input, decode_network_resiliency_request);
  return 0;
}
