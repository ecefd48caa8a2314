// Types shared by every SMB2 message (MS-SMB2 2.2; MS-DTYP).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

// MS-DTYP 2.3.4: 16 bytes, first three fields little-endian, kept as wire bytes.
using Guid = std::array<std::uint8_t, 16>;

// MS-SMB2 2.2.14.1
struct FileId {
  std::uint64_t persistent = 0;
  std::uint64_t volatile_id = 0;
  // All 0xFF: "the FileId of the previous request in a related compound" (MS-SMB2 3.2.4.1.4).
  static constexpr FileId related() { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }
  bool operator==(const FileId&) const = default;
};

inline Expected<FileId> read_file_id(Reader& r) {
  FileId id;
  id.persistent = SMBX_TRY(r.u64());
  id.volatile_id = SMBX_TRY(r.u64());
  return id;
}
inline void write_file_id(Writer& w, const FileId& id) {
  w.u64(id.persistent);
  w.u64(id.volatile_id);
}

// MS-SMB2 2.2.3 DialectRevision values.
enum class Dialect : std::uint16_t {
  smb202 = 0x0202,
  smb210 = 0x0210,
  smb300 = 0x0300,
  smb302 = 0x0302,
  smb311 = 0x0311,
  wildcard = 0x02FF,
};
std::string_view to_string(Dialect d) noexcept;
inline bool is_smb3(Dialect d) noexcept { return static_cast<std::uint16_t>(d) >= 0x0300 && d != Dialect::wildcard; }

// Fails with bad_structure_size unless `actual` is what MS-SMB2 fixes for the message.
inline Expected<void> expect_structure_size(std::uint16_t actual, std::uint16_t expected, std::string_view what) {
  if (actual != expected)
    return Unexpected{wire_error(WireError::bad_structure_size,
                                 std::string{what} + " StructureSize " + std::to_string(actual) +
                                     ", expected " + std::to_string(expected))};
  return {};
}

// UTF-16LE helpers. Names stay UTF-16 in the wire structs so nothing is lost
// (Windows names may hold unpaired surrogates); conversion is the caller's.
std::u16string utf16_from_le_bytes(ByteView bytes);  // odd trailing byte is dropped
void write_utf16le(Writer& w, std::u16string_view text);
std::u16string utf16_from_utf8(std::string_view text);  // invalid UTF-8 becomes U+FFFD
std::string utf8_from_utf16(std::u16string_view text);  // unpaired surrogates become U+FFFD
inline std::size_t utf16_byte_length(std::u16string_view text) { return text.size() * 2; }

}  // namespace smbx::wire
