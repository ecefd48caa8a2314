#include "crypto/preauth.hpp"

#include "crypto/openssl.hpp"

namespace smbx::crypto {

void PreauthHash::update(ByteView message) {
  auto ctx = detail::new_md_ctx();
  unsigned int length = 0;
  if (EVP_DigestInit_ex(ctx.get(), detail::sha512(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), value_.data(), value_.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), message.data(), message.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), value_.data(), &length) != 1 || length != kSize)
    detail::fatal("SHA-512 failed");
}

}  // namespace smbx::crypto
