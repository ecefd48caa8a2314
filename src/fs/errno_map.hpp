// NTSTATUS -> errno for every FUSE reply of mount.smbx: one table, so the same
// server answer gives the same error in every operation.
#pragma once

#include <cstdint>

#include "smbx/error.hpp"

namespace smbx::fs {

// The errno a failed NTSTATUS means for a POSIX caller; EIO for a status the
// table does not know (and for 0, which is not a failure).
int errno_from_status(std::uint32_t status) noexcept;

// The errno for any smbx::Error: a server status through the table above,
// transport failures (connection lost, deadline) EIO, usage errors EINVAL.
int errno_from_error(const Error& error) noexcept;

}  // namespace smbx::fs
