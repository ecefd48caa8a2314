// MS-FSCC information classes: the buffers that QUERY_INFO, SET_INFO and
// QUERY_DIRECTORY carry, and the FILETIME conversions they need.
//
// Every decoder takes just the class's buffer (no header-relative offsets), reads
// through a bounds-checked Reader and ignores bytes after the structure (MS-FSA
// only requires a buffer to be large enough). Every encoder appends to a Writer
// positioned anywhere. Sections are cited by class name because MS-FSCC
// renumbers its 2.4.x sections between revisions; the level numbers do not change.
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/writer.hpp"

namespace smbx::wire::fscc {

// MS-FSCC 2.4 (checked against the spec's table and Windows' FILE_INFORMATION_CLASS)
namespace file_info_class {
inline constexpr std::uint8_t file_directory_information = 1;
inline constexpr std::uint8_t file_full_directory_information = 2;
inline constexpr std::uint8_t file_both_directory_information = 3;
inline constexpr std::uint8_t file_basic_information = 4;
inline constexpr std::uint8_t file_standard_information = 5;
inline constexpr std::uint8_t file_internal_information = 6;
inline constexpr std::uint8_t file_ea_information = 7;
inline constexpr std::uint8_t file_access_information = 8;
inline constexpr std::uint8_t file_name_information = 9;
inline constexpr std::uint8_t file_rename_information = 10;
inline constexpr std::uint8_t file_link_information = 11;
inline constexpr std::uint8_t file_names_information = 12;
inline constexpr std::uint8_t file_disposition_information = 13;
inline constexpr std::uint8_t file_position_information = 14;
inline constexpr std::uint8_t file_full_ea_information = 15;
inline constexpr std::uint8_t file_mode_information = 16;
inline constexpr std::uint8_t file_alignment_information = 17;
inline constexpr std::uint8_t file_all_information = 18;
inline constexpr std::uint8_t file_allocation_information = 19;
inline constexpr std::uint8_t file_end_of_file_information = 20;
inline constexpr std::uint8_t file_stream_information = 22;
inline constexpr std::uint8_t file_compression_information = 28;
inline constexpr std::uint8_t file_network_open_information = 34;
inline constexpr std::uint8_t file_attribute_tag_information = 35;
inline constexpr std::uint8_t file_id_both_directory_information = 37;
inline constexpr std::uint8_t file_id_full_directory_information = 38;
inline constexpr std::uint8_t file_disposition_information_ex = 64;
}  // namespace file_info_class

// MS-FSCC 2.5
namespace fs_info_class {
inline constexpr std::uint8_t file_fs_volume_information = 1;
inline constexpr std::uint8_t file_fs_size_information = 3;
inline constexpr std::uint8_t file_fs_device_information = 4;
inline constexpr std::uint8_t file_fs_attribute_information = 5;
inline constexpr std::uint8_t file_fs_full_size_information = 7;
inline constexpr std::uint8_t file_fs_sector_size_information = 11;
}  // namespace fs_info_class

// MS-FSCC 2.6 file attributes (FileAttributes fields): wire::file_attributes in wire/create.hpp.

// MS-FSCC 2.5.1 FileFsAttributeInformation FileSystemAttributes (the ones a server states)
namespace fs_attribute {
inline constexpr std::uint32_t case_sensitive_search = 0x00000001;
inline constexpr std::uint32_t case_preserved_names = 0x00000002;
inline constexpr std::uint32_t unicode_on_disk = 0x00000004;
inline constexpr std::uint32_t persistent_acls = 0x00000008;
inline constexpr std::uint32_t supports_sparse_files = 0x00000040;
inline constexpr std::uint32_t supports_reparse_points = 0x00000080;
inline constexpr std::uint32_t supports_object_ids = 0x00010000;
inline constexpr std::uint32_t named_streams = 0x00040000;
inline constexpr std::uint32_t read_only_volume = 0x00080000;
inline constexpr std::uint32_t supports_hard_links = 0x00400000;
inline constexpr std::uint32_t supports_extended_attributes = 0x00800000;
}  // namespace fs_attribute

// MS-FSCC FileDispositionInformationEx Flags
namespace disposition_flags {
inline constexpr std::uint32_t do_not_delete = 0x00000000;
inline constexpr std::uint32_t delete_file = 0x00000001;  // FILE_DISPOSITION_DELETE
inline constexpr std::uint32_t posix_semantics = 0x00000002;
inline constexpr std::uint32_t force_image_section_check = 0x00000004;
inline constexpr std::uint32_t on_close = 0x00000008;
inline constexpr std::uint32_t ignore_readonly_attribute = 0x00000010;
}  // namespace disposition_flags

// ---- FILETIME (MS-DTYP 2.3.3): 100 ns intervals since 1601-01-01 UTC ----

inline constexpr std::uint64_t kFiletimeTicksPerSecond = 10'000'000;
inline constexpr std::uint64_t kFiletimeOfUnixEpoch = 116'444'736'000'000'000;  // 1970-01-01
// MS-FSCC FileBasicInformation in a SET_INFO: 0 leaves a time alone, -1 stops the
// server updating it for this handle, -2 resumes the updates.
inline constexpr std::uint64_t kFiletimeLeaveUnchanged = 0;
inline constexpr std::uint64_t kFiletimeStopUpdates = 0xFFFF'FFFF'FFFF'FFFF;
inline constexpr std::uint64_t kFiletimeResumeUpdates = 0xFFFF'FFFF'FFFF'FFFE;

// Exact for every FILETIME (times before 1970 give negative tv_sec, tv_nsec stays in [0, 1e9)).
struct timespec timespec_from_filetime(std::uint64_t filetime) noexcept;
// Rounds down to 100 ns; times before 1601 become 0, times past INT64_MAX ticks are clamped there.
std::uint64_t filetime_from_timespec(const struct timespec& time) noexcept;
std::int64_t unix_time_from_filetime(std::uint64_t filetime) noexcept;  // whole seconds, rounded down
std::uint64_t filetime_from_unix_time(std::int64_t seconds) noexcept;   // clamped like the timespec form

// ---- file classes (QUERY_INFO / SET_INFO, InfoType file) ----

struct FileBasicInformation {  // 40 bytes
  std::uint64_t creation_time = 0;
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint32_t file_attributes = 0;
  bool operator==(const FileBasicInformation&) const = default;
};

struct FileStandardInformation {  // 24 bytes
  std::uint64_t allocation_size = 0;
  std::uint64_t end_of_file = 0;
  std::uint32_t number_of_links = 0;
  bool delete_pending = false;
  bool directory = false;
  bool operator==(const FileStandardInformation&) const = default;
};

struct FileInternalInformation {
  std::uint64_t index_number = 0;  // the file's inode-like id
  bool operator==(const FileInternalInformation&) const = default;
};
struct FileEaInformation {
  std::uint32_t ea_size = 0;
  bool operator==(const FileEaInformation&) const = default;
};
struct FileAccessInformation {
  std::uint32_t access_flags = 0;  // the handle's granted access mask
  bool operator==(const FileAccessInformation&) const = default;
};
struct FilePositionInformation {
  std::uint64_t current_byte_offset = 0;
  bool operator==(const FilePositionInformation&) const = default;
};
struct FileModeInformation {
  std::uint32_t mode = 0;
  bool operator==(const FileModeInformation&) const = default;
};
struct FileAlignmentInformation {
  std::uint32_t alignment_requirement = 0;
  bool operator==(const FileAlignmentInformation&) const = default;
};
struct FileNameInformation {
  std::u16string file_name;
  bool operator==(const FileNameInformation&) const = default;
};

// MS-FSCC FileAllInformation: the nine classes above back to back, 100 bytes + name.
struct FileAllInformation {
  FileBasicInformation basic_information;
  FileStandardInformation standard_information;
  FileInternalInformation internal_information;
  FileEaInformation ea_information;
  FileAccessInformation access_information;
  FilePositionInformation position_information;
  FileModeInformation mode_information;
  FileAlignmentInformation alignment_information;
  FileNameInformation name_information;
  bool operator==(const FileAllInformation&) const = default;
};

struct FileNetworkOpenInformation {  // 56 bytes
  std::uint64_t creation_time = 0;
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t allocation_size = 0;
  std::uint64_t end_of_file = 0;
  std::uint32_t file_attributes = 0;
  bool operator==(const FileNetworkOpenInformation&) const = default;
};

struct FileAttributeTagInformation {
  std::uint32_t file_attributes = 0;
  std::uint32_t reparse_tag = 0;
  bool operator==(const FileAttributeTagInformation&) const = default;
};

struct FileCompressionInformation {  // 16 bytes
  std::uint64_t compressed_file_size = 0;
  std::uint16_t compression_format = 0;
  std::uint8_t compression_unit_shift = 0;
  std::uint8_t chunk_shift = 0;
  std::uint8_t cluster_shift = 0;
  bool operator==(const FileCompressionInformation&) const = default;
};

// MS-FSCC FileStreamInformation: a chain of 8-aligned entries; empty for a
// directory, which has no data stream.
struct StreamEntry {
  std::uint64_t stream_size = 0;
  std::uint64_t stream_allocation_size = 0;
  std::u16string stream_name;  // "::$DATA", ":name:$DATA"
  bool operator==(const StreamEntry&) const = default;
};
struct FileStreamInformation {
  std::vector<StreamEntry> entries;
  bool operator==(const FileStreamInformation&) const = default;
};

// MS-FSCC FileRenameInformation for SMB2 (FILE_RENAME_INFORMATION_TYPE_2):
// ReplaceIfExists 1, Reserved 7, RootDirectory 8 (zero on the network),
// FileNameLength 4, FileName. The name is relative to the share root.
struct FileRenameInformation {
  bool replace_if_exists = false;
  std::uint64_t root_directory = 0;
  std::u16string file_name;  // u"d1\\h.txt"
  bool operator==(const FileRenameInformation&) const = default;
};
// MS-FSCC FileLinkInformation for SMB2: the same layout, makes a hard link.
struct FileLinkInformation {
  bool replace_if_exists = false;
  std::uint64_t root_directory = 0;
  std::u16string file_name;
  bool operator==(const FileLinkInformation&) const = default;
};

struct FileDispositionInformation {
  bool delete_pending = false;
  bool operator==(const FileDispositionInformation&) const = default;
};
struct FileDispositionInformationEx {
  std::uint32_t flags = 0;  // disposition_flags
  bool operator==(const FileDispositionInformationEx&) const = default;
};
struct FileEndOfFileInformation {
  std::uint64_t end_of_file = 0;
  bool operator==(const FileEndOfFileInformation&) const = default;
};
struct FileAllocationInformation {
  std::uint64_t allocation_size = 0;
  bool operator==(const FileAllocationInformation&) const = default;
};

// MS-FSCC FileFullEaInformation: a chain of 4-aligned entries. EaName is 8-bit
// text stored with a NUL the length does not count; ea_value points into the
// decoded buffer (or caller memory when encoding).
struct FullEaEntry {
  std::uint8_t flags = 0;  // 0x80 FILE_NEED_EA
  std::string ea_name;
  ByteView ea_value;
};
bool operator==(const FullEaEntry& a, const FullEaEntry& b);
struct FileFullEaInformation {
  std::vector<FullEaEntry> entries;
  bool operator==(const FileFullEaInformation&) const = default;
};

Expected<FileBasicInformation> decode_file_basic_information(ByteView buffer);
Expected<FileStandardInformation> decode_file_standard_information(ByteView buffer);
Expected<FileInternalInformation> decode_file_internal_information(ByteView buffer);
Expected<FileEaInformation> decode_file_ea_information(ByteView buffer);
Expected<FileAccessInformation> decode_file_access_information(ByteView buffer);
Expected<FilePositionInformation> decode_file_position_information(ByteView buffer);
Expected<FileModeInformation> decode_file_mode_information(ByteView buffer);
Expected<FileAlignmentInformation> decode_file_alignment_information(ByteView buffer);
Expected<FileNameInformation> decode_file_name_information(ByteView buffer);
Expected<FileAllInformation> decode_file_all_information(ByteView buffer);
Expected<FileNetworkOpenInformation> decode_file_network_open_information(ByteView buffer);
Expected<FileAttributeTagInformation> decode_file_attribute_tag_information(ByteView buffer);
Expected<FileCompressionInformation> decode_file_compression_information(ByteView buffer);
Expected<FileStreamInformation> decode_file_stream_information(ByteView buffer);  // empty buffer: no streams
Expected<FileRenameInformation> decode_file_rename_information(ByteView buffer);
Expected<FileLinkInformation> decode_file_link_information(ByteView buffer);
Expected<FileDispositionInformation> decode_file_disposition_information(ByteView buffer);
Expected<FileDispositionInformationEx> decode_file_disposition_information_ex(ByteView buffer);
Expected<FileEndOfFileInformation> decode_file_end_of_file_information(ByteView buffer);
Expected<FileAllocationInformation> decode_file_allocation_information(ByteView buffer);
Expected<FileFullEaInformation> decode_file_full_ea_information(ByteView buffer);  // empty buffer: no EAs

void encode(Writer& w, const FileBasicInformation& m);
void encode(Writer& w, const FileStandardInformation& m);
void encode(Writer& w, const FileInternalInformation& m);
void encode(Writer& w, const FileEaInformation& m);
void encode(Writer& w, const FileAccessInformation& m);
void encode(Writer& w, const FilePositionInformation& m);
void encode(Writer& w, const FileModeInformation& m);
void encode(Writer& w, const FileAlignmentInformation& m);
void encode(Writer& w, const FileNameInformation& m);
void encode(Writer& w, const FileAllInformation& m);
void encode(Writer& w, const FileNetworkOpenInformation& m);
void encode(Writer& w, const FileAttributeTagInformation& m);
void encode(Writer& w, const FileCompressionInformation& m);
void encode(Writer& w, const FileStreamInformation& m);
void encode(Writer& w, const FileRenameInformation& m);
void encode(Writer& w, const FileLinkInformation& m);
void encode(Writer& w, const FileDispositionInformation& m);
void encode(Writer& w, const FileDispositionInformationEx& m);
void encode(Writer& w, const FileEndOfFileInformation& m);
void encode(Writer& w, const FileAllocationInformation& m);
// Precondition: every ea_name is at most 255 bytes and every ea_value at most 65535.
void encode(Writer& w, const FileFullEaInformation& m);

// ---- extended attributes (fscc_ea.cpp) ----

// MS-FSCC FILE_GET_EA_INFORMATION: the EA names a QUERY_INFO of
// FileFullEaInformation asks for (its input buffer), a chain of 4-aligned
// entries of EaNameLength and EaName with a NUL the length does not count.
struct FileGetEaInformation {
  std::vector<std::string> names;
  bool operator==(const FileGetEaInformation&) const = default;
};
// An empty buffer is an empty list. A missing NUL after the last name is
// accepted (the length says where the name ends).
Expected<FileGetEaInformation> decode_file_get_ea_information(ByteView buffer);
// Precondition: every name is at most 255 bytes.
void encode(Writer& w, const FileGetEaInformation& m);

// Bytes one FILE_FULL_EA_INFORMATION entry takes without its padding:
// 8 + EaNameLength + 1 + EaValueLength.
std::size_t full_ea_entry_size(std::size_t name_length, std::size_t value_length) noexcept;
// The size of the whole chain, every entry but the last padded to 4 (what
// encode() writes): EaSize in FileEaInformation and directory entries, as
// Samba reports it for SMB2. 0 for no entries.
std::size_t full_ea_chain_size(const FileFullEaInformation& m) noexcept;
// MS-FSCC 2.4.15 (as Windows and Samba check EaName): 1-255 bytes, no control
// characters and none of " * + , / : ; < = > ? [ \ ] |.
bool valid_ea_name(std::string_view name) noexcept;

// ---- directory classes (QUERY_DIRECTORY) ----

// One entry of any of the six directory classes: the union of their fields.
// A field the class lacks decodes as zero/empty and is not encoded.
struct DirectoryEntry {
  std::uint32_t file_index = 0;
  std::uint64_t creation_time = 0;  // not in FileNamesInformation, nor are the fields up to file_attributes
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t end_of_file = 0;
  std::uint64_t allocation_size = 0;
  std::uint32_t file_attributes = 0;
  std::uint32_t ea_size = 0;   // Full, Both, IdFull, IdBoth (the reparse tag for a reparse point)
  std::u16string short_name;   // Both, IdBoth: the 8.3 name, at most 12 UTF-16 units
  std::uint64_t file_id = 0;   // IdFull, IdBoth
  std::u16string file_name;
  bool operator==(const DirectoryEntry&) const = default;
};

bool is_directory_class(std::uint8_t file_information_class) noexcept;
// Bytes before FileName in one entry of the class (64, 68, 94, 12, 104 or 80); 0 if not a directory class.
std::size_t directory_entry_fixed_size(std::uint8_t file_information_class) noexcept;

// At least one entry is required: a successful QUERY_DIRECTORY never returns an
// empty buffer (the end of a listing is STATUS_NO_MORE_FILES).
Expected<std::vector<DirectoryEntry>> decode_directory_entries(std::uint8_t file_information_class,
                                                               ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_directory_information(ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_full_directory_information(ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_both_directory_information(ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_names_information(ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_id_both_directory_information(ByteView buffer);
Expected<std::vector<DirectoryEntry>> decode_file_id_full_directory_information(ByteView buffer);

// Appends the leading entries that fit in `max_length` bytes (a QUERY_DIRECTORY
// OutputBufferLength), each 8-aligned from the first, no padding after the last,
// and returns how many it wrote (0 when not even the first fits, or the class is
// not a directory class). Short names longer than 12 units are cut to 12.
std::size_t encode_directory_entries(Writer& w, std::uint8_t file_information_class,
                                     std::span<const DirectoryEntry> entries, std::size_t max_length);

// ---- file system classes (QUERY_INFO, InfoType filesystem) ----

struct FileFsVolumeInformation {  // 18 bytes + label
  std::uint64_t volume_creation_time = 0;
  std::uint32_t volume_serial_number = 0;
  bool supports_objects = false;
  std::u16string volume_label;
  bool operator==(const FileFsVolumeInformation&) const = default;
};
struct FileFsSizeInformation {  // 24 bytes
  std::uint64_t total_allocation_units = 0;
  std::uint64_t available_allocation_units = 0;
  std::uint32_t sectors_per_allocation_unit = 0;
  std::uint32_t bytes_per_sector = 0;
  bool operator==(const FileFsSizeInformation&) const = default;
};
struct FileFsDeviceInformation {
  std::uint32_t device_type = 0;  // 0x07 FILE_DEVICE_DISK
  std::uint32_t characteristics = 0;
  bool operator==(const FileFsDeviceInformation&) const = default;
};
struct FileFsAttributeInformation {  // 12 bytes + name
  std::uint32_t file_system_attributes = 0;  // fs_attribute
  std::uint32_t maximum_component_name_length = 0;
  std::u16string file_system_name;  // u"NTFS"
  bool operator==(const FileFsAttributeInformation&) const = default;
};
struct FileFsFullSizeInformation {  // 32 bytes
  std::uint64_t total_allocation_units = 0;
  std::uint64_t caller_available_allocation_units = 0;
  std::uint64_t actual_available_allocation_units = 0;
  std::uint32_t sectors_per_allocation_unit = 0;
  std::uint32_t bytes_per_sector = 0;
  bool operator==(const FileFsFullSizeInformation&) const = default;
};
struct FileFsSectorSizeInformation {  // 28 bytes
  std::uint32_t logical_bytes_per_sector = 0;
  std::uint32_t physical_bytes_per_sector_for_atomicity = 0;
  std::uint32_t physical_bytes_per_sector_for_performance = 0;
  std::uint32_t file_system_effective_physical_bytes_per_sector_for_atomicity = 0;
  std::uint32_t flags = 0;
  std::uint32_t byte_offset_for_sector_alignment = 0;
  std::uint32_t byte_offset_for_partition_alignment = 0;
  bool operator==(const FileFsSectorSizeInformation&) const = default;
};

Expected<FileFsVolumeInformation> decode_file_fs_volume_information(ByteView buffer);
Expected<FileFsSizeInformation> decode_file_fs_size_information(ByteView buffer);
Expected<FileFsDeviceInformation> decode_file_fs_device_information(ByteView buffer);
Expected<FileFsAttributeInformation> decode_file_fs_attribute_information(ByteView buffer);
Expected<FileFsFullSizeInformation> decode_file_fs_full_size_information(ByteView buffer);
Expected<FileFsSectorSizeInformation> decode_file_fs_sector_size_information(ByteView buffer);

void encode(Writer& w, const FileFsVolumeInformation& m);
void encode(Writer& w, const FileFsSizeInformation& m);
void encode(Writer& w, const FileFsDeviceInformation& m);
void encode(Writer& w, const FileFsAttributeInformation& m);
void encode(Writer& w, const FileFsFullSizeInformation& m);
void encode(Writer& w, const FileFsSectorSizeInformation& m);

}  // namespace smbx::wire::fscc
