#include "server/share_path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "wire/types.hpp"

namespace smbx::server {
namespace st = wire::status;

Error status_error(wire::NtStatus status, std::string detail) {
  return Error{.kind = ErrorKind::status, .wire = WireError::none, .status = status, .action = {},
               .detail = std::move(detail)};
}

wire::NtStatus check_component(std::u16string_view c) {
  if (c.empty()) return st::OBJECT_NAME_INVALID;
  if (c == u".") return st::OBJECT_NAME_INVALID;
  if (c == u"..") return st::OBJECT_PATH_SYNTAX_BAD;
  if (c.size() > 255) return st::OBJECT_NAME_INVALID;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const char16_t ch = c[i];
    if (ch < 0x20) return st::OBJECT_NAME_INVALID;
    switch (ch) {
      case u'\\': case u'/': case u':': case u'*': case u'?': case u'"': case u'<': case u'>': case u'|':
        return st::OBJECT_NAME_INVALID;
      default:
        break;
    }
    // A lone surrogate has no UTF-8 form: refusing it keeps the POSIX name exact.
    if (ch >= 0xD800 && ch <= 0xDBFF) {
      if (i + 1 >= c.size() || c[i + 1] < 0xDC00 || c[i + 1] > 0xDFFF) return st::OBJECT_NAME_INVALID;
      ++i;
    } else if (ch >= 0xDC00 && ch <= 0xDFFF) {
      return st::OBJECT_NAME_INVALID;
    }
  }
  if (wire::utf8_from_utf16(c).size() > NAME_MAX) return st::OBJECT_NAME_INVALID;
  return st::SUCCESS;
}

namespace {
bool ends_with_ci(std::u16string_view s, std::u16string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    char16_t a = s[s.size() - suffix.size() + i], b = suffix[i];
    if (a >= u'a' && a <= u'z') a = static_cast<char16_t>(a - 32);
    if (b >= u'a' && b <= u'z') b = static_cast<char16_t>(b - 32);
    if (a != b) return false;
  }
  return true;
}
}  // namespace

Expected<std::string> map_wire_path(std::u16string_view name, bool allow_leading_separator) {
  if (!name.empty() && name.front() == u'\\') {
    if (!allow_leading_separator) return status_error(st::INVALID_PARAMETER, "the name starts with a backslash");
    name.remove_prefix(1);
  }
  // The default data stream names the file itself (MS-FSCC 2.1.4).
  if (ends_with_ci(name, u"::$DATA")) name.remove_suffix(7);
  if (name.size() > 32767) return status_error(st::OBJECT_NAME_INVALID, "the name is too long");
  std::string out;
  std::size_t pos = 0;
  while (pos <= name.size() && !name.empty()) {
    const auto sep = name.find(u'\\', pos);
    const auto component = name.substr(pos, sep == std::u16string_view::npos ? name.npos : sep - pos);
    if (component.find(u':') != std::u16string_view::npos)
      return status_error(st::OBJECT_NAME_INVALID, "named streams are not supported");
    if (const auto s = check_component(component); s != st::SUCCESS)
      return status_error(s, "invalid name component");
    if (!out.empty()) out += '/';
    out += wire::utf8_from_utf16(component);
    if (sep == std::u16string_view::npos) break;
    pos = sep + 1;
  }
  if (out.size() >= PATH_MAX) return status_error(st::OBJECT_NAME_INVALID, "the path is too long");
  return out;
}

std::string parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string{} : std::string{path.substr(0, slash)};
}

std::string leaf_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string{slash == std::string_view::npos ? path : path.substr(slash + 1)};
}

int open_beneath(int root_fd, std::string_view relative_path, int flags, unsigned mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const std::string path = relative_path.empty() ? std::string{"."} : std::string{relative_path};
  for (int attempt = 0; attempt < 8; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the lookup (openat2(2)); try again, bounded.
    if (errno != EAGAIN && errno != EINTR) return -errno;
  }
  return -EAGAIN;
}

wire::NtStatus status_from_errno(int error, bool in_parent) {
  switch (error) {
    case ENOENT: return in_parent ? st::OBJECT_PATH_NOT_FOUND : st::OBJECT_NAME_NOT_FOUND;
    case ENOTDIR: return st::OBJECT_PATH_NOT_FOUND;
    case EXDEV:   // RESOLVE_BENEATH: the name leads out of the share
    case ELOOP:   // a symlink loop, or a magic link
    case EACCES:
    case EPERM: return st::ACCESS_DENIED;
    case EEXIST: return st::OBJECT_NAME_COLLISION;
    case EISDIR: return st::FILE_IS_A_DIRECTORY;
    case ENOTEMPTY: return st::DIRECTORY_NOT_EMPTY;
    case ENOSPC:
    case EDQUOT: return st::DISK_FULL;
    case ENAMETOOLONG: return st::OBJECT_NAME_INVALID;
    case EROFS: return st::MEDIA_WRITE_PROTECTED;
    case EBADF: return st::INVALID_HANDLE;
    case EINVAL: return st::INVALID_PARAMETER;
    case EFBIG: return st::DISK_FULL;
    case ENOMEM: return st::NO_MEMORY;
    case EBUSY: return st::SHARING_VIOLATION;
    default: return st::UNSUCCESSFUL;
  }
}

}  // namespace smbx::server
