// SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41): the 52 bytes before an encrypted message.
#pragma once

#include <array>
#include <cstdint>

#include "wire/types.hpp"

namespace smbx::wire {

inline constexpr std::size_t kTransformHeaderSize = 52;
// MS-SMB2 2.2.41: the AEAD's associated data is the header from Nonce on.
inline constexpr std::size_t kTransformAadOffset = 20;
inline constexpr std::size_t kTransformAadSize = 32;
// 3.1.1 Flags / 3.0.x EncryptionAlgorithm: the value is 0x0001 in every dialect.
inline constexpr std::uint16_t kTransformFlagEncrypted = 0x0001;

struct TransformHeader {
  std::array<std::uint8_t, 16> signature{};  // the AEAD tag
  std::array<std::uint8_t, 16> nonce{};      // CCM uses 11 bytes, GCM 12; the rest is zero
  std::uint32_t original_message_size = 0;
  std::uint16_t flags = kTransformFlagEncrypted;
  std::uint64_t session_id = 0;
};

// Decodes the header of a transform message and checks that the ciphertext
// after it is exactly OriginalMessageSize bytes (MS-SMB2 3.2.5.1.1).
struct TransformMessage {
  TransformHeader header;
  ByteView aad;         // 32 bytes of the input
  ByteView ciphertext;  // OriginalMessageSize bytes of the input
};
Expected<TransformMessage> decode_transform(ByteView frame);
void encode_transform_header(Writer& w, const TransformHeader& h);

}  // namespace smbx::wire
