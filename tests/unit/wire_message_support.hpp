// Helpers for the SMB2 message codec tests: the plaintext messages of the real
// Samba captures, and whole messages (header + body) built from a body.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/captures.hpp"
#include "support/messages.hpp"
#include "support/test_data.hpp"
#include "support/wire_errors.hpp"
#include "wire/header.hpp"

namespace smbx::test {

inline constexpr const char* kCaptures[] = {"smb311-signed-ops", "smb311-encrypted", "smb302-signed"};

// Every plaintext SMB2 message of every capture with this command and
// direction (TRANSFORM frames are skipped).
inline std::vector<CapturedMessage> captured(wire::Command command, bool responses) {
  std::vector<CapturedMessage> out;
  for (const char* name : kCaptures)
    for (auto& m : captured_messages(name, command))
      if (m.header.is_response() == responses) out.push_back(std::move(m));
  return out;
}

// The first such message whose NTSTATUS (responses) is `status`.
inline CapturedMessage first_captured(wire::Command command, bool response, const std::string& capture_name,
                                      std::uint32_t status = 0) {
  for (auto& m : captured(command, response))
    if (m.capture == capture_name && (!response || m.header.status() == status)) return m;
  FAIL("no such message in ", capture_name);
  return {};
}

inline Bytes body_bytes(ByteView message) {
  return Bytes(message.begin() + static_cast<std::ptrdiff_t>(wire::kHeaderSize), message.end());
}

// Stores a little-endian field into a message, for building bad inputs.
inline void poke16(Bytes& message, std::size_t at, std::uint16_t v) { store_le16(&message[at], v); }
inline void poke32(Bytes& message, std::size_t at, std::uint32_t v) { store_le32(&message[at], v); }

// Every prefix of `message` shorter than `upto` bytes must fail to decode.
template <typename Decode>
void check_prefixes_refused(ByteView message, Decode decode, std::size_t upto) {
  for (std::size_t n = 0; n < upto; ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode(message.first(n)).has_value());
  }
}

}  // namespace smbx::test
