// SP800-108 KDF in counter mode with HMAC-SHA256 (MS-SMB2 3.1.4.2).
#pragma once

#include <cstddef>
#include <string_view>

#include "wire/bytes.hpp"

namespace smbx::crypto {

// KDF(Ki, Label, Context, L) = the first L/8 bytes of
//   HMAC-SHA256(Ki, [1]_32be || Label || 0x00 || Context || [L]_32be), L = 8 * out_bytes.
// `label` and `context` are passed as the spec writes them, so a string label
// includes its own terminating NUL ("SMBSigningKey\0"); the 0x00 separator is
// added here. `key` must not be empty; out_bytes is 16 or 32 in SMB (1..32 work).
Bytes kdf(ByteView key, ByteView label, ByteView context, std::size_t out_bytes);

// The bytes of a string literal including its terminating NUL:
// with_nul("SmbSign") is the 8 bytes "SmbSign\0" the spec's labels use.
template <std::size_t N>
ByteView with_nul(const char (&literal)[N]) noexcept {
  return ByteView{reinterpret_cast<const std::uint8_t*>(literal), N};
}

}  // namespace smbx::crypto
