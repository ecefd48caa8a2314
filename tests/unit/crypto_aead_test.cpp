#include <doctest/doctest.h>

#include <string_view>

#include "crypto/aead.hpp"
#include "support/test_data.hpp"

using namespace smbx;
using namespace smbx::crypto;

namespace {

struct Vector {
  std::string_view source;
  Cipher cipher;
  std::string_view key, nonce, aad, plaintext, ciphertext, tag;
};

// Standard vectors with SMB's tag size (16 bytes) and, for CCM, mostly SMB's
// 11-byte nonce, which RFC 3610 (13-byte nonces) does not have.
constexpr Vector kVectors[] = {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 2-4 (AES-128).
    {"GCM spec test case 2", Cipher::aes128_gcm, "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {"GCM spec test case 3", Cipher::aes128_gcm, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM spec test case 4", Cipher::aes128_gcm, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    // The same document, test cases 14-16 (AES-256).
    {"GCM spec test case 14", Cipher::aes256_gcm, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM spec test case 15", Cipher::aes256_gcm, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM spec test case 16", Cipher::aes256_gcm, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    // Samba lib/crypto/aes_ccm_128_test.c (11-byte nonce, 16-byte tag); the
    // first is an SMB2 IOCTL encrypted the way a TRANSFORM does it.
    {"Samba AES-CCM-128 vector 1", Cipher::aes128_ccm, "8bf9fbc2b8149484ff11ab1f3a544ff6", "010000000000000077f7a8",
     "010000000000000077f7a80000000000a8000000000001004100002c00980000",
     "fe534d4240000100000000000b00811f00000000000000000600000000000000"
     "00000000010000004100002c0098000000000000000000000000000000000000"
     "3900000094010600ffffffffffffffffffffffffffffffff7800000030000000"
     "000000007800000000000000ffff0000010000000000000003005c0031003700"
     "32002e00330031002e0039002e003100380033005c006e00650074006c006f00"
     "67006f006e000000",
     "25985364bf9af90eb0b9c8fb55b7c446780f310f1ec4677726bfbf34e38e6408"
     "057ee228814f11cbaab794a79f7a1f782de73b7477985360a02d35a7a347abf7"
     "9f18dd8687767423bb08f18642b6efee8b1543d83091af5952f58bb4bd89ff6b"
     "0206e7170481c7bc61f06653d0cf10f7c78380389382c2767b8bf34d687a5c3d"
     "4f783f926f7755c02d44c30848c69cfdd8e54395f1881611e5502285870a7179"
     "068923105190c837",
     "3c11f652f8ea5600c8607d2e0feafd42"},
    {"Samba AES-CCM-128 vector 2", Cipher::aes128_ccm, "f9fdca4ac64fe7f014de0f43039c7571", "5a8aa485c316e947125478",
     "3796cf51b8726652a4204733b8fbb047cf00fb91a9837e22ec22b1a268f88e2c",
     "a265480ca88d5f536db0dc6abc40faf0d05be7a9669777682345647586786983",
     "65f8d8422006fb77fb7ccefdfff93729b3efcb06a0faf3a2abab485723373f53", "2c62bd82ad231887a7b326e1e045bc91"},
    {"Samba AES-CCM-128 vector 9", Cipher::aes128_ccm, "00000000000000000000000000000000", "0000000000000000000000",
     "", "00", "2e", "61787d2c432a58293b73d01154e61b6b"},
    // Wycheproof aes_ccm_test.json, ivSize 88 / tagSize 128 groups.
    {"Wycheproof AES-CCM tcId 221 (AAD only)", Cipher::aes128_ccm, "7a970406a747c2327ecbc8b107a190cd",
     "99b079de952d60da0d034b", "2f080b2deb6644ef", "", "", "9dca9ba441013ce9fc0ac3dbf414626d"},
    {"Wycheproof AES-CCM tcId 223", Cipher::aes128_ccm, "82841ef7fbae35546525fbbebf4718fb", "b5cd818f73a36ed025b6cf",
     "44f48c2a20456358", "8c2c823bb39941b1c6b75bbc82f05ba4", "b287c637a7554362c80d6b24d50ddfb3",
     "3967277da0f856f8f0ad49282894d2bb"},
    {"Wycheproof AES-CCM tcId 292 (empty)", Cipher::aes256_ccm,
     "46948c6d69845499104d5dc2fae44880cfe7d0bcbcee57efc0133c266b6d2621", "05f715fd0a5603dd84af76", "", "", "",
     "11e678c0b260c5a3ea70f6a46e4ef436"},
    {"Wycheproof AES-CCM tcId 295", Cipher::aes256_ccm,
     "60d6841e9e6218a2c8605a7794e74fb215dcf3a70a0015d497ed16564f2a83a0", "4c93f591af92f16596554e", "7cb0eb9aa21fe859",
     "c0d1e635586b0ef835c01479a32175a3", "0c266113544d7a901ce721e1ead6d8f9", "8a149eaa05c8722b2663c345a6a5418c"},
    {"Wycheproof AES-CCM tcId 297", Cipher::aes256_ccm,
     "b3a06e00100ffc42dbdd5317f43d2b48f8c11e4bd6e9e3edab58e9944c559278", "f3d24b362bf12b84b8a66a", "0242b5e804a79188",
     "03b03b45f6f320b99d8158ff8b00f0ad92", "d127fd42b2ca4beca9f9ac86b63a1622ef", "8a499aab9e8f4096da603c6ccfb9ac4a"},
    // A 13-byte nonce (ivSize 104): other CCM nonce lengths are driven correctly too.
    {"Wycheproof AES-CCM tcId 229", Cipher::aes128_ccm, "e74b73c2ad93d38dd4432d6e51d3e3ec",
     "06ee28ea532ff5aae6b0f6a28a", "10bc9864f1332e41", "aad5d758041e5443ede7e9bbac1db490",
     "d3ed6bb55d98b00e1b76938a1c6bd5ed", "22201e4eb2a42291a7d57e357082d77e"},
};

AeadTag tag_of(std::string_view hex) { return to_array<kAeadTagSize>(test::hex(hex)); }

}  // namespace

TEST_CASE("AEAD encryption reproduces the standard GCM and CCM vectors") {
  for (const auto& v : kVectors) {
    CAPTURE(v.source);
    const Bytes plaintext = test::hex(v.plaintext);
    Bytes ciphertext(plaintext.size());
    const AeadTag tag =
        aead_encrypt(v.cipher, test::hex(v.key), test::hex(v.nonce), test::hex(v.aad), plaintext, ciphertext);
    CHECK(to_hex(ciphertext) == v.ciphertext);
    CHECK(to_hex(tag) == v.tag);
  }
}

TEST_CASE("AEAD decryption of the standard vectors authenticates and returns the plaintext") {
  for (const auto& v : kVectors) {
    CAPTURE(v.source);
    const Bytes ciphertext = test::hex(v.ciphertext);
    Bytes plaintext(ciphertext.size());
    CHECK(aead_decrypt(v.cipher, test::hex(v.key), test::hex(v.nonce), test::hex(v.aad), ciphertext, tag_of(v.tag),
                       plaintext));
    CHECK(to_hex(plaintext) == v.plaintext);
  }
}

TEST_CASE("AEAD works in place, the way TRANSFORM messages are built") {
  for (const auto& v : kVectors) {
    CAPTURE(v.source);
    Bytes buffer = test::hex(v.plaintext);
    const AeadTag tag = aead_encrypt(v.cipher, test::hex(v.key), test::hex(v.nonce), test::hex(v.aad), buffer, buffer);
    CHECK(to_hex(buffer) == v.ciphertext);
    CHECK(to_hex(tag) == v.tag);
    CHECK(aead_decrypt(v.cipher, test::hex(v.key), test::hex(v.nonce), test::hex(v.aad), buffer, tag, buffer));
    CHECK(to_hex(buffer) == v.plaintext);
  }
}

TEST_CASE("a wrong tag, key, nonce, AAD or ciphertext byte fails decryption and leaves no plaintext") {
  for (const auto& v : kVectors) {
    CAPTURE(v.source);
    const Bytes key = test::hex(v.key), nonce = test::hex(v.nonce), aad = test::hex(v.aad);
    const Bytes ciphertext = test::hex(v.ciphertext);
    const AeadTag tag = tag_of(v.tag);
    auto rejects = [&](ByteView k, ByteView n, ByteView a, ByteView c, const AeadTag& t) {
      Bytes plaintext(c.size(), 0x5A);
      const bool ok = aead_decrypt(v.cipher, k, n, a, c, t, plaintext);
      return !ok && plaintext == Bytes(c.size(), 0);
    };
    AeadTag bad_tag = tag;
    bad_tag[15] ^= 0x01;
    CHECK(rejects(key, nonce, aad, ciphertext, bad_tag));
    Bytes bad_key = key;
    bad_key[0] ^= 0x01;
    CHECK(rejects(bad_key, nonce, aad, ciphertext, tag));
    Bytes bad_nonce = nonce;
    bad_nonce.back() ^= 0x01;
    CHECK(rejects(key, bad_nonce, aad, ciphertext, tag));
    Bytes bad_aad = aad;
    bad_aad.push_back(0);  // also covers "AAD where there was none"
    CHECK(rejects(key, nonce, bad_aad, ciphertext, tag));
    if (!ciphertext.empty()) {
      Bytes bad_ciphertext = ciphertext;
      bad_ciphertext[ciphertext.size() / 2] ^= 0x80;
      CHECK(rejects(key, nonce, aad, bad_ciphertext, tag));
    }
  }
}

TEST_CASE("the four ciphers round-trip a message and give different ciphertexts") {
  const Bytes message = test::hex("fe534d424000010000000000090001000800000000000000050000000000000000");
  const Bytes aad(32, 0x11);
  Bytes previous;
  for (Cipher c : {Cipher::aes128_ccm, Cipher::aes128_gcm, Cipher::aes256_ccm, Cipher::aes256_gcm}) {
    CAPTURE(static_cast<int>(c));
    const Bytes key(key_size(c), 0x42);
    const Bytes nonce(nonce_size(c), 0x07);
    Bytes ciphertext(message.size());
    const AeadTag tag = aead_encrypt(c, key, nonce, aad, message, ciphertext);
    CHECK(ciphertext != message);
    CHECK(ciphertext != previous);
    previous = ciphertext;
    Bytes plaintext(ciphertext.size());
    CHECK(aead_decrypt(c, key, nonce, aad, ciphertext, tag, plaintext));
    CHECK(plaintext == message);
  }
}
