// MS-FSCC 2.4 file information classes (QUERY_INFO / SET_INFO, InfoType file)
// and the FILETIME conversions.
#include <algorithm>
#include <limits>

#include "wire/file_times.hpp"
#include "wire/fscc.hpp"
#include "wire/fscc_chain.hpp"

namespace smbx::wire::fscc {

// ---- FILETIME ----

namespace {
constexpr std::int64_t kUnixEpochSeconds = static_cast<std::int64_t>(kFiletimeOfUnixEpoch / kFiletimeTicksPerSecond);
constexpr std::uint64_t kFiletimeMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}  // namespace

struct timespec timespec_from_filetime(std::uint64_t filetime) noexcept {
  struct timespec out {};
  const auto seconds_since_1601 = static_cast<std::int64_t>(filetime / kFiletimeTicksPerSecond);
  const auto ticks = static_cast<long>(filetime % kFiletimeTicksPerSecond);
  out.tv_sec = static_cast<time_t>(seconds_since_1601 - kUnixEpochSeconds);
  out.tv_nsec = ticks * 100;
  return out;
}

std::uint64_t filetime_from_timespec(const struct timespec& time) noexcept {
  const auto seconds = static_cast<std::int64_t>(time.tv_sec);
  const auto nanoseconds = std::clamp<long>(time.tv_nsec, 0, 999'999'999);
  constexpr auto kMaxSeconds = static_cast<std::int64_t>(kFiletimeMax / kFiletimeTicksPerSecond) - kUnixEpochSeconds;
  if (seconds < -kUnixEpochSeconds) return 0;  // before 1601
  if (seconds >= kMaxSeconds) return kFiletimeMax;
  return static_cast<std::uint64_t>(seconds + kUnixEpochSeconds) * kFiletimeTicksPerSecond +
         static_cast<std::uint64_t>(nanoseconds / 100);
}

std::int64_t unix_time_from_filetime(std::uint64_t filetime) noexcept {
  return static_cast<std::int64_t>(filetime / kFiletimeTicksPerSecond) - kUnixEpochSeconds;
}

std::uint64_t filetime_from_unix_time(std::int64_t seconds) noexcept {
  struct timespec time {};
  time.tv_sec = static_cast<time_t>(seconds);
  return filetime_from_timespec(time);
}

// ---- fixed-size classes ----

namespace {

constexpr std::size_t kBasicSize = 40;
constexpr std::size_t kStandardSize = 24;
constexpr std::size_t kAllFixedSize = 100;  // the eight fixed classes + FileNameLength
constexpr std::size_t kNetworkOpenSize = 56;
constexpr std::size_t kCompressionSize = 16;
constexpr std::size_t kRenameFixedSize = 20;
// Windows checks a rename/link buffer against sizeof(FILE_RENAME_INFORMATION),
// 24 bytes with its padding, so short names are padded up to it.
constexpr std::size_t kRenameMinimumSize = 24;
constexpr std::size_t kStreamFixedSize = 24;
constexpr std::size_t kFullEaFixedSize = 8;

template <typename T>
Expected<T> decode_u32_class(ByteView buffer, std::string_view what) {
  SMBX_TRY_VOID(require_size(buffer, 4, what));
  return T{load_le32(buffer.data())};
}

template <typename T>
Expected<T> decode_u64_class(ByteView buffer, std::string_view what) {
  SMBX_TRY_VOID(require_size(buffer, 8, what));
  return T{load_le64(buffer.data())};
}

}  // namespace

Expected<FileBasicInformation> decode_file_basic_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kBasicSize, "FileBasicInformation"));
  Reader r{buffer};
  FileBasicInformation m;
  m.creation_time = SMBX_TRY(r.u64());
  m.last_access_time = SMBX_TRY(r.u64());
  m.last_write_time = SMBX_TRY(r.u64());
  m.change_time = SMBX_TRY(r.u64());
  m.file_attributes = SMBX_TRY(r.u32());
  return m;  // Reserved (4) ignored
}

