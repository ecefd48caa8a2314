// From wire names to paths under a share root, and the only way smbxd opens
// anything: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the share's
// root directory fd, so `..`, absolute names and symlinks that leave the share
// are refused by the kernel rather than by string checks alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smbx/expected.hpp"
#include "wire/ntstatus.hpp"

namespace smbx::server {

// An Error carrying the NTSTATUS to answer with.
Error status_error(wire::NtStatus status, std::string detail);

// MS-FSCC 2.1.5.2 / Samba's check_path_syntax: checks one component of a
// CREATE or rename name. Refused: empty, "." and ".." (OBJECT_NAME_INVALID,
// ".." OBJECT_PATH_SYNTAX_BAD), control characters and \ / : * ? " < > |
// (OBJECT_NAME_INVALID), unpaired surrogates, more than 255 UTF-16 units or
// more than NAME_MAX bytes of UTF-8.
wire::NtStatus check_component(std::u16string_view component);

// Maps a name as the wire carries it (share-relative, backslash-separated) to
// a relative POSIX path ("" is the share root). A trailing "::$DATA" (the
// default stream) is dropped; any other stream name is refused. A leading
// backslash is refused with INVALID_PARAMETER (MS-SMB2 3.3.5.9), except when
// `allow_leading_separator` (rename targets and QUERY_DIRECTORY do not
// carry one, but some clients send it for renames).
Expected<std::string> map_wire_path(std::u16string_view name, bool allow_leading_separator = false);

// The parent of a relative POSIX path ("" for a top-level name) and its last component.
std::string parent_of(std::string_view path);
std::string leaf_of(std::string_view path);

// openat2 from `root_fd` with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; ""
// opens the root itself. Returns the fd or -errno.
int open_beneath(int root_fd, std::string_view relative_path, int flags, unsigned mode = 0);

// errno to NTSTATUS for file operations. `in_parent`: the error came from
// resolving the directory part, so a missing entry is a missing path.
wire::NtStatus status_from_errno(int error, bool in_parent = false);

}  // namespace smbx::server
