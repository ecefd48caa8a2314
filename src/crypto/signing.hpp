// SMB2 message signing (MS-SMB2 3.1.4.1 sign, 3.1.5.1 verify): HMAC-SHA256
// (2.x), AES-128-CMAC (3.x) and AES-128-GMAC (3.1.1).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/keys.hpp"
#include "wire/bytes.hpp"

namespace smbx::crypto {

inline constexpr std::size_t kSignatureSize = 16;
inline constexpr std::size_t kGmacNonceSize = 12;
using Signature = std::array<std::uint8_t, kSignatureSize>;
using GmacNonce = std::array<std::uint8_t, kGmacNonceSize>;

// The MAC primitives, over the concatenation of `pieces` (so a large message
// is never copied to zero or prepend anything).
std::array<std::uint8_t, 32> hmac_sha256(ByteView key, std::span<const ByteView> pieces);
// RFC 4493; key is 16 bytes.
Signature aes_cmac(ByteView key, std::span<const ByteView> pieces);
// RFC 4543: AES-128-GCM with the pieces as AAD and no plaintext; the tag is the
// MAC. key is 16 bytes.
Signature aes_gmac(ByteView key, const GmacNonce& nonce, std::span<const ByteView> pieces);

// MS-SMB2 3.1.4.1: MessageId (LE) in bytes 0-7, then a 32-bit LE value with
// bit 0 set for a message from the server (SMB2_FLAGS_SERVER_TO_REDIR) and
// bit 1 set for a CANCEL request. `message` is at least a 64-byte header.
GmacNonce gmac_nonce(ByteView message);

// The signature of one SMB2 message: its header, body and, for a compound
// member, the padding up to the next member. The Signature field (bytes 48-63)
// counts as zero whatever it holds; the message is not copied. `message` must
// be at least a 64-byte header and `key` the algorithm's key (16 bytes for
// CMAC and GMAC; Session.SessionKey for HMAC-SHA256).
Signature compute_signature(SigningAlgorithm algorithm, ByteView key, ByteView message);

// The same over a message given as pieces, in order, so that a WRITE is signed
// where its data lies (the caller's buffer) and sent with writev. The first
// piece holds the whole 64-byte header: the Signature field and the GMAC
// nonce are read from it.
Signature compute_signature(SigningAlgorithm algorithm, ByteView key, std::span<const ByteView> pieces);

// Sets SMB2_FLAGS_SIGNED and writes the signature into the Signature field.
void sign_message(SigningAlgorithm algorithm, ByteView key, std::span<std::uint8_t> message);
// The same for the message `head` followed by `rest`: the flag and signature
// go into `head`, which holds at least the 64-byte header.
void sign_message(SigningAlgorithm algorithm, ByteView key, std::span<std::uint8_t> head,
                  std::span<const ByteView> rest);

// True when the Signature field holds the message's signature (compared in
// constant time). Does not look at SMB2_FLAGS_SIGNED: whether a message had to
// be signed is the caller's rule. A message shorter than a header is false.
bool verify_signature(SigningAlgorithm algorithm, ByteView key, ByteView message);

}  // namespace smbx::crypto
