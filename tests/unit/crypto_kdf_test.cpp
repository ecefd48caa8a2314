#include <doctest/doctest.h>

#include <string>

#include "crypto/kdf.hpp"
#include "crypto/keys.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::crypto;
using wire::Dialect;

namespace {

// The preauth hash of the Microsoft 3.1.1 encryption vector (blog "SMB 3.1.1
// Encryption in Windows 10", 2015-09-09).
constexpr std::string_view kMs311PreauthHash =
    "b23f3cbfd69487d9832b79b1594a367cdd950909b774c3a4c412b4fcea9edddb"
    "a7db256ba2ea30e977f11f9b113247578e0e915c6d2a513b8f2fca5707dc8770";
constexpr std::string_view kMs311SessionKey = "419fddf34c1e001909d362ae7fb6af79";

}  // namespace

TEST_CASE("the KDF with the 3.0 labels gives the Microsoft 3.0 encryption and decryption keys") {
  // Blog "Encryption in SMB 3.0: A protocol perspective" (2012-10-05).
  const Bytes session_key = test::hex("b4546771b515f766a86735532dd6c4f0");
  CHECK(to_hex(kdf(session_key, with_nul("SMB2AESCCM"), with_nul("ServerIn "), 16)) ==
        "261b72350558f2e9dcf613070383edbf");
  CHECK(to_hex(kdf(session_key, with_nul("SMB2AESCCM"), with_nul("ServerOut"), 16)) ==
        "8fe2b57ec34d2db5b1a9727f526bbdb5");
}

TEST_CASE("the KDF with L = 256 gives 32 bytes that are not an extension of the 16-byte output") {
  // L is part of the HMAC input (SP800-108 5.1), so the first 16 bytes differ too.
  const Bytes key = test::hex(kMs311SessionKey);
  const Bytes context = test::hex(kMs311PreauthHash);
  const Bytes long_key = kdf(key, with_nul("SMBC2SCipherKey"), context, 32);
  CHECK(to_hex(long_key) == "cb61eb110446fbcaeb6a83beedb92779130b833a706e5b3495879d52195b90ed");
  CHECK(to_hex(ByteView{long_key}.first(16)) != to_hex(kdf(key, with_nul("SMBC2SCipherKey"), context, 16)));
}

TEST_CASE("with_nul keeps the terminating NUL and the space in \"ServerIn \"") {
  CHECK(to_hex(with_nul("SmbSign")) == "536d625369676e00");
  CHECK(with_nul("ServerIn ").size() == with_nul("ServerOut").size());
}

TEST_CASE("3.0 session keys reproduce the Microsoft 3.0 vector whatever cipher is passed") {
  for (Cipher cipher : {Cipher::none, Cipher::aes128_ccm}) {
    CAPTURE(static_cast<int>(cipher));
    const auto keys = derive_session_keys(Dialect::smb300, test::hex("b4546771b515f766a86735532dd6c4f0"), cipher, {});
    CHECK(to_hex(keys.encryption) == "261b72350558f2e9dcf613070383edbf");
    CHECK(to_hex(keys.decryption) == "8fe2b57ec34d2db5b1a9727f526bbdb5");
  }
}

TEST_CASE("3.1.1 AES-128-GCM session keys reproduce the Microsoft 3.1.1 vector") {
  const auto keys = derive_session_keys(Dialect::smb311, test::hex(kMs311SessionKey), Cipher::aes128_gcm,
                                        test::hex(kMs311PreauthHash));
  CHECK(to_hex(keys.encryption) == "a2f5e80e5d59103034f32e52f698e5ec");
  CHECK(to_hex(keys.decryption) == "748c50868c90f302962a5c35f5f9a8bf");
  CHECK(keys.signing.size() == 16);
  CHECK(keys.application.size() == 16);
}

TEST_CASE("3.1.1 AES-256 cipher keys are 32 bytes with L = 256 while signing stays 16 bytes") {
  const auto keys = derive_session_keys(Dialect::smb311, test::hex(kMs311SessionKey), Cipher::aes256_gcm,
                                        test::hex(kMs311PreauthHash));
  CHECK(to_hex(keys.encryption) == "cb61eb110446fbcaeb6a83beedb92779130b833a706e5b3495879d52195b90ed");
  CHECK(keys.decryption.size() == 32);
  const auto aes128 = derive_session_keys(Dialect::smb311, test::hex(kMs311SessionKey), Cipher::aes128_gcm,
                                          test::hex(kMs311PreauthHash));
  CHECK(keys.signing == aes128.signing);
  CHECK(keys.application == aes128.application);
}

