// Extended attributes (MS-FSCC FILE_FULL_EA_INFORMATION) kept as Linux
// xattrs in the `user.` namespace, as Samba's smbd keeps them: the EA "NAME"
// is the xattr "user.NAME", so a share served by either server shows the
// same EAs. Windows compares EA names without regard to case; the case a
// name was first stored with is kept, and a later set of the same name in
// another case replaces it (Samba's canonicalize_ea_name). Samba's private
// xattrs (user.DOSATTRIB, user.SAMBA_PAI, user.DosStream.*) are no EAs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/fscc.hpp"
#include "wire/ntstatus.hpp"

namespace smbx::server::ea {

struct Attribute {
  std::string name;  // without "user."
  Bytes value;
};

// Windows' limit on all EAs of one file, as a FILE_FULL_EA_INFORMATION chain.
inline constexpr std::size_t kMaxTotalSize = 65535;

// The EAs of the file or directory open at `fd` (any fd, O_PATH too), in the
// order the file system lists them. xattrs that cannot be EAs (a name Windows
// refuses, a value over 65535 bytes, Samba's private ones) are left out.
Expected<std::vector<Attribute>> list(int fd);
// The same for `name` in the directory open at `dir_fd`, without following
// a final symlink (QUERY_DIRECTORY entries).
Expected<std::vector<Attribute>> list_at(int dir_fd, const std::string& name);

// EaSize (MS-FSCC FileEaInformation, FileAllInformation, directory entries):
// the size of the FILE_FULL_EA_INFORMATION chain of all the EAs; 0 when there
// are none or they cannot be read.
std::uint32_t size_of(const std::vector<Attribute>& eas) noexcept;
std::uint32_t size_of(int fd) noexcept;
std::uint32_t size_at(int dir_fd, const std::string& name) noexcept;

// True for a name that is Samba's, not the client's (refused on set, hidden on list).
bool is_private(std::string_view name) noexcept;

// Applies SET_INFO FileFullEaInformation or a CREATE's ExtA context
// (MS-FSCC 2.4.15, MS-FSA 2.1.5.14.2 / 2.1.5.1): every name is checked
// before anything changes (INVALID_EA_NAME), an empty value removes the EA
// (removing one that is not there succeeds), and the result must stay within
// kMaxTotalSize (EA_TOO_LARGE).
wire::NtStatus apply(int fd, const wire::fscc::FileFullEaInformation& changes);

// The wire form of `eas`.
wire::fscc::FileFullEaInformation to_wire(const std::vector<Attribute>& eas);

// Case-insensitive (ASCII) comparison of EA names.
bool same_name(std::string_view a, std::string_view b) noexcept;

}  // namespace smbx::server::ea
