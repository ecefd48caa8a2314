// libFuzzer target for IOCTL: requests and responses (the input is the body
// behind a fixed header) and every FSCTL payload decoder on the bare input.
// Whatever decodes must re-encode to something that decodes to the same value.
#include <cstddef>
#include <cstdint>

#include "wire/fsctl.hpp"
#include "wire/header.hpp"
#include "wire/ioctl.hpp"

using namespace smbx;
using namespace smbx::wire;

namespace {

Bytes with_header(bool response, ByteView body) {
  Bytes out;
  Writer w{out};
  Header h;
  h.command = Command::ioctl;
  if (response) h.flags = flags::server_to_redir;
  encode_header(w, h);
  w.bytes(body);
  return out;
}

template <typename Decode>
void message_round_trip(ByteView body, bool response, Decode decode) {
  const Bytes message = with_header(response, body);
  auto first = decode(ByteView{message});
  if (!first) return;
  Bytes again = with_header(response, {});
  Writer w{again};
  w.set_base(0);
  encode(w, *first);
  auto second = decode(ByteView{again});
  if (!second || !(*second == *first)) __builtin_trap();
}

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
  message_round_trip(input, false, decode_ioctl_request);
  message_round_trip(input, true, decode_ioctl_response);
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