TEST_CASE("a 32-byte GSS key signs with its first 16 bytes and encrypts AES-256 with all 32") {
  // MS-SMB2 3.2.5.3.1: Session.SessionKey is the first 16 bytes of the GSS key;
  // the AES-256 cipher keys use Session.FullSessionKey.
  const Bytes gss_key = test::hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const Bytes hash = test::hex(kMs311PreauthHash);
  const auto keys = derive_session_keys(Dialect::smb311, gss_key, Cipher::aes256_ccm, hash);
  const ByteView first16 = ByteView{gss_key}.first(16);
  CHECK(keys.signing == kdf(first16, with_nul("SMBSigningKey"), hash, 16));
  CHECK(keys.application == kdf(first16, with_nul("SMBAppKey"), hash, 16));
  CHECK(keys.encryption == kdf(gss_key, with_nul("SMBC2SCipherKey"), hash, 32));
  CHECK(keys.decryption == kdf(gss_key, with_nul("SMBS2CCipherKey"), hash, 32));
  // AES-128 cipher keys use only the 16-byte Session.SessionKey.
  const auto keys128 = derive_session_keys(Dialect::smb311, gss_key, Cipher::aes128_ccm, hash);
  CHECK(keys128.encryption == kdf(first16, with_nul("SMBC2SCipherKey"), hash, 16));
}

TEST_CASE("3.1.1 with no cipher negotiated has no cipher keys") {
  const auto keys = derive_session_keys(Dialect::smb311, test::hex(kMs311SessionKey), Cipher::none,
                                        test::hex(kMs311PreauthHash));
  CHECK(keys.encryption.empty());
  CHECK(keys.decryption.empty());
  CHECK(keys.signing.size() == 16);
}

TEST_CASE("the keys derived from each capture's session key match the digest's table") {
  SUBCASE("smb311-signed-ops") {
    const auto keys = derive_session_keys(
        Dialect::smb311, test::hex("bc7299e3fe14da2ec265884d882a5d13"), Cipher::aes128_gcm,
        test::hex("184657c2d0216722e78b95555a827d445a251934d1262b8371184a92f4f082a6"
                  "c0a66ca86d7800fa9a2edca2400094268881c131eca6656f9bfd7faef9b71cd7"));
    CHECK(to_hex(keys.signing) == "5e7be6c85ffa4a812128678d2bc9a7d4");
    CHECK(to_hex(keys.encryption) == "9a46cf6445708d5b8a60aaa0b9f7ecc8");
    CHECK(to_hex(keys.decryption) == "ce7b58c7874bf175e6dd68e26389d0d4");
  }
  SUBCASE("smb311-encrypted") {
    const auto keys = derive_session_keys(
        Dialect::smb311, test::hex("4d0268b0ed6a3a656b0d9d27e621b64d"), Cipher::aes128_gcm,
        test::hex("d7ec1c2c8231efd3bb53d71a9657033767166d6351529bc14751b6a29c4b0bd6"
                  "e185370b6561ebaea0121e625434494e15e4b4b320c08141cfdf77cb6ab29c6c"));
    CHECK(to_hex(keys.signing) == "7736f657ef7d40b5d86ed842af8abedd");
    CHECK(to_hex(keys.encryption) == "92ba6d2cff0ea30bf80775d9dc779655");
    CHECK(to_hex(keys.decryption) == "3ed711d841d4712d7531eae9fe161f69");
  }
  SUBCASE("smb302-signed") {
    const auto keys =
        derive_session_keys(Dialect::smb302, test::hex("b9193fb54cd679f7ca3955471fff836d"), Cipher::aes128_ccm, {});
    CHECK(to_hex(keys.signing) == "eba1006a95cecce3ee7c0a552cebd45a");
    CHECK(to_hex(keys.encryption) == "bfd64e5e8016725e5af285f36eb60675");
    CHECK(to_hex(keys.decryption) == "fcacac4267b05f0304e988fd58c954db");
    CHECK(to_hex(keys.application) == "b4c82e6169b5b58c95d645cc2f4f9099");
  }
}

