// Raw AEAD for the SMB 3.x ciphers (MS-SMB2 3.1.4.3): AES-128/256-CCM
// (RFC 4309 style, 11-byte nonce) and AES-128/256-GCM (12-byte nonce), always
// with a 16-byte tag.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/keys.hpp"
#include "wire/bytes.hpp"

namespace smbx::crypto {

inline constexpr std::size_t kAeadTagSize = 16;
using AeadTag = std::array<std::uint8_t, kAeadTagSize>;

// Contract for both calls (a violation stops the process; it is a bug, never
// peer input): cipher is not none; key is key_size(cipher) bytes; the nonce is
// 12 bytes for GCM and 7..13 bytes for CCM (SMB uses 11); `out` is exactly as
// long as the input and is either the same memory as the input (in place) or
// does not overlap it; lengths fit an int.

// Encrypts `plaintext` into `ciphertext` and returns the tag.
AeadTag aead_encrypt(Cipher cipher, ByteView key, ByteView nonce, ByteView aad, ByteView plaintext,
                     std::span<std::uint8_t> ciphertext);

// Decrypts `ciphertext` into `plaintext` and checks the tag. On a mismatch it
// returns false and `plaintext` is zeroed: unauthenticated plaintext is never
// left behind.
[[nodiscard]] bool aead_decrypt(Cipher cipher, ByteView key, ByteView nonce, ByteView aad, ByteView ciphertext,
                                std::span<const std::uint8_t, kAeadTagSize> tag, std::span<std::uint8_t> plaintext);

}  // namespace smbx::crypto
