// Encrypted SMB 3.x messages: building and opening TRANSFORM messages
// (MS-SMB2 2.2.41, 3.1.4.3, 3.2.5.1.1, 3.3.5.2.1.1), and their nonces.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/keys.hpp"
#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/transform.hpp"

namespace smbx::crypto {

using TransformNonce = std::array<std::uint8_t, 16>;  // the TRANSFORM_HEADER Nonce field

// Builds a whole TRANSFORM message: the 52-byte header (tag, Nonce field,
// OriginalMessageSize, Flags = Encrypted, SessionId) and the ciphertext of
// the plaintext SMB2 message (or compound chain, or compressed message).
// `nonce` is the Nonce field: nonce_size(cipher)..16 bytes, zero-padded to 16
// and written as given; the AEAD uses its first 11 (CCM) or 12 (GCM) bytes.
// Use a NonceGenerator: a nonce must never repeat under one key.
// Contract (a violation stops the process): cipher is not none, key is
// key_size(cipher) bytes, the plaintext fits OriginalMessageSize.
Bytes encrypt_message(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id, ByteView plaintext);
// The same, with the plaintext given in pieces (for example a WRITE header and
// its payload); they are gathered straight into the output frame.
Bytes encrypt_message(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id,
                      std::span<const ByteView> plaintext_pieces);

// The same without a second buffer: `frame` holds kTransformHeaderSize
// bytes of room (any content), then the plaintext; afterwards it is the whole
// TRANSFORM message, byte for byte what encrypt_message() returns. A server
// that builds its response after that much room seals an 8 MiB READ without
// copying it. Same contract as encrypt_message(), and frame.size() must be
// at least kTransformHeaderSize.
void encrypt_message_in_place(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id,
                              std::span<std::uint8_t> frame);

// Opens a TRANSFORM message: decodes and checks the header (a wire error names
// the bad field), then decrypts and verifies the tag (ErrorKind::crypto when
// the key, cipher or any byte of nonce, AAD, ciphertext or tag is wrong).
// Returns only authenticated plaintext. The caller checks what the plaintext
// holds (an SMB2 header whose SessionId matches, MS-SMB2 3.3.5.2.9).
Expected<Bytes> decrypt_message(Cipher cipher, ByteView key, ByteView frame);
// For a caller that decoded the frame first to find the session's key by
// TransformHeader.session_id.
Expected<Bytes> decrypt_message(Cipher cipher, ByteView key, const wire::TransformMessage& message);
// The same without a second buffer: the plaintext overwrites the ciphertext
// in `frame`, which `message` was decoded from (a 1 MiB READ response is then
// written once by the socket and once by the cipher, and never copied).
// Returns the plaintext, a part of `frame`; on failure that part is zeroed.
Expected<std::span<std::uint8_t>> decrypt_message_in_place(Cipher cipher, ByteView key,
                                                           const wire::TransformMessage& message,
                                                           std::span<std::uint8_t> frame);

// Nonces for one session's sending direction, never repeating: a 64-bit
// counter in bytes 0-7, then random bytes fixed for this generator up to the
// cipher's nonce size (bytes 8-10 for CCM, 8-11 for GCM; Samba does the
// same), the rest zero. After 2^64 - 1 nonces it refuses: the session must be
// re-established rather than reuse a nonce.
class NonceGenerator {
 public:
  explicit NonceGenerator(Cipher cipher);
  // Starts the counter at `first_counter` (tests of the exhaustion rule).
  NonceGenerator(Cipher cipher, std::uint64_t first_counter);

  Expected<TransformNonce> next();

 private:
  std::size_t nonce_size_;
  std::array<std::uint8_t, 4> random_part_{};
  std::uint64_t counter_;
  bool exhausted_ = false;
};

}  // namespace smbx::crypto
