#include "crypto/openssl.hpp"

#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>

namespace smbx::crypto::detail {

void fatal(const char* what) {
  std::fprintf(stderr, "smbx crypto: %s; refusing to continue\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

CipherCtx new_cipher_ctx() {
  CipherCtx ctx{EVP_CIPHER_CTX_new()};
  require(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  return ctx;
}

MacCtx new_mac_ctx(EVP_MAC* mac) {
  MacCtx ctx{EVP_MAC_CTX_new(mac)};
  require(ctx != nullptr, "EVP_MAC_CTX_new failed");
  return ctx;
}

KdfCtx new_kdf_ctx(EVP_KDF* kdf) {
  KdfCtx ctx{EVP_KDF_CTX_new(kdf)};
  require(ctx != nullptr, "EVP_KDF_CTX_new failed");
  return ctx;
}

MdCtx new_md_ctx() {
  MdCtx ctx{EVP_MD_CTX_new()};
  require(ctx != nullptr, "EVP_MD_CTX_new failed");
  return ctx;
}

namespace {

template <typename T>
T* checked_fetch(T* fetched, const char* name) {
  if (fetched == nullptr) fatal(name);
  return fetched;
}

}  // namespace

const EVP_CIPHER* aes_128_gcm() {
  static EVP_CIPHER* const c = checked_fetch(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr), "no AES-128-GCM");
  return c;
}
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* const c = checked_fetch(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "no AES-256-GCM");
  return c;
}
const EVP_CIPHER* aes_128_ccm() {
  static EVP_CIPHER* const c = checked_fetch(EVP_CIPHER_fetch(nullptr, "AES-128-CCM", nullptr), "no AES-128-CCM");
  return c;
}
const EVP_CIPHER* aes_256_ccm() {
  static EVP_CIPHER* const c = checked_fetch(EVP_CIPHER_fetch(nullptr, "AES-256-CCM", nullptr), "no AES-256-CCM");
  return c;
}
EVP_MAC* hmac() {
  static EVP_MAC* const m = checked_fetch(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "no HMAC");
  return m;
}
EVP_MAC* cmac() {
  static EVP_MAC* const m = checked_fetch(EVP_MAC_fetch(nullptr, "CMAC", nullptr), "no CMAC");
  return m;
}
EVP_KDF* kbkdf() {
  static EVP_KDF* const k = checked_fetch(EVP_KDF_fetch(nullptr, "KBKDF", nullptr), "no KBKDF");
  return k;
}
const EVP_MD* sha512() {
  static EVP_MD* const md = checked_fetch(EVP_MD_fetch(nullptr, "SHA512", nullptr), "no SHA-512");
  return md;
}

}  // namespace smbx::crypto::detail
