// SPNEGO (RFC 4178, MS-SPNG) around NTLMSSP: the tokens carried in SMB2
// NEGOTIATE and SESSION_SETUP security buffers, and client and server
// contexts that drive an NtlmClient / NtlmServer through them.
//
// Token codecs are in spnego.cpp, SpnegoClient in spnego_client.cpp and
// SpnegoServer in spnego_server.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/ntlm.hpp"
#include "smbx/expected.hpp"
#include "wire/bytes.hpp"

namespace smbx::auth {

// Object identifiers, as DER contents (without the 06 tag and length).
namespace oid {
inline constexpr std::array<std::uint8_t, 6> spnego = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};  // 1.3.6.1.5.5.2
inline constexpr std::array<std::uint8_t, 10> ntlmssp = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
                                                         0x37, 0x02, 0x02, 0x0a};  // 1.3.6.1.4.1.311.2.2.10
inline constexpr std::array<std::uint8_t, 9> kerberos5 = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                          0x12, 0x01, 0x02, 0x02};  // 1.2.840.113554.1.2.2
inline constexpr std::array<std::uint8_t, 9> ms_kerberos5 = {0x2a, 0x86, 0x48, 0x82, 0xf7,
                                                             0x12, 0x01, 0x02, 0x02};  // 1.2.840.48018.1.2.2
inline constexpr std::array<std::uint8_t, 10> negoex = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
                                                        0x37, 0x02, 0x02, 0x1e};  // 1.3.6.1.4.1.311.2.2.30
}  // namespace oid

// MS-SPNG 3.2.5.2: the hintName a server puts in its NegTokenInit2.
inline constexpr std::string_view kNegHintName = "not_defined_in_RFC4178@please_ignore";

// RFC 4178 4.2.2.
enum class NegState : std::uint8_t {
  accept_completed = 0,
  accept_incomplete = 1,
  reject = 2,
  request_mic = 3
};

enum class SpnegoKind { neg_token_init, neg_token_resp };

struct SpnegoToken {
  SpnegoKind kind = SpnegoKind::neg_token_init;
  bool has_initial_context_token = false;  // wrapped in [APPLICATION 0] with the SPNEGO OID
  // NegTokenInit / NegTokenInit2.
  std::vector<Bytes> mech_types;  // OID contents
  Bytes mech_type_list;           // the DER MechTypeList (30 ...) exactly as received
  std::optional<Bytes> mech_token;
  std::optional<std::string> hint_name;  // NegTokenInit2 negHints.hintName
  // NegTokenResp.
  std::optional<NegState> neg_state;
  std::optional<Bytes> supported_mech;
  std::optional<Bytes> response_token;
  // Both.
  std::optional<Bytes> mech_list_mic;

  bool offers(ByteView mech) const;
};

// Decodes a security buffer holding a SPNEGO token: an InitialContextToken
// (60 ...) around a NegTokenInit or NegTokenInit2, or a bare NegTokenInit
// (A0 ...) or NegTokenResp (A1 ...).
Expected<SpnegoToken> parse_spnego(ByteView token);

// MechTypeList (RFC 4178 4.1), the bytes the mechListMIC covers.
Bytes encode_mech_type_list(std::span<const ByteView> mechs);
// NegTokenInit inside the InitialContextToken (RFC 2743 3.1).
Bytes encode_neg_token_init(ByteView mech_type_list, std::optional<ByteView> mech_token,
                            std::optional<ByteView> mech_list_mic = std::nullopt);
// NegTokenInit2 (MS-SPNG 2.2.1) with negHints.hintName, inside the InitialContextToken.
Bytes encode_neg_token_init2(ByteView mech_type_list, std::string_view hint_name = kNegHintName);

struct NegTokenResp {
  std::optional<NegState> neg_state;
  std::optional<Bytes> supported_mech;  // OID contents
  std::optional<Bytes> response_token;
  std::optional<Bytes> mech_list_mic;
};
Bytes encode_neg_token_resp(const NegTokenResp& resp);

// The NTLMSSP message inside one SESSION_SETUP security buffer: the mechToken
// of a NegTokenInit, the responseToken of a NegTokenResp, or a raw NTLMSSP
// token. nullopt when the buffer is empty or carries no NTLM message (a
// NegTokenInit2 hint, a final NegTokenResp, a Kerberos token).
Expected<std::optional<Bytes>> extract_ntlm_message(ByteView security_buffer);
// The NTLM messages of several buffers, in order (for `smbx dissect`).
Expected<std::vector<Bytes>> extract_ntlm_messages(std::span<const ByteView> security_buffers);

// ---- Client context (RFC 4178 with MS-SPNG; ntlm.md §1, §2.4) ----

class SpnegoClient {
 public:
  explicit SpnegoClient(NtlmClient ntlm);

  // The SecurityBuffer of the NEGOTIATE response: empty, or a NegTokenInit2.
  // The hint is optional (MS-SPNG 3.3.5.2); this only checks that a server
  // which lists mechanisms lists NTLMSSP.
  Expected<void> accept_negotiate_hint(ByteView security_buffer);
  // NegTokenInit {mechTypes = [NTLMSSP], mechToken = NTLM NEGOTIATE}.
  Bytes initial_token();
  // Answers the server's NegTokenResp carrying the CHALLENGE with one carrying
  // the AUTHENTICATE and, when the NTLM MIC was sent or the server asked, the
  // mechListMIC over the MechTypeList this client sent.
  Expected<Bytes> step(ByteView server_token);
  // Checks the final NegTokenResp: accept-completed, and the server's
  // mechListMIC when present.
  Expected<void> finish(ByteView final_server_token);

  bool is_complete() const noexcept { return complete_; }
  // The ExportedSessionKey (SMB Session.SessionKey), valid after step().
  const Key16& session_key() const noexcept { return ntlm_.exported_session_key(); }
  const NtlmClient& ntlm() const noexcept { return ntlm_; }

 private:
  NtlmClient ntlm_;
  Bytes mech_type_list_;
  bool stepped_ = false;
  bool complete_ = false;
};

// ---- Server context ----

class SpnegoServer {
 public:
  explicit SpnegoServer(NtlmServer ntlm);

  // NegTokenInit2 for the NEGOTIATE response: mechTypes = [NTLMSSP] and the
  // MS-SPNG 3.2.5.2 hint.
  static Bytes negotiate_hint();

  struct StepResult {
    Bytes token;  // the response SecurityBuffer (may be empty)
    bool complete = false;
    std::optional<AuthResult> auth;  // set when complete
  };
  // Feeds one SESSION_SETUP request security buffer. A raw NTLMSSP token
  // (no SPNEGO) is answered raw, as Samba and Windows do. Errors carry the
  // NTSTATUS the SMB layer should answer with.
  Expected<StepResult> step(ByteView client_token);

  const NtlmServer& ntlm() const noexcept { return ntlm_; }

 private:
  enum class State { initial, expect_negotiate, expect_authenticate, raw_expect_authenticate, done, failed };
  Expected<StepResult> step_initial(ByteView client_token);
  Expected<StepResult> step_negotiate(ByteView client_token);
  Expected<StepResult> step_authenticate(ByteView client_token);
  Expected<StepResult> step_raw_authenticate(ByteView client_token);

  NtlmServer ntlm_;
  State state_ = State::initial;
  Bytes mech_type_list_;
  bool mic_required_ = false;
};

}  // namespace smbx::auth