TEST_CASE("2.x keys are the session key itself: no KDF, no encryption") {
  for (Dialect d : {Dialect::smb202, Dialect::smb210}) {
    CAPTURE(static_cast<int>(d));
    const auto keys = derive_session_keys(d, test::hex("b9193fb54cd679f7ca3955471fff836d"), Cipher::aes128_gcm, {});
    CHECK(to_hex(keys.signing) == "b9193fb54cd679f7ca3955471fff836d");
    CHECK(to_hex(keys.application) == "b9193fb54cd679f7ca3955471fff836d");
    CHECK(keys.encryption.empty());
    CHECK(keys.decryption.empty());
  }
}

TEST_CASE("Session.SessionKey is the first 16 bytes of the GSS key, zero-padded when shorter") {
  // MS-SMB2 3.2.1.3.
  CHECK(to_hex(derive_session_keys(Dialect::smb210, test::hex("0102030405"), Cipher::none, {}).signing) ==
        "01020304050000000000000000000000");
  CHECK(to_hex(derive_session_keys(Dialect::smb210, test::hex("000102030405060708090a0b0c0d0e0f1011"), Cipher::none,
                                   {})
                   .signing) == "000102030405060708090a0b0c0d0e0f");
  const auto padded = derive_session_keys(Dialect::smb302, test::hex("0102030405"), Cipher::none, {});
  CHECK(padded.signing ==
        kdf(test::hex("01020304050000000000000000000000"), with_nul("SMB2AESCMAC"), with_nul("SmbSign"), 16));
}

TEST_CASE("a bound channel's signing key comes from the binding key, not the session's") {
  // MS-SMB2 3.2.5.3.3: the binding authentication's key and, in 3.1.1, the
  // binding connection's preauth hash.
  const Bytes binding_key = test::hex("4d0268b0ed6a3a656b0d9d27e621b64d");
  const Bytes channel_hash = test::hex(kMs311PreauthHash);
  CHECK(derive_channel_signing_key(Dialect::smb311, binding_key, channel_hash) ==
        derive_session_keys(Dialect::smb311, binding_key, Cipher::none, channel_hash).signing);
  CHECK(to_hex(derive_channel_signing_key(Dialect::smb302, test::hex("b9193fb54cd679f7ca3955471fff836d"), {})) ==
        "eba1006a95cecce3ee7c0a552cebd45a");
  CHECK(derive_channel_signing_key(Dialect::smb311, binding_key, channel_hash) !=
        derive_channel_signing_key(Dialect::smb311, binding_key, test::hex(kMs311SessionKey)));
}

TEST_CASE("2.x signs with HMAC-SHA256 and 3.x with AES-CMAC unless 3.1.1 negotiates otherwise") {
  CHECK(default_signing_algorithm(Dialect::smb202) == SigningAlgorithm::hmac_sha256);
  CHECK(default_signing_algorithm(Dialect::smb210) == SigningAlgorithm::hmac_sha256);
  CHECK(default_signing_algorithm(Dialect::smb300) == SigningAlgorithm::aes_cmac);
  CHECK(default_signing_algorithm(Dialect::smb302) == SigningAlgorithm::aes_cmac);
  CHECK(default_signing_algorithm(Dialect::smb311) == SigningAlgorithm::aes_cmac);
}

TEST_CASE("cipher and signing ids from the wire map to the enums and unknown ids are refused") {
  CHECK(cipher_from_id(0x0001) == Cipher::aes128_ccm);
  CHECK(cipher_from_id(0x0004) == Cipher::aes256_gcm);
  CHECK_FALSE(cipher_from_id(0x0000).has_value());
  CHECK_FALSE(cipher_from_id(0x0005).has_value());
  CHECK(signing_algorithm_from_id(0x0002) == SigningAlgorithm::aes_gmac);
  CHECK_FALSE(signing_algorithm_from_id(0x0003).has_value());
  CHECK(key_size(Cipher::aes256_ccm) == 32);
  CHECK(nonce_size(Cipher::aes256_ccm) == 11);
  CHECK(nonce_size(Cipher::aes128_gcm) == 12);
}
