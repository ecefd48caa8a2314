#include "crypto/aead.hpp"

#include <openssl/crypto.h>

#include <cstdint>

#include "crypto/openssl.hpp"

namespace smbx::crypto {

namespace {

bool is_ccm(Cipher c) noexcept { return c == Cipher::aes128_ccm || c == Cipher::aes256_ccm; }

const EVP_CIPHER* evp_cipher(Cipher c) {
  switch (c) {
    case Cipher::aes128_ccm: return detail::aes_128_ccm();
    case Cipher::aes128_gcm: return detail::aes_128_gcm();
    case Cipher::aes256_ccm: return detail::aes_256_ccm();
    case Cipher::aes256_gcm: return detail::aes_256_gcm();
    case Cipher::none: break;
  }
  detail::fatal("AEAD with no cipher");
}

void check_contract(Cipher cipher, ByteView key, ByteView nonce, ByteView in, std::span<std::uint8_t> out) {
  detail::require(cipher != Cipher::none && key.size() == key_size(cipher), "AEAD key size does not match the cipher");
  if (is_ccm(cipher))
    detail::require(nonce.size() >= 7 && nonce.size() <= 13, "CCM nonce must be 7..13 bytes");
  else
    detail::require(nonce.size() == 12, "GCM nonce must be 12 bytes");
  detail::require(in.size() == out.size(), "AEAD output size differs from input size");
  const auto in_at = reinterpret_cast<std::uintptr_t>(in.data());
  const auto out_at = reinterpret_cast<std::uintptr_t>(out.data());
  const bool apart = in_at + in.size() <= out_at || out_at + out.size() <= in_at;
  detail::require(in.empty() || in_at == out_at || apart, "AEAD input and output partially overlap");
  detail::as_int(in.size());
}

// OpenSSL's CCM only treats an update as data when both pointers are set, even
// for zero bytes; an empty span may have a null data().
std::uint8_t* data_or_dummy(std::span<std::uint8_t> s) {
  static thread_local std::uint8_t dummy = 0;
  return s.empty() ? &dummy : s.data();
}
const std::uint8_t* data_or_dummy(ByteView s) {
  static const std::uint8_t dummy = 0;
  return s.empty() ? &dummy : s.data();
}

// Sets cipher, nonce length and (for CCM) the tag length or expected tag,
// then key and nonce. CCM needs the lengths before the key/nonce init.
void init(EVP_CIPHER_CTX* ctx, bool encrypt, Cipher cipher, ByteView key, ByteView nonce,
          const std::uint8_t* expected_tag) {
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx, evp_cipher(cipher), nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1)
    detail::fatal("AEAD init failed");
  if (is_ccm(cipher) &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize),
                          const_cast<std::uint8_t*>(expected_tag)) != 1)
    detail::fatal("CCM tag setup failed");
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nonce.data(), enc) != 1)
    detail::fatal("AEAD key/nonce init failed");
}

// CCM is not online: it must learn the total length before the AAD.
void declare_ccm_length(EVP_CIPHER_CTX* ctx, std::size_t length) {
  int n = 0;
  if (EVP_CipherUpdate(ctx, nullptr, &n, nullptr, detail::as_int(length)) != 1)
    detail::fatal("CCM length setup failed");
}

void add_aad(EVP_CIPHER_CTX* ctx, ByteView aad) {
  int n = 0;
  if (!aad.empty() && EVP_CipherUpdate(ctx, nullptr, &n, aad.data(), detail::as_int(aad.size())) != 1)
    detail::fatal("AEAD AAD update failed");
}

}  // namespace

AeadTag aead_encrypt(Cipher cipher, ByteView key, ByteView nonce, ByteView aad, ByteView plaintext,
                     std::span<std::uint8_t> ciphertext) {
  check_contract(cipher, key, nonce, plaintext, ciphertext);
  auto ctx = detail::new_cipher_ctx();
  init(ctx.get(), true, cipher, key, nonce, nullptr);
  if (is_ccm(cipher)) declare_ccm_length(ctx.get(), plaintext.size());
  add_aad(ctx.get(), aad);
  int n = 0;
  // CCM takes the data in a single update; GCM is given it the same way.
  if ((is_ccm(cipher) || !plaintext.empty()) &&
      EVP_EncryptUpdate(ctx.get(), data_or_dummy(ciphertext), &n, data_or_dummy(plaintext),
                        detail::as_int(plaintext.size())) != 1)
    detail::fatal("AEAD encrypt failed");
  std::uint8_t unused[16];
  AeadTag tag{};
  if (EVP_EncryptFinal_ex(ctx.get(), unused, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag.size()), tag.data()) != 1)
    detail::fatal("AEAD tag failed");
  return tag;
}

bool aead_decrypt(Cipher cipher, ByteView key, ByteView nonce, ByteView aad, ByteView ciphertext,
                  std::span<const std::uint8_t, kAeadTagSize> tag, std::span<std::uint8_t> plaintext) {
  check_contract(cipher, key, nonce, ciphertext, plaintext);
  auto ctx = detail::new_cipher_ctx();
  bool authentic = false;
  int n = 0;
  if (is_ccm(cipher)) {
    // CCM checks the tag inside the one data update.
    init(ctx.get(), false, cipher, key, nonce, tag.data());
    declare_ccm_length(ctx.get(), ciphertext.size());
    add_aad(ctx.get(), aad);
    authentic = EVP_DecryptUpdate(ctx.get(), data_or_dummy(plaintext), &n, data_or_dummy(ciphertext),
                                  detail::as_int(ciphertext.size())) == 1;
  } else {
    init(ctx.get(), false, cipher, key, nonce, nullptr);
    add_aad(ctx.get(), aad);
    if (!ciphertext.empty() &&
        EVP_DecryptUpdate(ctx.get(), plaintext.data(), &n, ciphertext.data(), detail::as_int(ciphertext.size())) != 1)
      detail::fatal("GCM decrypt failed");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                            const_cast<std::uint8_t*>(tag.data())) != 1)
      detail::fatal("GCM tag setup failed");
    std::uint8_t unused[16];
    authentic = EVP_DecryptFinal_ex(ctx.get(), unused, &n) == 1;
  }
  if (!authentic && !plaintext.empty()) OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return authentic;
}

}  // namespace smbx::crypto