Expected<FileStandardInformation> decode_file_standard_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kStandardSize, "FileStandardInformation"));
  Reader r{buffer};
  FileStandardInformation m;
  m.allocation_size = SMBX_TRY(r.u64());
  m.end_of_file = SMBX_TRY(r.u64());
  m.number_of_links = SMBX_TRY(r.u32());
  m.delete_pending = SMBX_TRY(r.u8()) != 0;
  m.directory = SMBX_TRY(r.u8()) != 0;
  return m;  // Reserved (2) ignored
}

Expected<FileInternalInformation> decode_file_internal_information(ByteView buffer) {
  return decode_u64_class<FileInternalInformation>(buffer, "FileInternalInformation");
}
Expected<FileEaInformation> decode_file_ea_information(ByteView buffer) {
  return decode_u32_class<FileEaInformation>(buffer, "FileEaInformation");
}
Expected<FileAccessInformation> decode_file_access_information(ByteView buffer) {
  return decode_u32_class<FileAccessInformation>(buffer, "FileAccessInformation");
}
Expected<FilePositionInformation> decode_file_position_information(ByteView buffer) {
  return decode_u64_class<FilePositionInformation>(buffer, "FilePositionInformation");
}
Expected<FileModeInformation> decode_file_mode_information(ByteView buffer) {
  return decode_u32_class<FileModeInformation>(buffer, "FileModeInformation");
}
Expected<FileAlignmentInformation> decode_file_alignment_information(ByteView buffer) {
  return decode_u32_class<FileAlignmentInformation>(buffer, "FileAlignmentInformation");
}
Expected<FileEndOfFileInformation> decode_file_end_of_file_information(ByteView buffer) {
  return decode_u64_class<FileEndOfFileInformation>(buffer, "FileEndOfFileInformation");
}
Expected<FileAllocationInformation> decode_file_allocation_information(ByteView buffer) {
  return decode_u64_class<FileAllocationInformation>(buffer, "FileAllocationInformation");
}
Expected<FileDispositionInformationEx> decode_file_disposition_information_ex(ByteView buffer) {
  return decode_u32_class<FileDispositionInformationEx>(buffer, "FileDispositionInformationEx");
}

Expected<FileDispositionInformation> decode_file_disposition_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, 1, "FileDispositionInformation"));
  return FileDispositionInformation{buffer[0] != 0};
}

Expected<FileNameInformation> decode_file_name_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, 4, "FileNameInformation"));
  Reader r{buffer};
  const std::uint32_t length = SMBX_TRY(r.u32());
  return FileNameInformation{SMBX_TRY(read_utf16(r, length, "FileNameLength"))};
}

Expected<FileAllInformation> decode_file_all_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kAllFixedSize, "FileAllInformation"));
  FileAllInformation m;
  m.basic_information = SMBX_TRY(decode_file_basic_information(buffer.subspan(0, 40)));
  m.standard_information = SMBX_TRY(decode_file_standard_information(buffer.subspan(40, 24)));
  m.internal_information = SMBX_TRY(decode_file_internal_information(buffer.subspan(64, 8)));
  m.ea_information = SMBX_TRY(decode_file_ea_information(buffer.subspan(72, 4)));
  m.access_information = SMBX_TRY(decode_file_access_information(buffer.subspan(76, 4)));
  m.position_information = SMBX_TRY(decode_file_position_information(buffer.subspan(80, 8)));
  m.mode_information = SMBX_TRY(decode_file_mode_information(buffer.subspan(88, 4)));
  m.alignment_information = SMBX_TRY(decode_file_alignment_information(buffer.subspan(92, 4)));
  m.name_information = SMBX_TRY(decode_file_name_information(buffer.subspan(96)));
  return m;
}

Expected<FileNetworkOpenInformation> decode_file_network_open_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kNetworkOpenSize, "FileNetworkOpenInformation"));
  Reader r{buffer};
  FileNetworkOpenInformation m;
  SMBX_TRY_VOID(read_times_sizes_attributes(r, m));
  return m;  // Reserved (4) ignored
}

Expected<FileAttributeTagInformation> decode_file_attribute_tag_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, 8, "FileAttributeTagInformation"));
  return FileAttributeTagInformation{load_le32(buffer.data()), load_le32(buffer.data() + 4)};
}

