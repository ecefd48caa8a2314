#include "auth/ntlm_crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace smbx::auth {
namespace {

// Fetched once into a private library context (ntlm.md §9): loading "legacy"
// into the default context would stop OpenSSL from loading "default" there
// implicitly, which every other layer relies on.
struct Algorithms {
  OSSL_LIB_CTX* libctx = nullptr;
  EVP_MD* md4 = nullptr;
  EVP_MD* md5 = nullptr;
  EVP_MAC* hmac = nullptr;
  EVP_CIPHER* rc4 = nullptr;
  bool ok = false;
};

const Algorithms& algorithms() {
  static Algorithms algs;
  static std::once_flag once;
  std::call_once(once, [] {
    algs.libctx = OSSL_LIB_CTX_new();
    if (algs.libctx == nullptr) return;
    if (OSSL_PROVIDER_load(algs.libctx, "legacy") == nullptr) return;
    if (OSSL_PROVIDER_load(algs.libctx, "default") == nullptr) return;
    algs.md4 = EVP_MD_fetch(algs.libctx, "MD4", nullptr);
    algs.md5 = EVP_MD_fetch(algs.libctx, "MD5", nullptr);
    algs.hmac = EVP_MAC_fetch(algs.libctx, "HMAC", nullptr);
    algs.rc4 = EVP_CIPHER_fetch(algs.libctx, "RC4", nullptr);
    algs.ok = algs.md4 && algs.md5 && algs.hmac && algs.rc4;
  });
  return algs;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "smbx: NTLM crypto failure in %s (OpenSSL legacy provider missing?)\n", what);
  std::abort();
}

const Algorithms& require() {
  const auto& algs = algorithms();
  if (!algs.ok) die("provider loading");
  return algs;
}

void check(int rc, const char* what) {
  if (rc != 1) die(what);
}

std::array<std::uint8_t, 16> digest(EVP_MD* md, std::initializer_list<ByteView> parts, const char* what) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  if (!ctx) die(what);
  check(EVP_DigestInit_ex2(ctx.get(), md, nullptr), what);
  for (ByteView part : parts) check(EVP_DigestUpdate(ctx.get(), part.data(), part.size()), what);
  std::array<std::uint8_t, 16> out{};
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), what);
  if (len != out.size()) die(what);
  return out;
}

}  // namespace

Expected<void> ensure_ntlm_crypto() {
  if (algorithms().ok) return {};
  return Error{
      .kind = ErrorKind::crypto,
      .wire = WireError::none,
      .status = 0,
      .action = "load OpenSSL providers for NTLM",
      .detail = "MD4/RC4 need OpenSSL 3's legacy provider (ossl-modules/legacy.so), which did not load"};
}

Md4Digest md4(ByteView data) { return digest(require().md4, {data}, "MD4"); }

Md5Digest md5(std::initializer_list<ByteView> parts) { return digest(require().md5, parts, "MD5"); }

Md5Digest hmac_md5(ByteView key, std::initializer_list<ByteView> parts) {
  const auto& algs = require();
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx{EVP_MAC_CTX_new(algs.hmac),
                                                                &EVP_MAC_CTX_free};
  if (!ctx) die("HMAC-MD5");
  char digest_name[] = "MD5";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                               OSSL_PARAM_construct_end()};
  // HMAC pads the key with zeros to the block size (RFC 2104 2), so an empty
  // key is the same as a single zero byte; OpenSSL treats a null key as
  // "keep the previous one", hence the substitution.
  static constexpr std::uint8_t zero_key[1] = {0};
  const ByteView k = key.empty() ? ByteView{zero_key} : key;
  check(EVP_MAC_init(ctx.get(), k.data(), k.size(), params), "HMAC-MD5 init");
  for (ByteView part : parts) check(EVP_MAC_update(ctx.get(), part.data(), part.size()), "HMAC-MD5 update");
  Md5Digest out{};
  std::size_t len = 0;
  check(EVP_MAC_final(ctx.get(), out.data(), &len, out.size()), "HMAC-MD5 final");
  if (len != out.size()) die("HMAC-MD5 length");
  return out;
}

struct Rc4::State {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx{EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free};
};

Rc4::Rc4(ByteView key) : state_{std::make_unique<State>()} {
  const auto& algs = require();
  if (!state_->ctx || key.empty() || key.size() > 256) die("RC4 key setup");
  // NTLM uses 16-byte keys (and 5 or 7 bytes without NEGOTIATE_128), so the
  // key length is set before the key.
  check(EVP_EncryptInit_ex2(state_->ctx.get(), algs.rc4, nullptr, nullptr, nullptr), "RC4 init");
  check(EVP_CIPHER_CTX_set_key_length(state_->ctx.get(), static_cast<int>(key.size())), "RC4 key length");
  check(EVP_EncryptInit_ex2(state_->ctx.get(), nullptr, key.data(), nullptr, nullptr), "RC4 key");
}

Rc4::~Rc4() = default;
Rc4::Rc4(Rc4&&) noexcept = default;
Rc4& Rc4::operator=(Rc4&&) noexcept = default;

void Rc4::apply(std::span<std::uint8_t> data) {
  if (!state_) die("RC4 use after move");
  while (!data.empty()) {
    const auto n = std::min<std::size_t>(data.size(), INT_MAX / 2);
    int out_len = 0;
    check(EVP_EncryptUpdate(state_->ctx.get(), data.data(), &out_len, data.data(), static_cast<int>(n)),
          "RC4 update");
    if (static_cast<std::size_t>(out_len) != n) die("RC4 length");
    data = data.subspan(n);
  }
}

Bytes Rc4::process(ByteView data) {
  Bytes out{data.begin(), data.end()};
  apply(out);
  return out;
}

Bytes rc4(ByteView key, ByteView data) { return Rc4{key}.process(data); }

}  // namespace smbx::auth
