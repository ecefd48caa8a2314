// The mapping follows what Linux's cifs client returns for the same status
// (fs/smb/client/smb2maperror.c), so programs see the errors they already
// see on cifs mounts.
#include "fs/errno_map.hpp"

#include <cerrno>

#include "wire/ntstatus.hpp"

namespace smbx::fs {

namespace st = wire::status;

int errno_from_status(std::uint32_t status) noexcept {
  switch (status) {
    case st::NO_SUCH_FILE:
    case st::OBJECT_NAME_NOT_FOUND:
    case st::OBJECT_PATH_NOT_FOUND:
    case st::NOT_FOUND:
    case st::NO_SUCH_DEVICE:
    case st::FILE_DELETED:
      return ENOENT;
    case st::DELETE_PENDING:
      // Open of a name whose file is being deleted: it is gone for new opens.
      return ENOENT;
    case st::OBJECT_NAME_COLLISION:
    case st::OBJECTID_EXISTS:
    case st::DUPLICATE_OBJECTID:
      return EEXIST;
    case st::ACCESS_DENIED:
    case st::NETWORK_ACCESS_DENIED:
    case st::CANNOT_DELETE:
    case st::MEDIA_WRITE_PROTECTED:
      return EACCES;
    case st::PRIVILEGE_NOT_HELD:
      return EPERM;
    case st::SHARING_VIOLATION:
    case st::FILE_LOCK_CONFLICT:
    case st::PIPE_BUSY:
      return EBUSY;
    case st::LOCK_NOT_GRANTED:
      return EAGAIN;
    case st::RANGE_NOT_LOCKED:
      return ENOLCK;
    case st::DIRECTORY_NOT_EMPTY:
      return ENOTEMPTY;
    case st::NOT_A_DIRECTORY:
      return ENOTDIR;
    case st::FILE_IS_A_DIRECTORY:
      return EISDIR;
    case st::OBJECT_NAME_INVALID:
    case st::OBJECT_PATH_SYNTAX_BAD:
    case st::OBJECT_PATH_INVALID:
    case st::ILLEGAL_CHARACTER:
    case st::INVALID_PARAMETER:
    case st::INVALID_INFO_CLASS:
    case st::INFO_LENGTH_MISMATCH:
    case st::INVALID_LEVEL:
      return EINVAL;
    case st::NAME_TOO_LONG:
      return ENAMETOOLONG;
    case st::DISK_FULL:
      return ENOSPC;
    case st::QUOTA_EXCEEDED:
      return EDQUOT;
    case st::NOT_SAME_DEVICE:
      return EXDEV;
    case st::NOT_SUPPORTED:
    case st::NOT_IMPLEMENTED:
    case st::INVALID_DEVICE_REQUEST:
    // ODX refused by the file system or for the file (MS-FSCC 2.3.41, 2.3.43):
    // copy_file_range then falls back to reads and writes.
    case st::OFFLOAD_READ_FLT_NOT_SUPPORTED:
    case st::OFFLOAD_WRITE_FLT_NOT_SUPPORTED:
    case st::OFFLOAD_READ_FILE_NOT_SUPPORTED:
    case st::OFFLOAD_WRITE_FILE_NOT_SUPPORTED:
      return EOPNOTSUPP;
    case st::EA_TOO_LARGE:
      return E2BIG;
    case st::NONEXISTENT_EA_ENTRY:
    case st::NO_EAS_ON_FILE:
      return ENODATA;
    case st::NO_MEMORY:
    case st::INSUFFICIENT_RESOURCES:
      return ENOMEM;
    case st::INVALID_HANDLE:
    case st::FILE_CLOSED:
    case st::FILE_FORCED_CLOSED:
      return EBADF;
    case st::END_OF_FILE:
      return ENODATA;
    case st::CANCELLED:
      return EINTR;
    case st::IO_TIMEOUT:
      return ETIMEDOUT;
    case st::NETWORK_NAME_DELETED:
    case st::USER_SESSION_DELETED:
    case st::NETWORK_SESSION_EXPIRED:
      return ESTALE;
    case st::BAD_NETWORK_NAME:
      return ENOENT;
    case st::LOGON_FAILURE:
    case st::WRONG_PASSWORD:
    case st::ACCOUNT_DISABLED:
    case st::ACCOUNT_RESTRICTION:
    case st::ACCOUNT_LOCKED_OUT:
    case st::PASSWORD_EXPIRED:
    case st::INVALID_LOGON_HOURS:
      return EACCES;
    case st::CONNECTION_REFUSED:
      return ECONNREFUSED;
    case st::CONNECTION_DISCONNECTED:
    case st::CONNECTION_RESET:
    case st::LOCAL_DISCONNECT:
    case st::REMOTE_DISCONNECT:
      return ECONNRESET;
    case st::HOST_UNREACHABLE:
      return EHOSTUNREACH;
    case st::NETWORK_UNREACHABLE:
      return ENETUNREACH;
    case st::FILE_SYSTEM_LIMITATION:
      return EFBIG;
    case st::STOPPED_ON_SYMLINK:
    case st::IO_REPARSE_TAG_NOT_HANDLED:
      return ELOOP;
    case st::NOT_A_REPARSE_POINT:
      return EINVAL;
    case st::EAS_NOT_SUPPORTED:  // the share keeps no EAs
      return EOPNOTSUPP;
    case st::INVALID_LOCK_RANGE:
      return EINVAL;
    case st::TOO_MANY_OPENED_FILES:
      return EMFILE;
    case st::FILE_TOO_LARGE:
      return EFBIG;
    default:
      return EIO;
  }
}

int errno_from_error(const Error& error) noexcept {
  switch (error.kind) {
    case ErrorKind::status:
      return errno_from_status(error.status);
    case ErrorKind::usage:
      return EINVAL;
    case ErrorKind::local:
      return error.status != 0 ? errno_from_status(error.status) : EIO;
    case ErrorKind::transport:  // later: failover parks these instead
    case ErrorKind::wire:
    case ErrorKind::crypto:
    case ErrorKind::auth:
      return EIO;
  }
  return EIO;
}

}  // namespace smbx::fs
