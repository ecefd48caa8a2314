// Cryptographically secure random bytes (OpenSSL's CSPRNG).
#pragma once

#include <array>
#include <span>

#include "wire/bytes.hpp"

namespace smbx::crypto {

// Fills `out` from the CSPRNG. Aborts if the CSPRNG fails: continuing with
// predictable nonces, challenges or CreateGuids would be worse than stopping.
void random_bytes(std::span<std::uint8_t> out);

template <std::size_t N>
std::array<std::uint8_t, N> random_array() {
  std::array<std::uint8_t, N> out;
  random_bytes(out);
  return out;
}

}  // namespace smbx::crypto
