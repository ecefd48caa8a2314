#include "smbx/error.hpp"

#include "wire/ntstatus.hpp"

namespace smbx {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::wire: return "malformed message";
    case ErrorKind::status: return "server error";
    case ErrorKind::crypto: return "security check failed";
    case ErrorKind::auth: return "authentication failed";
    case ErrorKind::transport: return "network error";
    case ErrorKind::local: return "local error";
    case ErrorKind::usage: return "usage error";
  }
  return "error";
}

std::string_view to_string(WireError error) noexcept {
  switch (error) {
    case WireError::none: return "none";
    case WireError::truncated: return "truncated";
    case WireError::bad_protocol_id: return "bad protocol id";
    case WireError::bad_structure_size: return "bad structure size";
    case WireError::bad_offset: return "bad offset";
    case WireError::bad_length: return "bad length";
    case WireError::bad_value: return "bad value";
    case WireError::unknown_command: return "unknown command";
    case WireError::trailing_data: return "trailing data";
  }
  return "?";
}

std::string describe(const Error& error) {
  std::string out;
  if (!error.action.empty()) out += error.action + ": ";
  if (error.kind == ErrorKind::wire) {
    out += std::string{to_string(error.wire)};
  } else if (error.status != 0) {
    out += wire::describe_status(error.status);
  } else {
    out += std::string{to_string(error.kind)};
  }
  if (!error.detail.empty()) out += ": " + error.detail;
  return out;
}

}  // namespace smbx
