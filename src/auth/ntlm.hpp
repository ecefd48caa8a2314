// NTLMv2 (MS-NLMP 3.3.2) with extended session security, key exchange and
// the AUTHENTICATE MIC, for SMB2 SESSION_SETUP: the key computations, the
// GSS GetMIC used for the SPNEGO mechListMIC, and the client and server
// state machines. The codecs are in ntlm_message.hpp, SPNEGO in spnego.hpp.
//
// The algorithms are implemented in ntlm.cpp, the client in ntlm_client.cpp
// and the server (with recover_exported_session_key) in ntlm_server.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/ntlm_crypto.hpp"
#include "auth/ntlm_message.hpp"
#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::auth {

using Key16 = std::array<std::uint8_t, 16>;
using NtHash = Key16;
using Challenge8 = std::array<std::uint8_t, 8>;

// ---- Algorithms (MS-NLMP 3.3.2, 3.4.5) ----

// NTOWFv1 = MD4(UTF-16LE(password)), the "NT hash" a server stores. Like the
// primitives of ntlm_crypto.hpp it aborts if OpenSSL's legacy provider is
// missing; a server should call ensure_ntlm_crypto() at startup first.
NtHash nt_hash_from_password(std::string_view password_utf8);
// NTOWFv2 = HMAC_MD5(NT hash, UTF-16LE(Uppercase(User) || UserDom)); the domain
// is not uppercased. Also ResponseKeyLM.
Key16 ntowfv2(const NtHash& nt_hash, std::u16string_view user, std::u16string_view domain);
// temp (3.3.2): 01 01 Z(6) Time ClientChallenge Z(4) AvPairs(with EOL) Z(4).
Bytes ntlmv2_temp(std::uint64_t time, const Challenge8& client_challenge, ByteView av_pairs_with_eol);
// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp).
Key16 nt_proof_str(const Key16& response_key_nt, const Challenge8& server_challenge, ByteView temp);
// LMv2 response: HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge.
Bytes lmv2_response(const Key16& response_key_lm, const Challenge8& server_challenge,
                    const Challenge8& client_challenge);
// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is
// also the KeyExchangeKey (3.4.5.1).
Key16 session_base_key(const Key16& response_key_nt, const Key16& nt_proof);
// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
// the AUTHENTICATE with its MIC field zeroed (3.1.5.1.2).
Key16 compute_mic(const Key16& exported_session_key, ByteView negotiate, ByteView challenge,
                  ByteView authenticate);
// 3.1.5.1.2 / 3.2.5.1.2: a random session key is exchanged only when
// KEY_EXCH comes with SIGN or SEAL; otherwise ExportedSessionKey = KeyExchangeKey.
constexpr bool uses_key_exchange(std::uint32_t negotiate_flags) noexcept {
  return (negotiate_flags & ntlmssp::negotiate_key_exch) &&
         (negotiate_flags & (ntlmssp::negotiate_sign | ntlmssp::negotiate_seal));
}
// 3.4.5.2 SIGNKEY and 3.4.5.3 SEALKEY with extended session security.
enum class Direction { client_to_server, server_to_client };
Key16 sign_key(const Key16& exported_session_key, Direction d);
Key16 seal_key(const Key16& exported_session_key, std::uint32_t negotiate_flags, Direction d);

// Current time as a FILETIME (100 ns ticks since 1601-01-01 UTC).
std::uint64_t filetime_now();

// ---- Session security (3.4.3, 3.4.4.2, 2.2.2.9.2) ----

// Per-context signing state after authentication: one RC4 handle and sequence
// number per direction. Only extended session security is supported, which
// every SMB2 peer negotiates.
class NtlmSessionSecurity {
 public:
  NtlmSessionSecurity(const Key16& exported_session_key, std::uint32_t negotiate_flags, bool is_client);

  // GSS_GetMIC: NTLMSSP_MESSAGE_SIGNATURE (16 bytes) for the next outgoing
  // sequence number.
  std::array<std::uint8_t, 16> sign(ByteView message);
  // GSS_VerifyMIC against the peer's keys and next incoming sequence number.
  Expected<void> verify(ByteView message, ByteView signature);

  // GSS_WrapEx / GSS_UnwrapEx (3.4.3): seals the data, then signs with the
  // same RC4 handle.
  struct Wrapped {
    Bytes sealed;
    std::array<std::uint8_t, 16> signature;
  };
  Wrapped wrap(ByteView plaintext);
  Expected<Bytes> unwrap(ByteView sealed, ByteView signature);

 private:
  std::array<std::uint8_t, 16> signature_for(ByteView message, std::uint32_t seq, const Key16& key,
                                             Rc4& seal);

  std::uint32_t flags_;
  Key16 out_sign_key_;
  Key16 in_sign_key_;
  Rc4 out_seal_;
  Rc4 in_seal_;
  std::uint32_t out_seq_ = 0;
  std::uint32_t in_seq_ = 0;
};

// ---- Client (3.1.5.1) ----

struct Credentials {
  std::string user;  // UTF-8; empty user and password mean anonymous
  std::string domain;
  std::string password;
};

class NtlmClient {
 public:
  // Fixed values instead of random ones and the clock, for tests.
  struct TestHooks {
    std::optional<Challenge8> client_challenge;
    std::optional<Key16> exported_session_key;  // the KEY_EXCH random session key
    std::optional<std::uint64_t> time;          // used when the CHALLENGE has no MsvAvTimestamp
  };

