#include "crypto/keys.hpp"

#include <algorithm>

#include "crypto/kdf.hpp"

namespace smbx::crypto {

std::string_view to_string(Cipher c) noexcept {
  switch (c) {
    case Cipher::none: return "none";
    case Cipher::aes128_ccm: return "AES-128-CCM";
    case Cipher::aes128_gcm: return "AES-128-GCM";
    case Cipher::aes256_ccm: return "AES-256-CCM";
    case Cipher::aes256_gcm: return "AES-256-GCM";
  }
  return "unknown cipher";
}

std::string_view to_string(SigningAlgorithm a) noexcept {
  switch (a) {
    case SigningAlgorithm::hmac_sha256: return "HMAC-SHA256";
    case SigningAlgorithm::aes_cmac: return "AES-CMAC";
    case SigningAlgorithm::aes_gmac: return "AES-GMAC";
  }
  return "unknown signing algorithm";
}

std::optional<Cipher> cipher_from_id(std::uint16_t id) noexcept {
  if (id >= 0x0001 && id <= 0x0004) return static_cast<Cipher>(id);
  return std::nullopt;
}

std::optional<SigningAlgorithm> signing_algorithm_from_id(std::uint16_t id) noexcept {
  if (id <= 0x0002) return static_cast<SigningAlgorithm>(id);
  return std::nullopt;
}

std::size_t key_size(Cipher c) noexcept {
  switch (c) {
    case Cipher::aes128_ccm:
    case Cipher::aes128_gcm: return 16;
    case Cipher::aes256_ccm:
    case Cipher::aes256_gcm: return 32;
    case Cipher::none: break;
  }
  return 0;
}

std::size_t nonce_size(Cipher c) noexcept {
  switch (c) {
    case Cipher::aes128_ccm:
    case Cipher::aes256_ccm: return 11;
    case Cipher::aes128_gcm:
    case Cipher::aes256_gcm: return 12;
    case Cipher::none: break;
  }
  return 0;
}

namespace {

constexpr std::size_t kSessionKeySize = 16;

// MS-SMB2 3.2.1.3: Session.SessionKey is the first 16 bytes of the GSS key,
// right-padded with zeros when the key is shorter.
Bytes session_key_of(ByteView gss_key) {
  Bytes key(kSessionKeySize, 0);
  std::copy_n(gss_key.begin(), std::min(gss_key.size(), kSessionKeySize), key.begin());
  return key;
}

// Session.FullSessionKey keeps the whole GSS key; it only differs from
// SessionKey when the key is longer than 16 bytes (Kerberos AES-256).
Bytes full_session_key_of(ByteView gss_key) {
  if (gss_key.size() < kSessionKeySize) return session_key_of(gss_key);
  return Bytes(gss_key.begin(), gss_key.end());
}

bool is_smb2x(wire::Dialect d) noexcept { return !wire::is_smb3(d); }

// MS-SMB2 3.1.4.2: the 3.0/3.0.2 labels use fixed strings as context; 3.1.1
// replaces the context with the preauth hash and renames the labels.
Bytes signing_key(wire::Dialect d, ByteView session_key, ByteView preauth_hash) {
  if (d == wire::Dialect::smb311) return kdf(session_key, with_nul("SMBSigningKey"), preauth_hash, 16);
  return kdf(session_key, with_nul("SMB2AESCMAC"), with_nul("SmbSign"), 16);
}

}  // namespace

SessionKeys derive_session_keys(wire::Dialect dialect, ByteView gss_key, Cipher cipher, ByteView preauth_hash) {
  const Bytes session_key = session_key_of(gss_key);
  if (is_smb2x(dialect)) return SessionKeys{session_key, {}, {}, session_key};

  SessionKeys keys;
  keys.signing = signing_key(dialect, session_key, preauth_hash);
  if (dialect != wire::Dialect::smb311) {
    // MS-SMB2 3.1.4.2: note the space in "ServerIn ", which makes it as long as "ServerOut".
    keys.encryption = kdf(session_key, with_nul("SMB2AESCCM"), with_nul("ServerIn "), 16);
    keys.decryption = kdf(session_key, with_nul("SMB2AESCCM"), with_nul("ServerOut"), 16);
    keys.application = kdf(session_key, with_nul("SMB2APP"), with_nul("SmbRpc"), 16);
    return keys;
  }
  keys.application = kdf(session_key, with_nul("SMBAppKey"), preauth_hash, 16);
  const std::size_t cipher_key_size = key_size(cipher);
  if (cipher_key_size == 0) return keys;
  // MS-SMB2 3.2.5.3.1: AES-256 cipher keys come from the full key with L = 256.
  const Bytes cipher_ki = cipher_key_size == 32 ? full_session_key_of(gss_key) : session_key;
  keys.encryption = kdf(cipher_ki, with_nul("SMBC2SCipherKey"), preauth_hash, cipher_key_size);
  keys.decryption = kdf(cipher_ki, with_nul("SMBS2CCipherKey"), preauth_hash, cipher_key_size);
  return keys;
}

SigningAlgorithm default_signing_algorithm(wire::Dialect dialect) noexcept {
  return is_smb2x(dialect) ? SigningAlgorithm::hmac_sha256 : SigningAlgorithm::aes_cmac;
}

Bytes derive_channel_signing_key(wire::Dialect dialect, ByteView binding_session_key,
                                 ByteView channel_preauth_hash) {
  const Bytes session_key = session_key_of(binding_session_key);
  if (is_smb2x(dialect)) return session_key;  // 2.x has no binding; the key is unchanged
  return signing_key(dialect, session_key, channel_preauth_hash);
}

}  // namespace smbx::crypto
