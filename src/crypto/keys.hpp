// Which keys a session has and how they come from the GSS session key
// (MS-SMB2 3.1.4.2, 3.2.5.3.1, 3.3.5.5.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::crypto {

// MS-SMB2 2.2.3.1.2 Ciphers; `none` is "not negotiated" and never on the wire.
enum class Cipher : std::uint16_t {
  none = 0x0000,
  aes128_ccm = 0x0001,
  aes128_gcm = 0x0002,
  aes256_ccm = 0x0003,
  aes256_gcm = 0x0004,
};

// MS-SMB2 2.2.3.1.7 SigningAlgorithms.
enum class SigningAlgorithm : std::uint16_t {
  hmac_sha256 = 0x0000,
  aes_cmac = 0x0001,
  aes_gmac = 0x0002,
};

std::string_view to_string(Cipher c) noexcept;            // "AES-128-GCM"
std::string_view to_string(SigningAlgorithm a) noexcept;  // "AES-GMAC"
// The wire ids a peer may send; anything else (including 0) is nullopt.
std::optional<Cipher> cipher_from_id(std::uint16_t id) noexcept;
std::optional<SigningAlgorithm> signing_algorithm_from_id(std::uint16_t id) noexcept;

// 16 for the AES-128 ciphers, 32 for AES-256, 0 for none.
std::size_t key_size(Cipher c) noexcept;
// Bytes of the TRANSFORM_HEADER Nonce field the cipher uses (MS-SMB2 2.2.41):
// 11 for CCM, 12 for GCM, 0 for none.
std::size_t nonce_size(Cipher c) noexcept;

// A session's keys, named from the client's side: `encryption` protects
// client-to-server messages and `decryption` server-to-client ones, so a
// server encrypts with `decryption` and decrypts with `encryption`. Empty
// vectors mean "this dialect or cipher has no such key".
struct SessionKeys {
  Bytes signing;      // Session.SigningKey (16 bytes)
  Bytes encryption;   // Session.EncryptionKey, C2S (key_size(cipher) bytes)
  Bytes decryption;   // Session.DecryptionKey, S2C
  Bytes application;  // Session.ApplicationKey (16 bytes)
};

// Derives a session's keys once authentication succeeds (MS-SMB2 3.2.5.3.1):
// - 2.0.2 / 2.1: SigningKey = ApplicationKey = Session.SessionKey, no KDF, no
//   encryption keys.
// - 3.0 / 3.0.2: the fixed labels and contexts; the cipher is always
//   AES-128-CCM, so `cipher` is ignored and the cipher keys are always made.
// - 3.1.1: the labels with `preauth_hash` (the session's 64-byte
//   PreauthIntegrityHashValue) as context; cipher keys only when `cipher` is
//   not none, 32 bytes from the full key for the AES-256 ciphers.
// `session_key` is the whole GSS key: its first 16 bytes (zero-padded when
// shorter) are Session.SessionKey; all of it is Session.FullSessionKey.
SessionKeys derive_session_keys(wire::Dialect dialect, ByteView session_key, Cipher cipher,
                                ByteView preauth_hash);

// HMAC-SHA256 for 2.x; AES-CMAC for 3.x, which is also what 3.1.1 uses when no
// SIGNING_CAPABILITIES context was negotiated (MS-SMB2 3.2.5.2).
SigningAlgorithm default_signing_algorithm(wire::Dialect dialect) noexcept;

// Channel.SigningKey of a channel bound to an existing session (MS-SMB2
// 3.2.5.3.3, 3.3.5.5.3): derived like Session.SigningKey but from the session
// key of the *binding* authentication and, in 3.1.1, from the binding
// connection's own preauth hash. The session's other keys do not change.
Bytes derive_channel_signing_key(wire::Dialect dialect, ByteView binding_session_key,
                                 ByteView channel_preauth_hash);

}  // namespace smbx::crypto
