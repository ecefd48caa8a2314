#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace smbx::crypto {

void random_bytes(std::span<std::uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fputs("smbx: the OpenSSL CSPRNG failed; refusing to continue\n", stderr);
    std::abort();
  }
}

}  // namespace smbx::crypto
