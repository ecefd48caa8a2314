// MS-FSCC 2.4 directory enumeration classes, as carried by QUERY_DIRECTORY.
// The six layouts share a prefix, so one table row per class drives both the
// decoder and the encoder.
#include "wire/fscc.hpp"
#include "wire/fscc_chain.hpp"

namespace smbx::wire::fscc {

namespace {

constexpr std::size_t kShortNameBytes = 24;  // ShortName is always 12 UTF-16 units wide
constexpr std::size_t kEntryAlignment = 8;   // "each MUST be aligned on an 8-byte boundary"

// Offsets after NextEntryOffset and FileIndex (bytes 0-7):
//   times, sizes, FileAttributes, FileNameLength: 8-63 (all but FileNamesInformation)
//   EaSize: 64-67; ShortNameLength 68, Reserved 69, ShortName 70-93 (Both, IdBoth)
//   Reserved2 94-95, FileId 96-103 (IdBoth); Reserved 68-71, FileId 72-79 (IdFull)
struct Layout {
  std::uint8_t file_information_class;
  const char* name;
  std::size_t fixed_size;  // FileName's offset
  bool has_times_and_sizes;
  bool has_ea_size;
  bool has_short_name;
  std::size_t reserved_before_file_id;  // 2 (IdBoth) or 4 (IdFull)
  bool has_file_id;
};

constexpr Layout kLayouts[] = {
    {file_info_class::file_directory_information, "FileDirectoryInformation", 64, true, false, false, 0, false},
    {file_info_class::file_full_directory_information, "FileFullDirectoryInformation", 68, true, true, false, 0,
     false},
    {file_info_class::file_both_directory_information, "FileBothDirectoryInformation", 94, true, true, true, 0,
     false},
    {file_info_class::file_names_information, "FileNamesInformation", 12, false, false, false, 0, false},
    {file_info_class::file_id_both_directory_information, "FileIdBothDirectoryInformation", 104, true, true, true, 2,
     true},
    {file_info_class::file_id_full_directory_information, "FileIdFullDirectoryInformation", 80, true, true, false, 4,
     true},
};

const Layout* find_layout(std::uint8_t file_information_class) noexcept {
  for (const auto& layout : kLayouts)
    if (layout.file_information_class == file_information_class) return &layout;
  return nullptr;
}

Expected<std::u16string> read_short_name(Reader& r) {
  const std::uint8_t length = SMBX_TRY(r.u8());
  SMBX_TRY_VOID(r.skip(1));  // Reserved
  const ByteView field = SMBX_TRY(r.take(kShortNameBytes));
  if (length > kShortNameBytes || length % 2 != 0)
    return wire_error(WireError::bad_length, "ShortNameLength " + std::to_string(length) +
                                                 " does not fit the 24-byte ShortName as UTF-16");
  return utf16_from_le_bytes(field.first(length));
}

Expected<DirectoryEntry> read_entry(const Layout& layout, ByteView entry) {
  SMBX_TRY_VOID(require_size(entry, layout.fixed_size, "the entry"));
  Reader r{entry, 4};
  DirectoryEntry e;
  e.file_index = SMBX_TRY(r.u32());
  std::uint32_t name_length = 0;
  if (layout.has_times_and_sizes) {
    e.creation_time = SMBX_TRY(r.u64());
    e.last_access_time = SMBX_TRY(r.u64());
    e.last_write_time = SMBX_TRY(r.u64());
    e.change_time = SMBX_TRY(r.u64());
    e.end_of_file = SMBX_TRY(r.u64());
    e.allocation_size = SMBX_TRY(r.u64());
    e.file_attributes = SMBX_TRY(r.u32());
  }
  name_length = SMBX_TRY(r.u32());
  if (layout.has_ea_size) e.ea_size = SMBX_TRY(r.u32());
  if (layout.has_short_name) e.short_name = SMBX_TRY(read_short_name(r));
  if (layout.has_file_id) {
    SMBX_TRY_VOID(r.skip(layout.reserved_before_file_id));
    e.file_id = SMBX_TRY(r.u64());
  }
  e.file_name = SMBX_TRY(read_utf16(r, name_length, "FileNameLength"));
  return e;
}

void write_entry(Writer& w, const Layout& layout, const DirectoryEntry& e) {
  w.u32(0);  // NextEntryOffset: the caller patches it if another entry follows
  w.u32(e.file_index);
  if (layout.has_times_and_sizes) {
    w.u64(e.creation_time);
    w.u64(e.last_access_time);
    w.u64(e.last_write_time);
    w.u64(e.change_time);
    w.u64(e.end_of_file);
    w.u64(e.allocation_size);
    w.u32(e.file_attributes);
  }
  w.u32(static_cast<std::uint32_t>(utf16_byte_length(e.file_name)));
  if (layout.has_ea_size) w.u32(e.ea_size);
  if (layout.has_short_name) {
    const auto short_name = std::u16string_view{e.short_name}.substr(0, kShortNameBytes / 2);
    w.u8(static_cast<std::uint8_t>(utf16_byte_length(short_name)));
    w.u8(0);  // Reserved
    write_utf16le(w, short_name);
    w.zeros(kShortNameBytes - utf16_byte_length(short_name));
  }
  if (layout.has_file_id) {
    w.zeros(layout.reserved_before_file_id);
    w.u64(e.file_id);
  }
  write_utf16le(w, e.file_name);
}

}  // namespace

bool is_directory_class(std::uint8_t file_information_class) noexcept {
  return find_layout(file_information_class) != nullptr;
}

std::size_t directory_entry_fixed_size(std::uint8_t file_information_class) noexcept {
  const Layout* layout = find_layout(file_information_class);
  return layout != nullptr ? layout->fixed_size : 0;
}

Expected<std::vector<DirectoryEntry>> decode_directory_entries(std::uint8_t file_information_class,
                                                               ByteView buffer) {
  const Layout* layout = find_layout(file_information_class);
  if (layout == nullptr)
    return wire_error(WireError::bad_value, "FileInformationClass " + std::to_string(file_information_class) +
                                                " is not a directory enumeration class");
  std::vector<DirectoryEntry> entries;
  SMBX_TRY_VOID(walk_entries(buffer, layout->name, [&](ByteView entry) -> Expected<void> {
    entries.push_back(SMBX_TRY(read_entry(*layout, entry)));
    return {};
  }));
  return entries;
}

Expected<std::vector<DirectoryEntry>> decode_file_directory_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_directory_information, buffer);
}
Expected<std::vector<DirectoryEntry>> decode_file_full_directory_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_full_directory_information, buffer);
}
Expected<std::vector<DirectoryEntry>> decode_file_both_directory_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_both_directory_information, buffer);
}
Expected<std::vector<DirectoryEntry>> decode_file_names_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_names_information, buffer);
}
Expected<std::vector<DirectoryEntry>> decode_file_id_both_directory_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_id_both_directory_information, buffer);
}
Expected<std::vector<DirectoryEntry>> decode_file_id_full_directory_information(ByteView buffer) {
  return decode_directory_entries(file_info_class::file_id_full_directory_information, buffer);
}

std::size_t encode_directory_entries(Writer& w, std::uint8_t file_information_class,
                                     std::span<const DirectoryEntry> entries, std::size_t max_length) {
  const Layout* layout = find_layout(file_information_class);
  if (layout == nullptr) return 0;
  const std::size_t chain_start = w.size();
  std::size_t used = 0;
  std::size_t written = 0;
  std::size_t previous = 0;
  for (const auto& e : entries) {
    const std::size_t entry_size = layout->fixed_size + utf16_byte_length(e.file_name);
    const std::size_t cost = chain_cost(used, kEntryAlignment, entry_size);
    if (cost > max_length - used) break;  // used <= max_length, so this cannot wrap
    w.zeros(cost - entry_size);           // padding to 8 after the previous entry
    if (written > 0) w.patch_u32(previous, static_cast<std::uint32_t>(w.size() - previous));
    previous = w.size();
    write_entry(w, *layout, e);
    used = w.size() - chain_start;
    ++written;
  }
  return written;
}

}  // namespace smbx::wire::fscc
