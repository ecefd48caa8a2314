// Helpers shared by the MS-FSCC codecs, internal to src/wire: NextEntryOffset
// chains (2.4 directory, stream and EA lists; 2.7.1 FILE_NOTIFY_INFORMATION)
// walked and written in one place so the bounds rules live in one place, and
// checked reads of fixed sizes and UTF-16 names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/reader.hpp"
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::wire::fscc {

// Refuses a buffer shorter than the fixed structure it must hold.
inline Expected<void> require_size(ByteView buffer, std::size_t size, std::string_view what) {
  if (buffer.size() < size)
    return Unexpected{wire_error(WireError::truncated, std::string{what} + " needs " + std::to_string(size) +
                                                           " bytes, the buffer has " + std::to_string(buffer.size()))};
  return {};
}

// Reads a UTF-16LE name of `length` bytes (a *NameLength field) at the cursor.
// The length is compared with what is left, never added to the position, so a
// value like 0xFFFFFFFF cannot wrap; an odd length cannot be UTF-16.
inline Expected<std::u16string> read_utf16(Reader& r, std::uint64_t length, std::string_view field) {
  if (length > r.remaining())
    return wire_error(WireError::truncated, std::string{field} + " " + std::to_string(length) + " runs past the " +
                                                "end (" + std::to_string(r.remaining()) + " bytes left)");
  if (length % 2 != 0)
    return wire_error(WireError::bad_length, std::string{field} + " " + std::to_string(length) +
                                                 " is odd: names are UTF-16");
  return utf16_from_le_bytes(SMBX_TRY(r.take(static_cast<std::size_t>(length))));
}

// "FileIdBothDirectoryInformation entry 2 at offset 224: <detail>"
inline Error in_entry(Error e, std::string_view what, std::size_t index, std::size_t offset) {
  e.detail = std::string{what} + " entry " + std::to_string(index) + " at offset " + std::to_string(offset) +
             ": " + e.detail;
  return e;
}

// Hands each entry to `parse(ByteView entry)` (an Expected<void>), where `entry`
// runs from the entry's NextEntryOffset field to the next entry, or to the end
// of the buffer for the last one; parse must stay inside it, so entries cannot
// overlap. Any forward NextEntryOffset that stays inside the buffer is accepted
// (peers pad to 8 or 4, the receiver need not check); a non-zero one always
// moves forward, so the walk ends. An empty buffer is refused: callers for which
// "no entries" is valid check for it first.
template <typename Parse>
Expected<void> walk_entries(ByteView buffer, std::string_view what, Parse&& parse) {
  std::size_t pos = 0;
  for (std::size_t index = 0;; ++index) {
    const std::size_t left = buffer.size() - pos;
    if (left < 4)
      return in_entry(wire_error(WireError::truncated, "NextEntryOffset needs 4 bytes, " + std::to_string(left) +
                                                           " left in the " + std::to_string(buffer.size()) +
                                                           "-byte buffer"),
                      what, index, pos);
    const std::uint32_t next = load_le32(buffer.data() + pos);
    if (next > left)  // compared with what is left, so pos + next cannot wrap
      return in_entry(wire_error(WireError::bad_offset, "NextEntryOffset " + std::to_string(next) +
                                                            " runs past the buffer (" + std::to_string(left) +
                                                            " bytes left)"),
                      what, index, pos);
    const ByteView entry = buffer.subspan(pos, next != 0 ? next : left);
    if (auto ok = parse(entry); !ok) return in_entry(ok.error(), what, index, pos);
    if (next == 0) return {};
    pos += next;
  }
}

// Appends `items` as a chain: the first entry where the writer stands, every
// later one aligned to `alignment` from the chain's start, zero padding in
// between, NextEntryOffset 0 and no padding after the last.
// encode_one(w, item) writes the entry after its NextEntryOffset field.
template <typename Range, typename EncodeOne>
void write_entries(Writer& w, const Range& items, std::size_t alignment, EncodeOne&& encode_one) {
  const std::size_t chain_start = w.size();
  bool first = true;
  std::size_t previous = 0;
  for (const auto& item : items) {
    if (!first) {
      const std::size_t misalign = (w.size() - chain_start) % alignment;
      if (misalign != 0) w.zeros(alignment - misalign);
      w.patch_u32(previous, static_cast<std::uint32_t>(w.size() - previous));
    }
    first = false;
    previous = w.reserve(4);  // NextEntryOffset: patched if another entry follows
    encode_one(w, item);
  }
}

// Bytes the next entry of a chain needs when `used` bytes of the chain are
// already written: the padding to `alignment` plus the entry itself.
inline std::size_t chain_cost(std::size_t used, std::size_t alignment, std::size_t entry_size) {
  const std::size_t misalign = used % alignment;
  return (used == 0 || misalign == 0 ? 0 : alignment - misalign) + entry_size;
}

}  // namespace smbx::wire::fscc
