#include "server/ea.hpp"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "server/config.hpp"
#include "server/share_path.hpp"
#include "wire/bytes.hpp"

namespace smbx::server::ea {

namespace st = wire::status;

namespace {

constexpr std::string_view kPrefix = "user.";

// fgetxattr and friends refuse O_PATH fds (EBADF); the /proc link to the fd
// reaches the same inode without a path lookup in the share.
std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// One file, reached through an fd or through a name under a directory fd.
struct Target {
  int fd = -1;
  std::string path;     // used when fd < 0
  bool follow = false;  // the path is an fd's /proc link (followed); else no final symlink is followed

  ssize_t list(char* buf, std::size_t size) const {
    if (fd >= 0) return ::flistxattr(fd, buf, size);
    return follow ? ::listxattr(path.c_str(), buf, size) : ::llistxattr(path.c_str(), buf, size);
  }
  ssize_t get(const std::string& name, void* buf, std::size_t size) const {
    if (fd >= 0) return ::fgetxattr(fd, name.c_str(), buf, size);
    return follow ? ::getxattr(path.c_str(), name.c_str(), buf, size)
                  : ::lgetxattr(path.c_str(), name.c_str(), buf, size);
  }
};

Expected<std::vector<Attribute>> list_target(Target t) {
  std::vector<Attribute> out;
  std::string names;
  for (int tries = 0;; ++tries) {
    ssize_t n = t.list(nullptr, 0);
    if (n < 0 && errno == EBADF && t.fd >= 0) {
      t.path = proc_path(t.fd);
      t.fd = -1;
      t.follow = true;
      n = t.list(nullptr, 0);
    }
    if (n < 0) {
      if (errno == ENOTSUP) return out;  // no xattrs here: no EAs
      return status_error(status_from_errno(errno), "listxattr failed");
    }
    if (n == 0) return out;
    names.resize(static_cast<std::size_t>(n));
    n = t.list(names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<std::size_t>(n));
      break;
    }
    if (errno != ERANGE || tries == 3) return status_error(status_from_errno(errno), "listxattr failed");
  }
  for (std::size_t pos = 0; pos < names.size();) {
    const std::size_t end = std::min(names.find('\0', pos), names.size());
    const std::string xname = names.substr(pos, end - pos);
    pos = end + 1;
    if (!xname.starts_with(kPrefix)) continue;
    const std::string name = xname.substr(kPrefix.size());
    if (!wire::fscc::valid_ea_name(name) || is_private(name)) continue;
    Attribute a;
    a.name = name;
    ssize_t n = t.get(xname, nullptr, 0);
    if (n < 0) continue;  // removed meanwhile
    if (n == 0 || n > 65535) continue;  // SMB has no empty EA, nor one this large
    a.value.resize(static_cast<std::size_t>(n));
    n = t.get(xname, a.value.data(), a.value.size());
    if (n <= 0) continue;
    a.value.resize(static_cast<std::size_t>(n));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

bool same_name(std::string_view a, std::string_view b) noexcept { return equal_ascii_ci(a, b); }

bool is_private(std::string_view name) noexcept {
  // Samba's samba_private_attr_name(): DOS attributes, its POSIX ACL
  // inheritance marker, and streams_xattr's streams.
  return same_name(name, "DOSATTRIB") || same_name(name, "SAMBA_PAI") ||
         (name.size() >= 10 && same_name(name.substr(0, 10), "DosStream."));
}

Expected<std::vector<Attribute>> list(int fd) { return list_target(Target{fd, {}, false}); }

Expected<std::vector<Attribute>> list_at(int dir_fd, const std::string& name) {
  return list_target(Target{-1, proc_path(dir_fd) + "/" + name, false});
}

wire::fscc::FileFullEaInformation to_wire(const std::vector<Attribute>& eas) {
  wire::fscc::FileFullEaInformation out;
  for (const auto& a : eas) out.entries.push_back(wire::fscc::FullEaEntry{0, a.name, ByteView{a.value}});
  return out;
}

std::uint32_t size_of(const std::vector<Attribute>& eas) noexcept {
  return static_cast<std::uint32_t>(wire::fscc::full_ea_chain_size(to_wire(eas)));
}

std::uint32_t size_of(int fd) noexcept {
  auto eas = list(fd);
  return eas ? size_of(*eas) : 0;
}

std::uint32_t size_at(int dir_fd, const std::string& name) noexcept {
  auto eas = list_at(dir_fd, name);
  return eas ? size_of(*eas) : 0;
}

wire::NtStatus apply(int fd, const wire::fscc::FileFullEaInformation& changes) {
  for (const auto& e : changes.entries)
    if (!wire::fscc::valid_ea_name(e.ea_name)) return st::INVALID_EA_NAME;
  for (const auto& e : changes.entries)
    if (is_private(e.ea_name)) return st::ACCESS_DENIED;  // as Samba
  auto current = list(fd);
  if (!current) return current.error().status;
  // What the file will hold: each change replaces the EA of the same name in
  // any case (keeping the stored case), adds one, or removes it.
  std::vector<Attribute> after = *current;
  std::vector<std::pair<std::string, const wire::fscc::FullEaEntry*>> plan;  // xattr name, change
  for (const auto& e : changes.entries) {
    auto it = std::ranges::find_if(after, [&](const Attribute& a) { return same_name(a.name, e.ea_name); });
    const std::string stored = it != after.end() ? it->name : e.ea_name;
    if (e.ea_value.empty()) {
      if (it != after.end()) after.erase(it);
    } else if (it != after.end()) {
      it->value.assign(e.ea_value.begin(), e.ea_value.end());
    } else {
      after.push_back(Attribute{e.ea_name, Bytes(e.ea_value.begin(), e.ea_value.end())});
    }
    plan.emplace_back(std::string{kPrefix} + stored, &e);
  }
  if (size_of(after) > kMaxTotalSize) return st::EA_TOO_LARGE;
  std::string via_proc;
  for (const auto& [xname, e] : plan) {
    int rc = 0;
    if (e->ea_value.empty()) {
      rc = via_proc.empty() ? ::fremovexattr(fd, xname.c_str()) : ::removexattr(via_proc.c_str(), xname.c_str());
      if (rc != 0 && errno == EBADF && via_proc.empty()) {
        via_proc = proc_path(fd);
        rc = ::removexattr(via_proc.c_str(), xname.c_str());
      }
      if (rc != 0 && errno == ENODATA) rc = 0;  // removing what is not there succeeds
    } else {
      rc = via_proc.empty() ? ::fsetxattr(fd, xname.c_str(), e->ea_value.data(), e->ea_value.size(), 0)
                            : ::setxattr(via_proc.c_str(), xname.c_str(), e->ea_value.data(), e->ea_value.size(), 0);
      if (rc != 0 && errno == EBADF && via_proc.empty()) {
        via_proc = proc_path(fd);
        rc = ::setxattr(via_proc.c_str(), xname.c_str(), e->ea_value.data(), e->ea_value.size(), 0);
      }
    }
    if (rc != 0) {
      const int err = errno;
      if (err == E2BIG || err == ENOSPC || err == ERANGE) return st::EA_TOO_LARGE;
      if (err == ENOTSUP) return st::EAS_NOT_SUPPORTED;
      return status_from_errno(err);
    }
  }
  return st::SUCCESS;
}

}  // namespace smbx::server::ea
