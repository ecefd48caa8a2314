#include "crypto/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "crypto/openssl.hpp"

namespace smbx::crypto {

namespace {

// OSSL_PARAM takes non-const pointers even for inputs it only reads.
OSSL_PARAM octets(const char* name, ByteView bytes) {
  static std::uint8_t empty = 0;
  auto* data = bytes.empty() ? &empty : const_cast<std::uint8_t*>(bytes.data());
  return OSSL_PARAM_construct_octet_string(name, data, bytes.size());
}

}  // namespace

Bytes kdf(ByteView key, ByteView label, ByteView context, std::size_t out_bytes) {
  detail::require(!key.empty(), "KDF with an empty key");
  detail::require(out_bytes >= 1 && out_bytes <= 32, "KDF output must be 1..32 bytes (one HMAC-SHA256 block)");
  // OpenSSL's KBKDF defaults match MS-SMB2 3.1.4.2: r = 32-bit counter, the
  // 0x00 separator after the label ("salt"), and L appended as 32 bits.
  char mode[] = "counter";
  char mac[] = "HMAC";
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode, 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac, 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      octets(OSSL_KDF_PARAM_KEY, key),
      octets(OSSL_KDF_PARAM_SALT, label),
      octets(OSSL_KDF_PARAM_INFO, context),
      OSSL_PARAM_construct_end(),
  };
  auto ctx = detail::new_kdf_ctx(detail::kbkdf());
  Bytes out(out_bytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) detail::fatal("KBKDF derive failed");
  return out;
}

}  // namespace smbx::crypto
