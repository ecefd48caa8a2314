#include "crypto/transform.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/openssl.hpp"
#include "crypto/random.hpp"
#include "wire/writer.hpp"

namespace smbx::crypto {

namespace {

constexpr std::size_t kTagOffset = 4;  // MS-SMB2 2.2.41: Signature follows ProtocolId

Error crypto_error(std::string detail) {
  return Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0,
               .action = "decrypt TRANSFORM message", .detail = std::move(detail)};
}

}  // namespace

Bytes encrypt_message(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id, ByteView plaintext) {
  const ByteView pieces[] = {plaintext};
  return encrypt_message(cipher, key, nonce, session_id, pieces);
}

Bytes encrypt_message(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id,
                      std::span<const ByteView> plaintext_pieces) {
  // The pieces behind room for the header, then sealed where they lie.
  std::size_t size = 0;
  for (ByteView piece : plaintext_pieces) size += piece.size();
  Bytes frame;
  frame.reserve(wire::kTransformHeaderSize + size);
  frame.resize(wire::kTransformHeaderSize);
  for (ByteView piece : plaintext_pieces) frame.insert(frame.end(), piece.begin(), piece.end());
  encrypt_message_in_place(cipher, key, nonce, session_id, frame);
  return frame;
}

void encrypt_message_in_place(Cipher cipher, ByteView key, ByteView nonce, std::uint64_t session_id,
                              std::span<std::uint8_t> frame) {
  detail::require(cipher != Cipher::none, "encrypting with no cipher");
  detail::require(nonce.size() >= nonce_size(cipher) && nonce.size() <= 16, "TRANSFORM nonce of the wrong size");
  detail::require(frame.size() >= wire::kTransformHeaderSize, "no room for the TRANSFORM header");
  const std::size_t size = frame.size() - wire::kTransformHeaderSize;
  detail::require(size <= std::numeric_limits<std::uint32_t>::max(), "message too large for OriginalMessageSize");

  wire::TransformHeader header;
  std::copy(nonce.begin(), nonce.end(), header.nonce.begin());
  header.original_message_size = static_cast<std::uint32_t>(size);
  header.session_id = session_id;
  Bytes encoded_header;
  encoded_header.reserve(wire::kTransformHeaderSize);
  wire::Writer w{encoded_header};
  wire::encode_transform_header(w, header);  // the tag is filled in below
  detail::require(encoded_header.size() == wire::kTransformHeaderSize, "TRANSFORM header of the wrong size");
  std::copy(encoded_header.begin(), encoded_header.end(), frame.begin());

  const std::span<std::uint8_t> body = frame.subspan(wire::kTransformHeaderSize);
  const ByteView aad{frame.data() + wire::kTransformAadOffset, wire::kTransformAadSize};
  const AeadTag tag = aead_encrypt(cipher, key, ByteView{header.nonce}.first(nonce_size(cipher)), aad, body, body);
  std::copy(tag.begin(), tag.end(), frame.begin() + kTagOffset);
}

Expected<Bytes> decrypt_message(Cipher cipher, ByteView key, ByteView frame) {
  auto message = wire::decode_transform(frame);
  if (!message) {
    Error e = std::move(message).error();
    e.action = "decrypt TRANSFORM message";
    return e;
  }
  return decrypt_message(cipher, key, *message);
}

namespace {

Expected<void> check_key(Cipher cipher, ByteView key) {
  if (cipher == Cipher::none) return crypto_error("no cipher was negotiated");
  if (key.size() != key_size(cipher))
    return crypto_error(std::string{to_string(cipher)} + " needs a " + std::to_string(key_size(cipher)) +
                        "-byte key, not " + std::to_string(key.size()));
  return {};
}

Expected<void> open(Cipher cipher, ByteView key, const wire::TransformMessage& message, std::span<std::uint8_t> out) {
  const ByteView nonce = ByteView{message.header.nonce}.first(nonce_size(cipher));
  if (!aead_decrypt(cipher, key, nonce, message.aad, message.ciphertext, message.header.signature, out))
    return crypto_error(std::string{to_string(cipher)} + " authentication failed for session " +
                        hex_id(message.header.session_id));
  return {};
}

}  // namespace

Expected<Bytes> decrypt_message(Cipher cipher, ByteView key, const wire::TransformMessage& message) {
  if (auto ok = check_key(cipher, key); !ok) return Unexpected{ok.error()};
  Bytes plaintext(message.ciphertext.size());
  if (auto ok = open(cipher, key, message, plaintext); !ok) return Unexpected{ok.error()};
  return plaintext;
}

Expected<std::span<std::uint8_t>> decrypt_message_in_place(Cipher cipher, ByteView key,
                                                           const wire::TransformMessage& message,
                                                           std::span<std::uint8_t> frame) {
  if (auto ok = check_key(cipher, key); !ok) return Unexpected{ok.error()};
  // The ciphertext must be a part of `frame`: it is overwritten through it.
  const auto* begin = message.ciphertext.data();
  detail::require(message.ciphertext.empty() ||
                      (begin >= frame.data() && begin + message.ciphertext.size() <= frame.data() + frame.size()),
                  "TRANSFORM message decoded from another buffer than the one decrypted in place");
  const std::span<std::uint8_t> text =
      message.ciphertext.empty() ? frame.first(0) : frame.subspan(static_cast<std::size_t>(begin - frame.data()),
                                                                  message.ciphertext.size());
  if (auto ok = open(cipher, key, message, text); !ok) return Unexpected{ok.error()};
  return text;
}

NonceGenerator::NonceGenerator(Cipher cipher) : NonceGenerator(cipher, 1) {}

NonceGenerator::NonceGenerator(Cipher cipher, std::uint64_t first_counter)
    : nonce_size_{nonce_size(cipher)}, counter_{first_counter} {
  detail::require(cipher != Cipher::none, "nonces for no cipher");
  random_bytes(std::span{random_part_}.first(nonce_size_ - 8));
}

Expected<TransformNonce> NonceGenerator::next() {
  if (exhausted_)
    return Error{.kind = ErrorKind::crypto, .wire = WireError::none, .status = 0,
                 .action = "make an encryption nonce",
                 .detail = "the 64-bit nonce counter is used up; the session must be set up again"};
  TransformNonce nonce{};
  store_le64(nonce.data(), counter_);
  std::copy_n(random_part_.begin(), nonce_size_ - 8, nonce.begin() + 8);
  if (counter_ == std::numeric_limits<std::uint64_t>::max())
    exhausted_ = true;
  else
    ++counter_;
  return nonce;
}

}  // namespace smbx::crypto