Expected<FileCompressionInformation> decode_file_compression_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kCompressionSize, "FileCompressionInformation"));
  Reader r{buffer};
  FileCompressionInformation m;
  m.compressed_file_size = SMBX_TRY(r.u64());
  m.compression_format = SMBX_TRY(r.u16());
  m.compression_unit_shift = SMBX_TRY(r.u8());
  m.chunk_shift = SMBX_TRY(r.u8());
  m.cluster_shift = SMBX_TRY(r.u8());
  return m;  // Reserved (3) ignored
}

void encode(Writer& w, const FileBasicInformation& m) {
  w.u64(m.creation_time);
  w.u64(m.last_access_time);
  w.u64(m.last_write_time);
  w.u64(m.change_time);
  w.u32(m.file_attributes);
  w.u32(0);  // Reserved
}

void encode(Writer& w, const FileStandardInformation& m) {
  w.u64(m.allocation_size);
  w.u64(m.end_of_file);
  w.u32(m.number_of_links);
  w.u8(m.delete_pending ? 1 : 0);
  w.u8(m.directory ? 1 : 0);
  w.u16(0);  // Reserved
}

void encode(Writer& w, const FileInternalInformation& m) { w.u64(m.index_number); }
void encode(Writer& w, const FileEaInformation& m) { w.u32(m.ea_size); }
void encode(Writer& w, const FileAccessInformation& m) { w.u32(m.access_flags); }
void encode(Writer& w, const FilePositionInformation& m) { w.u64(m.current_byte_offset); }
void encode(Writer& w, const FileModeInformation& m) { w.u32(m.mode); }
void encode(Writer& w, const FileAlignmentInformation& m) { w.u32(m.alignment_requirement); }
void encode(Writer& w, const FileEndOfFileInformation& m) { w.u64(m.end_of_file); }
void encode(Writer& w, const FileAllocationInformation& m) { w.u64(m.allocation_size); }
void encode(Writer& w, const FileDispositionInformation& m) { w.u8(m.delete_pending ? 1 : 0); }
void encode(Writer& w, const FileDispositionInformationEx& m) { w.u32(m.flags); }

void encode(Writer& w, const FileNameInformation& m) {
  w.u32(static_cast<std::uint32_t>(utf16_byte_length(m.file_name)));
  write_utf16le(w, m.file_name);
}

void encode(Writer& w, const FileAllInformation& m) {
  encode(w, m.basic_information);
  encode(w, m.standard_information);
  encode(w, m.internal_information);
  encode(w, m.ea_information);
  encode(w, m.access_information);
  encode(w, m.position_information);
  encode(w, m.mode_information);
  encode(w, m.alignment_information);
  encode(w, m.name_information);
}

void encode(Writer& w, const FileNetworkOpenInformation& m) {
  write_times_sizes_attributes(w, m);
  w.u32(0);  // Reserved
}

void encode(Writer& w, const FileAttributeTagInformation& m) {
  w.u32(m.file_attributes);
  w.u32(m.reparse_tag);
}

void encode(Writer& w, const FileCompressionInformation& m) {
  w.u64(m.compressed_file_size);
  w.u16(m.compression_format);
  w.u8(m.compression_unit_shift);
  w.u8(m.chunk_shift);
  w.u8(m.cluster_shift);
  w.zeros(3);  // Reserved
}

// ---- rename and link (SMB2 form) ----

namespace {

template <typename T>
Expected<T> decode_rename_like(ByteView buffer, std::string_view what) {
  SMBX_TRY_VOID(require_size(buffer, kRenameFixedSize, what));
  Reader r{buffer};
  T m;
  m.replace_if_exists = SMBX_TRY(r.u8()) != 0;
  SMBX_TRY_VOID(r.skip(7));  // Reserved
  m.root_directory = SMBX_TRY(r.u64());
  const std::uint32_t length = SMBX_TRY(r.u32());
  m.file_name = SMBX_TRY(read_utf16(r, length, "FileNameLength"));
  return m;
}

template <typename T>
void encode_rename_like(Writer& w, const T& m) {
  const std::size_t start = w.size();
  w.u8(m.replace_if_exists ? 1 : 0);
  w.zeros(7);  // Reserved
  w.u64(m.root_directory);
  w.u32(static_cast<std::uint32_t>(utf16_byte_length(m.file_name)));
  write_utf16le(w, m.file_name);
  if (w.size() - start < kRenameMinimumSize) w.zeros(kRenameMinimumSize - (w.size() - start));
}

}  // namespace

