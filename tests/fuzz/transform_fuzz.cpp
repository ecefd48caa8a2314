// Feeds arbitrary bytes to the TRANSFORM decoder and decryptor under all four
// ciphers, and to signature verification under all three algorithms. None of
// them may crash. The input is also encrypted as a plaintext and must decrypt
// back to itself.
#include <cstddef>
#include <cstdint>

#include "crypto/signing.hpp"
#include "crypto/transform.hpp"
#include "wire/transform.hpp"

using namespace smbx;
using namespace smbx::crypto;

namespace {

constexpr std::uint8_t kKey32[32] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba,
                                     0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56,
                                     0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0};
constexpr Cipher kCiphers[] = {Cipher::aes128_ccm, Cipher::aes128_gcm, Cipher::aes256_ccm, Cipher::aes256_gcm};
constexpr SigningAlgorithm kAlgorithms[] = {SigningAlgorithm::hmac_sha256, SigningAlgorithm::aes_cmac,
                                            SigningAlgorithm::aes_gmac};

ByteView key_for(Cipher c) { return ByteView{kKey32}.first(key_size(c)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input{data, size};

  // Decode once, then decrypt both from the frame and from the decoded view.
  const auto decoded = wire::decode_transform(input);
  for (Cipher c : kCiphers) {
    const auto from_frame = decrypt_message(c, key_for(c), input);
    if (decoded) {
      const auto from_view = decrypt_message(c, key_for(c), *decoded);
      if (from_frame.has_value() != from_view.has_value()) __builtin_trap();
    } else if (from_frame.has_value()) {
      __builtin_trap();  // a frame that does not decode can never decrypt
    }
  }

  for (SigningAlgorithm a : kAlgorithms) (void)verify_signature(a, ByteView{kKey32}.first(16), input);

  // Round trip: the input as a plaintext, with a nonce taken from its start.
  TransformNonce nonce{};
  for (std::size_t i = 0; i < nonce.size() && i < size; ++i) nonce[i] = data[i];
  for (Cipher c : kCiphers) {
    const Bytes frame = encrypt_message(c, key_for(c), nonce, 0x1122334455667788, input);
    const auto back = decrypt_message(c, key_for(c), frame);
    if (!back || *back != Bytes(input.begin(), input.end())) __builtin_trap();
  }
  return 0;
}