  // Samba's client flags: UNICODE, REQUEST_TARGET, SIGN, NTLM, ALWAYS_SIGN,
  // EXTENDED_SESSIONSECURITY, VERSION, 128, KEY_EXCH.
  static constexpr std::uint32_t kDefaultFlags = 0x62088215;

  // target_spn is sent as MsvAvTargetName, e.g. "cifs/fileserver".
  NtlmClient(Credentials credentials, std::string workstation, std::string target_spn, TestHooks hooks = {});

  // The NEGOTIATE_MESSAGE; the same bytes on every call.
  Bytes negotiate_message();
  // Answers a CHALLENGE_MESSAGE with the AUTHENTICATE_MESSAGE.
  Expected<Bytes> authenticate(ByteView challenge_message);

  bool is_complete() const noexcept { return security_.has_value(); }
  bool is_anonymous() const noexcept { return credentials_.user.empty() && credentials_.password.empty(); }
  // Whether the AUTHENTICATE carries a MIC (the server sent MsvAvTimestamp).
  bool sent_mic() const noexcept { return sent_mic_; }
  std::uint32_t negotiated_flags() const noexcept { return negotiated_flags_; }
  // Valid after authenticate(); all zero for anonymous.
  const Key16& exported_session_key() const noexcept { return exported_session_key_; }

  // SPNEGO mechListMIC: GetMIC with the client-to-server keys, VerifyMIC with
  // the server-to-client keys. Usage errors before authenticate().
  Expected<Bytes> make_mic(ByteView message);
  Expected<void> verify_mic(ByteView message, ByteView signature);

 private:
  Credentials credentials_;
  std::string workstation_;
  std::string target_spn_;
  TestHooks hooks_;
  Bytes negotiate_;
  std::uint32_t negotiated_flags_ = 0;
  bool sent_mic_ = false;
  Key16 exported_session_key_{};
  std::optional<NtlmSessionSecurity> security_;
};

// ---- Server (3.2.5.1) ----

// Returns the NT hash (MD4 of the UTF-16LE password) of an account, or nullopt
// if there is none. Called with the user and domain as the client sent them.
using NtHashLookup =
    std::function<std::optional<NtHash>(std::u16string_view user, std::u16string_view domain)>;

struct NtlmServerConfig {
  NtHashLookup lookup;
  std::string nb_computer_name = "SMBX";  // MsvAvNbComputerName and the CHALLENGE TargetName
  std::string nb_domain_name = "WORKGROUP";
  std::string dns_computer_name;
  std::string dns_domain_name;
  bool allow_anonymous = false;
};

struct AuthResult {
  std::string user;    // UTF-8, as the client sent it
  std::string domain;  // UTF-8, as the client sent it
  Key16 exported_session_key{};
  bool is_anonymous = false;
};

// One instance per authentication exchange: challenge() once, then
// authenticate() once.
class NtlmServer {
 public:
  struct TestHooks {
    std::optional<Challenge8> server_challenge;
    std::optional<std::uint64_t> time;
  };
  // What the server grants of the client's request (3.2.5.1.1), besides
  // TARGET_INFO and TARGET_TYPE_SERVER which it always sets.
  static constexpr std::uint32_t kSupportedFlags =
      ntlmssp::negotiate_unicode | ntlmssp::request_target | ntlmssp::negotiate_sign |
      ntlmssp::negotiate_seal | ntlmssp::negotiate_ntlm | ntlmssp::negotiate_always_sign |
      ntlmssp::negotiate_extended_sessionsecurity | ntlmssp::negotiate_version | ntlmssp::negotiate_128 |
      ntlmssp::negotiate_56 | ntlmssp::negotiate_key_exch;

  explicit NtlmServer(NtlmServerConfig config, TestHooks hooks = {});

  // Answers a NEGOTIATE_MESSAGE with a CHALLENGE_MESSAGE.
  Expected<Bytes> challenge(ByteView negotiate_message);
  // Checks an AUTHENTICATE_MESSAGE. A wrong password, unknown user or bad MIC
  // is Error{kind auth, status STATUS_LOGON_FAILURE}; a malformed message is a
  // wire error with status STATUS_INVALID_PARAMETER.
  Expected<AuthResult> authenticate(ByteView authenticate_message);

  bool is_complete() const noexcept { return security_.has_value(); }
  // Whether the client's AUTHENTICATE carried a MIC (MsvAvFlags 0x2).
  bool client_sent_mic() const noexcept { return client_sent_mic_; }
  std::uint32_t negotiated_flags() const noexcept { return negotiated_flags_; }

  // SPNEGO mechListMIC: GetMIC with the server-to-client keys, VerifyMIC
  // with the client-to-server keys.
  Expected<Bytes> make_mic(ByteView message);
  Expected<void> verify_mic(ByteView message, ByteView signature);

 private:
  NtlmServerConfig config_;
  TestHooks hooks_;
  Bytes negotiate_;
  Bytes challenge_;
  Challenge8 server_challenge_{};
  std::uint32_t negotiated_flags_ = 0;
  bool client_sent_mic_ = false;
  std::optional<NtlmSessionSecurity> security_;
};

// The server's computation over a captured exchange (for `smbx dissect`):
// checks NTProofStr with the password and returns the ExportedSessionKey.
// User and domain come from the AUTHENTICATE unless given. A wrong password
// is Error{kind auth, status STATUS_LOGON_FAILURE}.
Expected<Bytes> recover_exported_session_key(std::string_view password, ByteView challenge_message,
                                             ByteView authenticate_message,
                                             std::optional<std::string> user = {},
                                             std::optional<std::string> domain = {});

}  // namespace smbx::auth
