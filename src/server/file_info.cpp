#include "server/file_info.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cwctype>

#include "server/ea.hpp"
#include "server/share_path.hpp"
#include "wire/create.hpp"
#include "wire/types.hpp"

namespace smbx::server {
namespace fscc = wire::fscc;

namespace {
std::uint64_t filetime(const statx_timestamp& t) {
  timespec ts{};
  ts.tv_sec = t.tv_sec;
  ts.tv_nsec = static_cast<long>(t.tv_nsec);
  return fscc::filetime_from_timespec(ts);
}

FileStat from_statx(const struct statx& sx) {
  FileStat st;
  st.last_access_time = filetime(sx.stx_atime);
  st.last_write_time = filetime(sx.stx_mtime);
  st.change_time = filetime(sx.stx_ctime);
  st.creation_time = (sx.stx_mask & STATX_BTIME) != 0 ? filetime(sx.stx_btime)
                                                       : std::min(st.last_write_time, st.change_time);
  st.is_directory = S_ISDIR(sx.stx_mode);
  st.is_symlink = S_ISLNK(sx.stx_mode);
  st.end_of_file = st.is_directory ? 0 : sx.stx_size;
  st.allocation_size = st.is_directory ? 0 : sx.stx_blocks * 512;
  st.number_of_links = sx.stx_nlink;
  st.inode = sx.stx_ino;
  st.device = (std::uint64_t{sx.stx_dev_major} << 32) | sx.stx_dev_minor;
  st.uid = sx.stx_uid;
  st.gid = sx.stx_gid;
  // Samba's defaults (map archive = yes): files carry ARCHIVE; a file nobody
  // may write shows as READONLY.
  st.file_attributes = st.is_directory ? wire::file_attributes::directory : wire::file_attributes::archive;
  if (!st.is_directory && (sx.stx_mode & 0222) == 0) st.file_attributes |= wire::file_attributes::readonly;
  return st;
}
}  // namespace

Expected<FileStat> stat_fd(int fd) {
  struct statx sx{};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
    return status_error(status_from_errno(errno), "statx failed");
  return from_statx(sx);
}

Expected<FileStat> stat_at(int dir_fd, const std::string& name) {
  struct statx sx{};
  if (::statx(dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
    return status_error(status_from_errno(errno), "statx failed");
  return from_statx(sx);
}

Expected<bool> directory_is_empty(int dir_fd) {
  const int fd = ::dup(dir_fd);
  if (fd < 0) return status_error(status_from_errno(errno), "dup failed");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return status_error(status_from_errno(errno), "fdopendir failed");
  }
  ::rewinddir(dir);
  bool empty = true;
  while (dirent* d = ::readdir(dir)) {
    const std::string_view name{d->d_name};
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

void fill_entry(fscc::DirectoryEntry& e, const FileStat& st) {
  copy_metadata(e, st);
  e.file_id = st.inode;
}

Expected<std::vector<fscc::DirectoryEntry>> list_directory(int root_fd, const std::string& relative_dir,
                                                           int dir_fd) {
  const int fd = ::dup(dir_fd);
  if (fd < 0) return status_error(status_from_errno(errno), "dup failed");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return status_error(status_from_errno(errno), "fdopendir failed");
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  while (dirent* d = ::readdir(dir)) {
    const std::string_view name{d->d_name};
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());

  std::vector<fscc::DirectoryEntry> out;
  auto self = stat_fd(dir_fd);
  if (!self) return Unexpected{self.error()};
  fscc::DirectoryEntry dot;
  fill_entry(dot, *self);
  dot.ea_size = ea::size_of(dir_fd);
  dot.file_name = u".";
  out.push_back(dot);
  fscc::DirectoryEntry dotdot = dot;
  dotdot.file_name = u"..";
  dotdot.ea_size = 0;
  // At the share root ".." shows the root itself: nothing above it is served.
  if (!relative_dir.empty()) {
    const int parent = open_beneath(root_fd, parent_of(relative_dir), O_PATH | O_DIRECTORY);
    if (parent >= 0) {
      if (auto st = stat_fd(parent)) fill_entry(dotdot, *st);
      ::close(parent);
    }
  }
  out.push_back(dotdot);

  for (const auto& name : names) {
    const auto wide = wire::utf16_from_utf8(name);
    if (wire::utf8_from_utf16(wide) != name) continue;  // not valid UTF-8
    if (check_component(wide) != wire::status::SUCCESS) continue;
    auto st = stat_at(dir_fd, name);
    if (!st) continue;  // raced with a delete
    if (st->is_symlink) {
      // Only links that stay inside the share are shown, as what they point to.
      const std::string rel = relative_dir.empty() ? name : relative_dir + "/" + name;
      const int target = open_beneath(root_fd, rel, O_PATH);
      if (target < 0) continue;
      st = stat_fd(target);
      ::close(target);
      if (!st) continue;
    }
    fscc::DirectoryEntry e;
    fill_entry(e, *st);
    e.ea_size = ea::size_at(dir_fd, name);  // MS-FSCC 2.4.17 EaSize
    e.file_name = wide;
    out.push_back(std::move(e));
  }
  return out;
}

namespace {
char16_t fold(char16_t c) {
  if (c < 0x80) return (c >= u'a' && c <= u'z') ? static_cast<char16_t>(c - 32) : c;
  if (c >= 0xD800 && c <= 0xDFFF) return c;
  return static_cast<char16_t>(std::towupper(static_cast<wint_t>(c)));
}

// Iterative matcher with one backtrack point for '*' (and '<' treated as '*').
bool match(std::u16string_view p, std::u16string_view n) {
  std::size_t pi = 0, ni = 0, star_p = std::u16string_view::npos, star_n = 0;
  while (ni < n.size()) {
    if (pi < p.size() && (p[pi] == u'*' || p[pi] == u'<')) {
      star_p = pi++;
      star_n = ni;
    } else if (pi < p.size() && (p[pi] == u'?' || p[pi] == u'>' || (p[pi] == u'"' && n[ni] == u'.') ||
                                 fold(p[pi]) == fold(n[ni]))) {
      ++pi;
      ++ni;
    } else if (star_p != std::u16string_view::npos) {
      pi = star_p + 1;
      ni = ++star_n;
    } else {
      return false;
    }
  }
  // MS-FSA 2.1.4.4: trailing *, <, > and " may match nothing.
  while (pi < p.size() && (p[pi] == u'*' || p[pi] == u'<' || p[pi] == u'>' || p[pi] == u'"')) ++pi;
  return pi == p.size();
}
}  // namespace

bool has_wildcards(std::u16string_view pattern) {
  return pattern.find_first_of(u"*?<>\"") != std::u16string_view::npos;
}

bool wildcard_match(std::u16string_view pattern, std::u16string_view name) {
  if (pattern.empty() || pattern == u"*") return true;
  return match(pattern, name);
}

bool equal_ignore_case(std::u16string_view a, std::u16string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

}  // namespace smbx::server
