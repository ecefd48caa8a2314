// The primitives NTLM is built on (MS-NLMP 6): MD4, MD5, HMAC-MD5 and RC4.
//
// MD4 and RC4 live only in OpenSSL 3's "legacy" provider. They are fetched
// from a private OSSL_LIB_CTX that has "legacy" and "default" loaded, once and
// thread-safely, so the rest of the process keeps OpenSSL's usual defaults.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::auth {

using Md4Digest = std::array<std::uint8_t, 16>;
using Md5Digest = std::array<std::uint8_t, 16>;

// Loads the providers on first use. Fails (kind crypto) when legacy.so is
// missing; NtlmClient/NtlmServer call this before they compute anything, so
// the primitives below are only reached once it has succeeded.
Expected<void> ensure_ntlm_crypto();

// The primitives abort with a message if ensure_ntlm_crypto() would fail:
// callers check it first, so reaching that abort is a bug, not bad input.
Md4Digest md4(ByteView data);
Md5Digest md5(std::initializer_list<ByteView> parts);
Md5Digest hmac_md5(ByteView key, std::initializer_list<ByteView> parts);
inline Md5Digest md5(ByteView data) { return md5({data}); }
inline Md5Digest hmac_md5(ByteView key, ByteView data) { return hmac_md5(key, {data}); }

// RC4K (MS-NLMP 6): a fresh key schedule applied once.
Bytes rc4(ByteView key, ByteView data);

// A keyed RC4 stream whose keystream continues across calls: the sealing
// handle of MS-NLMP 3.4.4.2 and 3.4.3 (GSS_WrapEx, GSS_GetMIC with KEY_EXCH).
class Rc4 {
 public:
  explicit Rc4(ByteView key);
  ~Rc4();
  Rc4(Rc4&&) noexcept;
  Rc4& operator=(Rc4&&) noexcept;
  Rc4(const Rc4&) = delete;
  Rc4& operator=(const Rc4&) = delete;

  // XORs the next data.size() keystream bytes into data.
  void apply(std::span<std::uint8_t> data);
  Bytes process(ByteView data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace smbx::auth
