// libFuzzer target for CREATE: requests and responses (the input is the body
// behind a fixed header) and bare create context chains in both directions.
// Whatever decodes must re-encode to something that decodes to the same value.
#include <cstddef>
#include <cstdint>

#include "wire/create.hpp"
#include "wire/create_context.hpp"
#include "wire/header.hpp"
#include "wire_round_trip.hpp"

using namespace smbx;
using namespace smbx::wire;

namespace {

void chain_round_trip(ByteView chain, ContextDirection dir) {
  auto first = decode_create_contexts(chain, dir);
  if (!first) return;
  Bytes again;
  Writer w{again};
  encode_create_contexts(w, *first);
  auto second = decode_create_contexts(again, dir);
  if (!second || !(*second == *first)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};
  fuzz::check_body_round_trip(Command::create, false, input, decode_create_request);
  fuzz::check_body_round_trip(Command::create, true, input, decode_create_response);
  // A whole captured frame is also a good seed: decode it as a message too.
  if (auto header = decode_header(input); header && header->command == Command::create) {
    (void)decode_create_request(input);
    (void)decode_create_response(input);
  }
  chain_round_trip(input, ContextDirection::request);
  chain_round_trip(input, ContextDirection::response);
  return 0;
}
