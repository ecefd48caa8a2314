#include <doctest/doctest.h>

#include <cerrno>

#include "fs/errno_map.hpp"
#include "wire/ntstatus.hpp"

namespace st = smbx::wire::status;
using smbx::fs::errno_from_error;
using smbx::fs::errno_from_status;

TEST_CASE("fs errno map: the statuses a file system meets") {
  CHECK(errno_from_status(st::OBJECT_NAME_NOT_FOUND) == ENOENT);
  CHECK(errno_from_status(st::OBJECT_PATH_NOT_FOUND) == ENOENT);
  CHECK(errno_from_status(st::NO_SUCH_FILE) == ENOENT);
  CHECK(errno_from_status(st::OBJECT_NAME_COLLISION) == EEXIST);
  CHECK(errno_from_status(st::ACCESS_DENIED) == EACCES);
  CHECK(errno_from_status(st::DIRECTORY_NOT_EMPTY) == ENOTEMPTY);
  CHECK(errno_from_status(st::NOT_A_DIRECTORY) == ENOTDIR);
  CHECK(errno_from_status(st::FILE_IS_A_DIRECTORY) == EISDIR);
  CHECK(errno_from_status(st::SHARING_VIOLATION) == EBUSY);
  CHECK(errno_from_status(st::LOCK_NOT_GRANTED) == EAGAIN);
  CHECK(errno_from_status(st::FILE_LOCK_CONFLICT) == EBUSY);
  CHECK(errno_from_status(st::DISK_FULL) == ENOSPC);
  CHECK(errno_from_status(st::NAME_TOO_LONG) == ENAMETOOLONG);
  CHECK(errno_from_status(st::NOT_SUPPORTED) == EOPNOTSUPP);
  CHECK(errno_from_status(st::NOT_SAME_DEVICE) == EXDEV);
  CHECK(errno_from_status(st::OFFLOAD_READ_FLT_NOT_SUPPORTED) == EOPNOTSUPP);
  CHECK(errno_from_status(st::OFFLOAD_WRITE_FILE_NOT_SUPPORTED) == EOPNOTSUPP);
  CHECK(errno_from_status(st::NONEXISTENT_EA_ENTRY) == ENODATA);
  CHECK(errno_from_status(st::OBJECT_NAME_INVALID) == EINVAL);
  CHECK(errno_from_status(st::NETWORK_NAME_DELETED) == ESTALE);
  CHECK(errno_from_status(st::DELETE_PENDING) == ENOENT);
  CHECK(errno_from_status(0xC000004F) == EOPNOTSUPP);  // STATUS_EAS_NOT_SUPPORTED
  CHECK(errno_from_status(0xC00001A1) == EINVAL);      // STATUS_INVALID_LOCK_RANGE
}

TEST_CASE("fs errno map: unknown and success statuses are EIO") {
  CHECK(errno_from_status(0xC0FFEE01) == EIO);
  CHECK(errno_from_status(st::UNSUCCESSFUL) == EIO);
  CHECK(errno_from_status(st::SUCCESS) == EIO);
}

namespace {
smbx::Error error(smbx::ErrorKind kind, std::uint32_t status = 0) {
  smbx::Error e;
  e.kind = kind;
  e.status = status;
  return e;
}
}  // namespace

TEST_CASE("fs errno map: errors by kind") {
  CHECK(errno_from_error(error(smbx::ErrorKind::status, st::ACCESS_DENIED)) == EACCES);
  CHECK(errno_from_error(error(smbx::ErrorKind::status, st::OBJECT_NAME_COLLISION)) == EEXIST);
  CHECK(errno_from_error(error(smbx::ErrorKind::transport)) == EIO);
  CHECK(errno_from_error(error(smbx::ErrorKind::wire)) == EIO);
  CHECK(errno_from_error(error(smbx::ErrorKind::crypto)) == EIO);
  CHECK(errno_from_error(error(smbx::ErrorKind::usage)) == EINVAL);
  // A transport failure that happens to carry a status is still a transport failure.
  CHECK(errno_from_error(error(smbx::ErrorKind::transport, st::ACCESS_DENIED)) == EIO);
}
