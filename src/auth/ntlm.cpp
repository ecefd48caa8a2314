#include "auth/ntlm.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "auth/unicode_case.hpp"
#include "wire/types.hpp"

namespace smbx::auth {
namespace {

template <std::size_t N>
ByteView with_nul(const char (&s)[N]) {
  return {reinterpret_cast<const std::uint8_t*>(s), N};
}

// MS-NLMP 3.4.5.2 / 3.4.5.3: the magic constants include their trailing NUL,
// which sizeof counts.
constexpr char kClientSignMagic[] = "session key to client-to-server signing key magic constant";
constexpr char kServerSignMagic[] = "session key to server-to-client signing key magic constant";
constexpr char kClientSealMagic[] = "session key to client-to-server sealing key magic constant";
constexpr char kServerSealMagic[] = "session key to server-to-client sealing key magic constant";

// 2.2.2.9.2 NTLMSSP_MESSAGE_SIGNATURE with extended session security.
constexpr std::uint32_t kSignatureVersion = 1;

}  // namespace

NtHash nt_hash_from_password(std::string_view password_utf8) {
  return md4(utf16le_bytes(wire::utf16_from_utf8(password_utf8)));
}

Key16 ntowfv2(const NtHash& nt_hash, std::u16string_view user, std::u16string_view domain) {
  const auto upper_user = utf16le_bytes(to_upper_simple(user));
  const auto dom = utf16le_bytes(domain);
  return hmac_md5(nt_hash, {upper_user, dom});
}

Bytes ntlmv2_temp(std::uint64_t time, const Challenge8& client_challenge, ByteView av_pairs_with_eol) {
  Bytes out;
  wire::Writer w{out};
  w.u8(1);  // RespType
  w.u8(1);  // HiRespType
  w.zeros(6);
  w.u64(time);
  w.bytes(client_challenge);
  w.zeros(4);
  w.bytes(av_pairs_with_eol);
  w.zeros(4);
  return out;
}

Key16 nt_proof_str(const Key16& response_key_nt, const Challenge8& server_challenge, ByteView temp) {
  return hmac_md5(response_key_nt, {server_challenge, temp});
}

Bytes lmv2_response(const Key16& response_key_lm, const Challenge8& server_challenge,
                    const Challenge8& client_challenge) {
  const auto mac = hmac_md5(response_key_lm, {server_challenge, client_challenge});
  // Sized up front: growing a vector from 16 to 24 bytes trips g++ 12's
  // -Warray-bounds false positive at -O2.
  Bytes out(mac.size() + client_challenge.size());
  std::copy(mac.begin(), mac.end(), out.begin());
  std::copy(client_challenge.begin(), client_challenge.end(), out.begin() + static_cast<std::ptrdiff_t>(mac.size()));
  return out;
}

Key16 session_base_key(const Key16& response_key_nt, const Key16& nt_proof) {
  return hmac_md5(response_key_nt, nt_proof);
}

Key16 compute_mic(const Key16& exported_session_key, ByteView negotiate, ByteView challenge,
                  ByteView authenticate) {
  return hmac_md5(exported_session_key, {negotiate, challenge, authenticate});
}

Key16 sign_key(const Key16& exported_session_key, Direction d) {
  return md5({exported_session_key,
              d == Direction::client_to_server ? with_nul(kClientSignMagic) : with_nul(kServerSignMagic)});
}

Key16 seal_key(const Key16& exported_session_key, std::uint32_t negotiate_flags, Direction d) {
  // 3.4.5.3: the key is weakened before hashing unless 128-bit was negotiated.
  std::size_t len = 5;
  if (negotiate_flags & ntlmssp::negotiate_128)
    len = 16;
  else if (negotiate_flags & ntlmssp::negotiate_56)
    len = 7;
  const ByteView key = ByteView{exported_session_key}.first(len);
  return md5(
      {key, d == Direction::client_to_server ? with_nul(kClientSealMagic) : with_nul(kServerSealMagic)});
}

std::uint64_t filetime_now() {
  // FILETIME counts from 1601-01-01; the Unix epoch is 11644473600 s later.
  constexpr std::uint64_t kEpochDelta = 11644473600ull * 10'000'000ull;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ticks =
      std::chrono::duration_cast<std::chrono::duration<std::int64_t, std::ratio<1, 10'000'000>>>(now);
  return kEpochDelta + static_cast<std::uint64_t>(ticks.count());
}

// ---- NtlmSessionSecurity ----

NtlmSessionSecurity::NtlmSessionSecurity(const Key16& exported_session_key, std::uint32_t negotiate_flags,
                                         bool is_client)
    : flags_{negotiate_flags},
      out_sign_key_{sign_key(exported_session_key,
                             is_client ? Direction::client_to_server : Direction::server_to_client)},
      in_sign_key_{sign_key(exported_session_key,
                            is_client ? Direction::server_to_client : Direction::client_to_server)},
      out_seal_{seal_key(exported_session_key, negotiate_flags,
                         is_client ? Direction::client_to_server : Direction::server_to_client)},
      in_seal_{seal_key(exported_session_key, negotiate_flags,
                        is_client ? Direction::server_to_client : Direction::client_to_server)} {}

std::array<std::uint8_t, 16> NtlmSessionSecurity::signature_for(ByteView message, std::uint32_t seq,
                                                                const Key16& key, Rc4& seal) {
  std::array<std::uint8_t, 4> seq_le{};
  store_le32(seq_le.data(), seq);
  const auto mac = hmac_md5(key, {seq_le, message});
  std::array<std::uint8_t, 16> sig{};
  store_le32(sig.data(), kSignatureVersion);
  std::copy_n(mac.begin(), 8, sig.begin() + 4);
  // 3.4.4.2: with KEY_EXCH the checksum is encrypted with the sealing handle,
  // continuing its keystream.
  if (flags_ & ntlmssp::negotiate_key_exch) seal.apply(std::span{sig}.subspan(4, 8));
  store_le32(sig.data() + 12, seq);
  return sig;
}

std::array<std::uint8_t, 16> NtlmSessionSecurity::sign(ByteView message) {
  return signature_for(message, out_seq_++, out_sign_key_, out_seal_);
}

Expected<void> NtlmSessionSecurity::verify(ByteView message, ByteView signature) {
  const auto expected = signature_for(message, in_seq_++, in_sign_key_, in_seal_);
  if (!equal_constant_time(expected, signature))
    return Error{.kind = ErrorKind::crypto,
                 .wire = WireError::none,
                 .status = 0,
                 .action = "verify NTLM signature",
                 .detail = "NTLMSSP_MESSAGE_SIGNATURE does not match"};
  return {};
}

NtlmSessionSecurity::Wrapped NtlmSessionSecurity::wrap(ByteView plaintext) {
  Wrapped out;
  out.sealed = out_seal_.process(plaintext);
  out.signature = signature_for(plaintext, out_seq_++, out_sign_key_, out_seal_);
  return out;
}

Expected<Bytes> NtlmSessionSecurity::unwrap(ByteView sealed, ByteView signature) {
  auto plaintext = in_seal_.process(sealed);
  SMBX_TRY_VOID(verify(plaintext, signature));
  return plaintext;
}

}  // namespace smbx::auth
