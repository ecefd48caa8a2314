// libFuzzer target for the extended attribute lists (wire/fscc_ea.cpp): the
// input as a FILE_GET_EA_INFORMATION list (a QUERY_INFO input buffer) and as
// a FILE_FULL_EA_INFORMATION chain (SET_INFO, the ExtA create context).
// Whatever decodes must re-encode to the same value, and the chain size
// (EaSize) must be exactly what encode() writes.
#include <cstddef>
#include <cstdint>

#include "wire/fscc.hpp"
#include "wire/query_info.hpp"

using namespace smbx;
using namespace smbx::wire;
using namespace smbx::wire::fscc;

namespace {

void get_ea_list(ByteView b) {
  auto first = decode_file_get_ea_information(b);
  if (!first) return;
  for (const auto& name : first->names)
    if (name.size() > 255) __builtin_trap();  // EaNameLength is 8 bits
  Bytes again;
  Writer w{again};
  encode(w, *first);
  auto second = decode_file_get_ea_information(again);
  if (!second || *second != *first) __builtin_trap();
  for (const auto& name : first->names) (void)valid_ea_name(name);
}

void full_ea_chain(ByteView b) {
  auto first = decode_file_full_ea_information(b);
  if (!first) return;
  Bytes again;
  Writer w{again};
  encode(w, *first);
  if (full_ea_chain_size(*first) != again.size()) __builtin_trap();
  auto second = decode_file_full_ea_information(again);
  if (!second || !(*second == *first)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};
  get_ea_list(input);
  full_ea_chain(input);
  if (auto q = decode_query_info_request(input)) get_ea_list(q->input_buffer);
  return 0;
}