Expected<FileRenameInformation> decode_file_rename_information(ByteView buffer) {
  return decode_rename_like<FileRenameInformation>(buffer, "FileRenameInformation");
}
Expected<FileLinkInformation> decode_file_link_information(ByteView buffer) {
  return decode_rename_like<FileLinkInformation>(buffer, "FileLinkInformation");
}
void encode(Writer& w, const FileRenameInformation& m) { encode_rename_like(w, m); }
void encode(Writer& w, const FileLinkInformation& m) { encode_rename_like(w, m); }

// ---- chains: streams and EAs ----

Expected<FileStreamInformation> decode_file_stream_information(ByteView buffer) {
  FileStreamInformation m;
  if (buffer.empty()) return m;
  SMBX_TRY_VOID(walk_entries(buffer, "FileStreamInformation", [&](ByteView entry) -> Expected<void> {
    SMBX_TRY_VOID(require_size(entry, kStreamFixedSize, "the entry"));
    Reader r{entry, 4};
    const std::uint32_t name_length = SMBX_TRY(r.u32());
    StreamEntry stream;
    stream.stream_size = SMBX_TRY(r.u64());
    stream.stream_allocation_size = SMBX_TRY(r.u64());
    stream.stream_name = SMBX_TRY(read_utf16(r, name_length, "StreamNameLength"));
    m.entries.push_back(std::move(stream));
    return {};
  }));
  return m;
}

void encode(Writer& w, const FileStreamInformation& m) {
  write_entries(w, m.entries, 8, [](Writer& out, const StreamEntry& stream) {
    out.u32(static_cast<std::uint32_t>(utf16_byte_length(stream.stream_name)));
    out.u64(stream.stream_size);
    out.u64(stream.stream_allocation_size);
    write_utf16le(out, stream.stream_name);
  });
}

bool operator==(const FullEaEntry& a, const FullEaEntry& b) {
  return a.flags == b.flags && a.ea_name == b.ea_name && std::ranges::equal(a.ea_value, b.ea_value);
}

// MS-FSCC FileFullEaInformation: EaName is followed by a NUL that EaNameLength
// does not count, then EaValueLength bytes of value.
Expected<FileFullEaInformation> decode_file_full_ea_information(ByteView buffer) {
  FileFullEaInformation m;
  if (buffer.empty()) return m;
  SMBX_TRY_VOID(walk_entries(buffer, "FileFullEaInformation", [&](ByteView entry) -> Expected<void> {
    SMBX_TRY_VOID(require_size(entry, kFullEaFixedSize, "the entry"));
    Reader r{entry, 4};
    FullEaEntry ea;
    ea.flags = SMBX_TRY(r.u8());
    const std::uint8_t name_length = SMBX_TRY(r.u8());
    const std::uint16_t value_length = SMBX_TRY(r.u16());
    if (std::size_t{name_length} + 1 + value_length > r.remaining())
      return wire_error(WireError::truncated, "EaNameLength " + std::to_string(name_length) + " + 1 + EaValueLength " +
                                                  std::to_string(value_length) + " runs past the entry (" +
                                                  std::to_string(r.remaining()) + " bytes left)");
    const ByteView name = SMBX_TRY(r.take(name_length));
    if (SMBX_TRY(r.u8()) != 0)
      return wire_error(WireError::bad_value, "EaName is not followed by its NUL terminator");
    ea.ea_name.assign(name.begin(), name.end());
    ea.ea_value = SMBX_TRY(r.take(value_length));
    m.entries.push_back(std::move(ea));
    return {};
  }));
  return m;
}

void encode(Writer& w, const FileFullEaInformation& m) {
  write_entries(w, m.entries, 4, [](Writer& out, const FullEaEntry& ea) {
    out.u8(ea.flags);
    out.u8(static_cast<std::uint8_t>(ea.ea_name.size()));
    out.u16(static_cast<std::uint16_t>(ea.ea_value.size()));
    for (char c : ea.ea_name) out.u8(static_cast<std::uint8_t>(c));
    out.u8(0);
    out.bytes(ea.ea_value);
  });
}

}  // namespace smbx::wire::fscc
