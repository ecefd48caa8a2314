// SMB2 SESSION_SETUP request and response (MS-SMB2 2.2.5, 2.2.6). The security
// buffer carries the SPNEGO/GSS token (see src/auth).
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.5 Flags.
namespace session_setup_flags {
inline constexpr std::uint8_t binding = 0x01;  // bind this connection to an existing session (3.x)
}

// MS-SMB2 2.2.6 SessionFlags.
namespace session_flags {
inline constexpr std::uint16_t is_guest = 0x0001;
inline constexpr std::uint16_t is_null = 0x0002;
inline constexpr std::uint16_t encrypt_data = 0x0004;
}  // namespace session_flags

// MS-SMB2 2.2.5, StructureSize 25.
struct SessionSetupRequest {
  std::uint8_t flags = 0;
  std::uint8_t security_mode = 0;  // negotiate_signing bits
  std::uint32_t capabilities = 0;  // only global_caps::dfs means anything here
  std::uint32_t channel = 0;       // reserved, 0
  std::uint64_t previous_session_id = 0;
  ByteView security_buffer;
};

// MS-SMB2 2.2.6, StructureSize 9.
struct SessionSetupResponse {
  std::uint16_t session_flags = 0;
  ByteView security_buffer;
};

// A non-empty SecurityBuffer whose offset lies inside the header or the
// fixed part is refused; with SecurityBufferLength 0 the offset is ignored.
Expected<SessionSetupRequest> decode_session_setup_request(ByteView message);
Expected<SessionSetupResponse> decode_session_setup_response(ByteView message);

// The buffer goes right after the fixed part (hdr offset 0x58 / 0x48); an
// empty one is sent as the single Buffer byte the odd StructureSize counts.
void encode(Writer& w, const SessionSetupRequest& m);
void encode(Writer& w, const SessionSetupResponse& m);

}  // namespace smbx::wire
