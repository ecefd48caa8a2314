#include "smbx/exit_status.hpp"

#include "wire/ntstatus.hpp"

namespace smbx {

namespace {

namespace st = wire::status;

bool is_authentication_status(std::uint32_t s) {
  return s == st::LOGON_FAILURE || s == st::WRONG_PASSWORD || s == st::NO_SUCH_USER ||
         s == st::ACCOUNT_DISABLED || s == st::ACCOUNT_LOCKED_OUT || s == st::ACCOUNT_RESTRICTION ||
         s == st::PASSWORD_EXPIRED || s == st::INVALID_LOGON_HOURS;
}

bool is_not_found_status(std::uint32_t s) {
  return s == st::OBJECT_NAME_NOT_FOUND || s == st::OBJECT_PATH_NOT_FOUND || s == st::NO_SUCH_FILE ||
         s == st::BAD_NETWORK_NAME;
}

bool is_access_denied_status(std::uint32_t s) {
  return s == st::ACCESS_DENIED || s == st::NETWORK_ACCESS_DENIED;
}

bool is_network_status(std::uint32_t s) {
  return s == st::CONNECTION_REFUSED || s == st::CONNECTION_DISCONNECTED || s == st::CONNECTION_RESET ||
         s == st::IO_TIMEOUT || s == st::NETWORK_NAME_DELETED || s == st::USER_SESSION_DELETED;
}

// What a status means in a message, in the words of ls, rm and friends.
std::string reason(std::uint32_t s) {
  if (s == st::OBJECT_NAME_NOT_FOUND || s == st::NO_SUCH_FILE) return "no such file or directory";
  if (s == st::OBJECT_PATH_NOT_FOUND) return "no such directory on the path";
  if (s == st::BAD_NETWORK_NAME) return "no such share";
  if (is_access_denied_status(s)) return "access denied";
  if (s == st::OBJECT_NAME_COLLISION) return "already exists";
  if (s == st::DIRECTORY_NOT_EMPTY) return "directory not empty";
  if (s == st::NOT_A_DIRECTORY) return "not a directory";
  if (s == st::FILE_IS_A_DIRECTORY) return "is a directory";
  if (s == st::SHARING_VIOLATION) return "in use by another open";
  if (s == st::DELETE_PENDING) return "being deleted";
  if (s == st::CANNOT_DELETE) return "cannot be deleted";
  if (s == st::OBJECT_NAME_INVALID) return "invalid name";
  if (s == st::DISK_FULL) return "disk full";
  if (is_authentication_status(s)) return "logon failure";
  return "server error";
}

}  // namespace

ExitCode exit_code_for(const Error& error) noexcept {
  const auto s = error.status;
  if (error.kind == ErrorKind::usage) return ExitCode::usage;
  if (is_authentication_status(s)) return ExitCode::authentication;
  if (error.kind == ErrorKind::auth) return ExitCode::authentication;
  if (is_not_found_status(s)) return ExitCode::not_found;
  if (is_access_denied_status(s)) return ExitCode::access_denied;
  if (error.kind == ErrorKind::transport || is_network_status(s)) return ExitCode::network;
  return ExitCode::other;
}

std::string user_message(const Error& error, const std::string& principal) {
  const auto s = error.status;
  if (is_authentication_status(s) && !principal.empty())
    return "logon failure for " + principal + " (" + wire::status_name(s) + ")";
  if (s != 0 && error.kind != ErrorKind::wire) {
    std::string out = error.action.empty() ? std::string{} : error.action + ": ";
    out += reason(s) + " (" + wire::status_name(s) + ")";
    if (!error.detail.empty()) out += ": " + error.detail;
    return out;
  }
  if (error.kind == ErrorKind::wire || error.detail.empty()) return describe(error);
  // The kind ("usage error", "network error") adds nothing a person needs here.
  return error.action.empty() ? error.detail : error.action + ": " + error.detail;
}

}  // namespace smbx
