// The block that CREATE and CLOSE responses (MS-SMB2 2.2.14, 2.2.16) and
// FileNetworkOpenInformation (MS-FSCC 2.4.29) share, in this order:
// CreationTime, LastAccessTime, LastWriteTime, ChangeTime, AllocationSize,
// EndOfFile, FileAttributes. (Directory entries put EndOfFile before
// AllocationSize, so they do not use it.)
#pragma once

#include "smbx/expected.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

template <typename T>
Expected<void> read_times_sizes_attributes(Reader& r, T& m) {
  m.creation_time = SMBX_TRY(r.u64());
  m.last_access_time = SMBX_TRY(r.u64());
  m.last_write_time = SMBX_TRY(r.u64());
  m.change_time = SMBX_TRY(r.u64());
  m.allocation_size = SMBX_TRY(r.u64());
  m.end_of_file = SMBX_TRY(r.u64());
  m.file_attributes = SMBX_TRY(r.u32());
  return {};
}

template <typename T>
void write_times_sizes_attributes(Writer& w, const T& m) {
  w.u64(m.creation_time);
  w.u64(m.last_access_time);
  w.u64(m.last_write_time);
  w.u64(m.change_time);
  w.u64(m.allocation_size);
  w.u64(m.end_of_file);
  w.u32(m.file_attributes);
}

}  // namespace smbx::wire
