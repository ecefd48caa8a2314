// MS-FSCC 2.5 file system information classes (QUERY_INFO, InfoType filesystem).
#include "wire/fscc.hpp"
#include "wire/fscc_chain.hpp"

namespace smbx::wire::fscc {

namespace {
constexpr std::size_t kVolumeFixedSize = 18;
constexpr std::size_t kSizeSize = 24;
constexpr std::size_t kAttributeFixedSize = 12;
constexpr std::size_t kFullSizeSize = 32;
constexpr std::size_t kSectorSizeSize = 28;
}  // namespace

Expected<FileFsVolumeInformation> decode_file_fs_volume_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kVolumeFixedSize, "FileFsVolumeInformation"));
  Reader r{buffer};
  FileFsVolumeInformation m;
  m.volume_creation_time = SMBX_TRY(r.u64());
  m.volume_serial_number = SMBX_TRY(r.u32());
  const std::uint32_t label_length = SMBX_TRY(r.u32());
  m.supports_objects = SMBX_TRY(r.u8()) != 0;
  SMBX_TRY_VOID(r.skip(1));  // Reserved
  m.volume_label = SMBX_TRY(read_utf16(r, label_length, "VolumeLabelLength"));
  return m;
}

Expected<FileFsSizeInformation> decode_file_fs_size_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kSizeSize, "FileFsSizeInformation"));
  Reader r{buffer};
  FileFsSizeInformation m;
  m.total_allocation_units = SMBX_TRY(r.u64());
  m.available_allocation_units = SMBX_TRY(r.u64());
  m.sectors_per_allocation_unit = SMBX_TRY(r.u32());
  m.bytes_per_sector = SMBX_TRY(r.u32());
  return m;
}

Expected<FileFsDeviceInformation> decode_file_fs_device_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, 8, "FileFsDeviceInformation"));
  return FileFsDeviceInformation{load_le32(buffer.data()), load_le32(buffer.data() + 4)};
}

Expected<FileFsAttributeInformation> decode_file_fs_attribute_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kAttributeFixedSize, "FileFsAttributeInformation"));
  Reader r{buffer};
  FileFsAttributeInformation m;
  m.file_system_attributes = SMBX_TRY(r.u32());
  m.maximum_component_name_length = SMBX_TRY(r.u32());
  const std::uint32_t name_length = SMBX_TRY(r.u32());
  m.file_system_name = SMBX_TRY(read_utf16(r, name_length, "FileSystemNameLength"));
  return m;
}

Expected<FileFsFullSizeInformation> decode_file_fs_full_size_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kFullSizeSize, "FileFsFullSizeInformation"));
  Reader r{buffer};
  FileFsFullSizeInformation m;
  m.total_allocation_units = SMBX_TRY(r.u64());
  m.caller_available_allocation_units = SMBX_TRY(r.u64());
  m.actual_available_allocation_units = SMBX_TRY(r.u64());
  m.sectors_per_allocation_unit = SMBX_TRY(r.u32());
  m.bytes_per_sector = SMBX_TRY(r.u32());
  return m;
}

Expected<FileFsSectorSizeInformation> decode_file_fs_sector_size_information(ByteView buffer) {
  SMBX_TRY_VOID(require_size(buffer, kSectorSizeSize, "FileFsSectorSizeInformation"));
  Reader r{buffer};
  FileFsSectorSizeInformation m;
  m.logical_bytes_per_sector = SMBX_TRY(r.u32());
  m.physical_bytes_per_sector_for_atomicity = SMBX_TRY(r.u32());
  m.physical_bytes_per_sector_for_performance = SMBX_TRY(r.u32());
  m.file_system_effective_physical_bytes_per_sector_for_atomicity = SMBX_TRY(r.u32());
  m.flags = SMBX_TRY(r.u32());
  m.byte_offset_for_sector_alignment = SMBX_TRY(r.u32());
  m.byte_offset_for_partition_alignment = SMBX_TRY(r.u32());
  return m;
}

void encode(Writer& w, const FileFsVolumeInformation& m) {
  w.u64(m.volume_creation_time);
  w.u32(m.volume_serial_number);
  w.u32(static_cast<std::uint32_t>(utf16_byte_length(m.volume_label)));
  w.u8(m.supports_objects ? 1 : 0);
  w.u8(0);  // Reserved
  write_utf16le(w, m.volume_label);
}

void encode(Writer& w, const FileFsSizeInformation& m) {
  w.u64(m.total_allocation_units);
  w.u64(m.available_allocation_units);
  w.u32(m.sectors_per_allocation_unit);
  w.u32(m.bytes_per_sector);
}

void encode(Writer& w, const FileFsDeviceInformation& m) {
  w.u32(m.device_type);
  w.u32(m.characteristics);
}

void encode(Writer& w, const FileFsAttributeInformation& m) {
  w.u32(m.file_system_attributes);
  w.u32(m.maximum_component_name_length);
  w.u32(static_cast<std::uint32_t>(utf16_byte_length(m.file_system_name)));
  write_utf16le(w, m.file_system_name);
}

void encode(Writer& w, const FileFsFullSizeInformation& m) {
  w.u64(m.total_allocation_units);
  w.u64(m.caller_available_allocation_units);
  w.u64(m.actual_available_allocation_units);
  w.u32(m.sectors_per_allocation_unit);
  w.u32(m.bytes_per_sector);
}

void encode(Writer& w, const FileFsSectorSizeInformation& m) {
  w.u32(m.logical_bytes_per_sector);
  w.u32(m.physical_bytes_per_sector_for_atomicity);
  w.u32(m.physical_bytes_per_sector_for_performance);
  w.u32(m.file_system_effective_physical_bytes_per_sector_for_atomicity);
  w.u32(m.flags);
  w.u32(m.byte_offset_for_sector_alignment);
  w.u32(m.byte_offset_for_partition_alignment);
}

}  // namespace smbx::wire::fscc
