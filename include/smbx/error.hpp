// Errors a person can act on: what was attempted, on what, and why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smbx {

enum class ErrorKind : std::uint8_t {
  wire,       // a message that does not decode
  status,     // the peer answered with a failure NTSTATUS
  crypto,     // signature, decryption or key derivation failed
  auth,       // authentication failed or was malformed
  transport,  // the connection failed
  local,      // a local resource (file, option, memory)
  usage,      // the caller asked for something invalid
};

// Why a decoder refused its input. Stable names: tests and fuzzers match on them.
enum class WireError : std::uint8_t {
  none,
  truncated,           // fewer bytes than a field or declared length needs
  bad_protocol_id,     // not FE/FD 'SMB'
  bad_structure_size,  // StructureSize is not the one the spec fixes
  bad_offset,          // an offset points before the buffer area or is misaligned
  bad_length,          // a length is inconsistent with another field
  bad_value,           // a field holds a value the spec forbids
  unknown_command,
  trailing_data,       // bytes left over where none may be
};

struct Error {
  ErrorKind kind = ErrorKind::local;
  WireError wire = WireError::none;  // set when kind == wire
  std::uint32_t status = 0;          // NTSTATUS, set when kind == status (or known)
  std::string action;                // "decode CREATE response"
  std::string detail;                // "NameOffset 40 lies inside the header"
};

std::string_view to_string(ErrorKind kind) noexcept;
std::string_view to_string(WireError error) noexcept;

// "decode CREATE response: truncated: NameLength 200 runs past the message"
std::string describe(const Error& error);

inline Error wire_error(WireError code, std::string detail) {
  return Error{.kind = ErrorKind::wire, .wire = code, .status = 0, .action = {}, .detail = std::move(detail)};
}

}  // namespace smbx
