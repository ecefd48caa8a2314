// MS-FSCC extended attribute lists: FILE_GET_EA_INFORMATION (the names a
// QUERY_INFO of FileFullEaInformation asks for), the sizes of
// FILE_FULL_EA_INFORMATION chains (EaSize) and the EaName rules.
// FILE_FULL_EA_INFORMATION itself is in fscc_file.cpp with the other classes.
#include <string>

#include "wire/fscc.hpp"
#include "wire/fscc_chain.hpp"

namespace smbx::wire::fscc {

namespace {
constexpr std::size_t kGetEaFixedSize = 5;   // NextEntryOffset, EaNameLength
constexpr std::size_t kFullEaFixedSize = 8;  // NextEntryOffset, Flags, EaNameLength, EaValueLength
}  // namespace

Expected<FileGetEaInformation> decode_file_get_ea_information(ByteView buffer) {
  FileGetEaInformation m;
  if (buffer.empty()) return m;
  SMBX_TRY_VOID(walk_entries(buffer, "FILE_GET_EA_INFORMATION", [&](ByteView entry) -> Expected<void> {
    SMBX_TRY_VOID(require_size(entry, kGetEaFixedSize, "the entry"));
    Reader r{entry, 4};
    const std::uint8_t name_length = SMBX_TRY(r.u8());
    if (name_length > r.remaining())
      return wire_error(WireError::truncated, "EaNameLength " + std::to_string(name_length) +
                                                  " runs past the entry (" + std::to_string(r.remaining()) +
                                                  " bytes left)");
    const ByteView name = SMBX_TRY(r.take(name_length));
    // The NUL after the name, when the entry has room for it, must be one.
    if (r.remaining() > 0 && SMBX_TRY(r.u8()) != 0)
      return wire_error(WireError::bad_value, "EaName is not followed by its NUL terminator");
    m.names.emplace_back(name.begin(), name.end());
    return {};
  }));
  return m;
}

void encode(Writer& w, const FileGetEaInformation& m) {
  write_entries(w, m.names, 4, [](Writer& out, const std::string& name) {
    out.u8(static_cast<std::uint8_t>(name.size()));
    for (char c : name) out.u8(static_cast<std::uint8_t>(c));
    out.u8(0);
  });
}

std::size_t full_ea_entry_size(std::size_t name_length, std::size_t value_length) noexcept {
  return kFullEaFixedSize + name_length + 1 + value_length;
}

std::size_t full_ea_chain_size(const FileFullEaInformation& m) noexcept {
  std::size_t used = 0;
  for (const auto& e : m.entries) used += chain_cost(used, 4, full_ea_entry_size(e.ea_name.size(), e.ea_value.size()));
  return used;
}

bool valid_ea_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 255) return false;
  constexpr std::string_view kBad = "\"*+,/:;<=>?[\\]|";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || kBad.find(c) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace smbx::wire::fscc
