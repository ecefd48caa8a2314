// Private to src/crypto: owning handles for OpenSSL 3 contexts, algorithms
// fetched once, and the one way out when OpenSSL fails where it cannot.
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <climits>
#include <cstddef>
#include <memory>

namespace smbx::crypto::detail {

// Stops the process. Used only where OpenSSL fails on inputs that were
// checked first (allocation failure, a provider that is missing), or where a
// caller broke a documented contract (a key of the wrong size). Input from the
// network never reaches this: decoders and verifiers return errors instead.
[[noreturn]] void fatal(const char* what);

// Checks a contract on the caller's arguments; see fatal().
inline void require(bool condition, const char* what) {
  if (!condition) fatal(what);
}

// OpenSSL lengths are ints.
inline int as_int(std::size_t n) {
  require(n <= static_cast<std::size_t>(INT_MAX), "length does not fit OpenSSL's int");
  return static_cast<int>(n);
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

CipherCtx new_cipher_ctx();
MacCtx new_mac_ctx(EVP_MAC* mac);
KdfCtx new_kdf_ctx(EVP_KDF* kdf);
MdCtx new_md_ctx();

// Explicitly fetched algorithms, fetched on first use and kept for the life of
// the process (OpenSSL 3 re-fetches on every init otherwise). Thread-safe.
const EVP_CIPHER* aes_128_gcm();
const EVP_CIPHER* aes_256_gcm();
const EVP_CIPHER* aes_128_ccm();
const EVP_CIPHER* aes_256_ccm();
EVP_MAC* hmac();
EVP_MAC* cmac();
EVP_KDF* kbkdf();
const EVP_MD* sha512();

}  // namespace smbx::crypto::detail
