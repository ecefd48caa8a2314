// The dispatcher: any frame is split into compound members and each body is
// decoded by whichever decoder its header selects. A body that decodes must
// encode and decode again to the same bytes.
#include <algorithm>
#include <cstdint>
#include <cstddef>

#include "wire/message.hpp"

using namespace smbx;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView frame{data, size};
  auto members = wire::split_compound(frame);
  if (!members) return 0;
  for (const auto& member : *members) {
    for (auto dialect : {wire::Dialect::smb202, wire::Dialect::smb311}) {
      auto body = wire::decode_body(member.header, member.bytes, dialect);
      if (!body) continue;
      const auto once = wire::encode_message(member.header, *body);
      auto header = wire::decode_header(once);
      if (!header) __builtin_trap();
      auto again = wire::decode_body(*header, once, dialect);
      if (!again) __builtin_trap();
      const auto twice = wire::encode_message(*header, *again);
      if (once != twice) __builtin_trap();
    }
  }
  return 0;
}
