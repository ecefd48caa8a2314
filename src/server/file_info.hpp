// What the share backend knows about a file: statx() turned into the FSCC
// fields (times as FILETIME, attributes, sizes), and directory listings.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/fscc.hpp"

namespace smbx::server {

struct FileStat {
  std::uint64_t creation_time = 0;  // FILETIME; statx btime, else the oldest of mtime/ctime
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t end_of_file = 0;
  std::uint64_t allocation_size = 0;
  std::uint32_t file_attributes = 0;  // MS-FSCC 2.6
  std::uint32_t number_of_links = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool is_directory = false;
  bool is_symlink = false;
};

// The times, sizes and attributes that CREATE and CLOSE responses and
// directory entries all carry (MS-SMB2 2.2.14, 2.2.16; MS-FSCC 2.4).
template <class Out>
void copy_metadata(Out& out, const FileStat& st) {
  out.creation_time = st.creation_time;
  out.last_access_time = st.last_access_time;
  out.last_write_time = st.last_write_time;
  out.change_time = st.change_time;
  out.allocation_size = st.allocation_size;
  out.end_of_file = st.end_of_file;
  out.file_attributes = st.file_attributes;
}

// True when the directory open at `dir_fd` holds nothing but "." and "..".
Expected<bool> directory_is_empty(int dir_fd);

// statx of an open fd (AT_EMPTY_PATH) or of `name` under `dir_fd` without following.
Expected<FileStat> stat_fd(int fd);
Expected<FileStat> stat_at(int dir_fd, const std::string& name);

// The directory's entries, "." and ".." first, then the rest sorted by name.
// `dir_fd` must be open for reading. Entries whose names a Windows client
// cannot represent (invalid characters, invalid UTF-8) and symlinks whose
// target does not resolve inside the share are left out. `relative_dir` is
// the directory's path under the share root, `root_fd` the root.
Expected<std::vector<wire::fscc::DirectoryEntry>> list_directory(int root_fd, const std::string& relative_dir,
                                                                 int dir_fd);

void fill_entry(wire::fscc::DirectoryEntry& entry, const FileStat& st);

// Windows-style case-insensitive wildcard match (MS-FSA 2.1.4.4: * ? and the
// DOS forms < > ").
bool wildcard_match(std::u16string_view pattern, std::u16string_view name);
bool has_wildcards(std::u16string_view pattern);

// Case-insensitive comparison for share names and patterns without wildcards.
bool equal_ignore_case(std::u16string_view a, std::u16string_view b);

}  // namespace smbx::server
