// NTLMSSP messages (MS-NLMP 2.2.1), AV_PAIR lists (2.2.2.1), VERSION
// (2.2.2.10) and the NTLMv2 client challenge (2.2.2.7). Pure codecs: every
// field descriptor is checked against the message before it is read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/reader.hpp"
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::auth {

// MS-NLMP 2.2.2.5 NegotiateFlags.
namespace ntlmssp {
inline constexpr std::uint32_t negotiate_unicode = 0x00000001;
inline constexpr std::uint32_t negotiate_oem = 0x00000002;
inline constexpr std::uint32_t request_target = 0x00000004;
inline constexpr std::uint32_t negotiate_sign = 0x00000010;
inline constexpr std::uint32_t negotiate_seal = 0x00000020;
inline constexpr std::uint32_t negotiate_datagram = 0x00000040;
inline constexpr std::uint32_t negotiate_lm_key = 0x00000080;
inline constexpr std::uint32_t negotiate_ntlm = 0x00000200;
inline constexpr std::uint32_t anonymous = 0x00000800;
inline constexpr std::uint32_t negotiate_oem_domain_supplied = 0x00001000;
inline constexpr std::uint32_t negotiate_oem_workstation_supplied = 0x00002000;
inline constexpr std::uint32_t negotiate_always_sign = 0x00008000;
inline constexpr std::uint32_t target_type_domain = 0x00010000;
inline constexpr std::uint32_t target_type_server = 0x00020000;
inline constexpr std::uint32_t negotiate_extended_sessionsecurity = 0x00080000;
inline constexpr std::uint32_t negotiate_identify = 0x00100000;
inline constexpr std::uint32_t request_non_nt_session_key = 0x00400000;
inline constexpr std::uint32_t negotiate_target_info = 0x00800000;
inline constexpr std::uint32_t negotiate_version = 0x02000000;
inline constexpr std::uint32_t negotiate_128 = 0x20000000;
inline constexpr std::uint32_t negotiate_key_exch = 0x40000000;
inline constexpr std::uint32_t negotiate_56 = 0x80000000;
}  // namespace ntlmssp

// MS-NLMP 2.2.1 MessageType.
enum class NtlmMessageType : std::uint32_t { negotiate = 1, challenge = 2, authenticate = 3 };

inline constexpr std::array<std::uint8_t, 8> kNtlmSignature = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

// The MessageType of an NTLMSSP message, or nullopt if `message` does not
// start with the NTLMSSP signature.
std::optional<std::uint32_t> ntlm_message_type(ByteView message);

// MS-NLMP 2.2.2.10. Informational only; never used to make decisions.
struct Version {
  std::uint8_t product_major_version = 6;
  std::uint8_t product_minor_version = 1;
  std::uint16_t product_build = 0;
  std::uint8_t ntlm_revision_current = 0x0F;  // NTLMSSP_REVISION_W2K3
  bool operator==(const Version&) const = default;
};

// MS-NLMP 2.2.2.1 AvId.
enum class AvId : std::uint16_t {
  msv_av_eol = 0x0000,
  msv_av_nb_computer_name = 0x0001,
  msv_av_nb_domain_name = 0x0002,
  msv_av_dns_computer_name = 0x0003,
  msv_av_dns_domain_name = 0x0004,
  msv_av_dns_tree_name = 0x0005,
  msv_av_flags = 0x0006,
  msv_av_timestamp = 0x0007,
  msv_av_single_host = 0x0008,
  msv_av_target_name = 0x0009,
  msv_av_channel_bindings = 0x000A,
};

// MS-NLMP 2.2.2.1 MsvAvFlags bits.
namespace av_flags {
inline constexpr std::uint32_t account_constrained = 0x1;
inline constexpr std::uint32_t mic_present = 0x2;
inline constexpr std::uint32_t untrusted_spn = 0x4;
}  // namespace av_flags

struct AvPair {
  std::uint16_t av_id = 0;
  Bytes value;
  bool operator==(const AvPair&) const = default;
};
// Held without the terminating MsvAvEOL; the encoder appends it.
using AvPairList = std::vector<AvPair>;

// Decodes pairs up to MsvAvEOL, which is required. Bytes after the EOL are
// ignored: Windows clients append Z(4) after the list inside the NTLMv2 blob.
Expected<AvPairList> decode_av_pairs(ByteView bytes);
void encode_av_pairs(wire::Writer& w, const AvPairList& pairs);
Bytes encode_av_pairs(const AvPairList& pairs);

const AvPair* find_av_pair(const AvPairList& pairs, AvId id);
std::optional<std::uint32_t> av_pair_flags(const AvPairList& pairs);      // MsvAvFlags
std::optional<std::uint64_t> av_pair_timestamp(const AvPairList& pairs);  // MsvAvTimestamp
// Replaces the value of the first pair with this id, or inserts one at the end.
void set_av_pair(AvPairList& pairs, AvId id, Bytes value);
Bytes utf16le_bytes(std::u16string_view text);

// MS-NLMP 2.2.1.1. Domain and workstation are OEM strings, sent only with the
// OEM_*_SUPPLIED flags; SMB clients leave them empty.
struct NegotiateMessage {
  std::uint32_t negotiate_flags = 0;
  Bytes domain_name;
  Bytes workstation;
  // Present when negotiate_version is set. Encoders write it (a default
  // Version if unset) whenever either is set, and set the flag.
  std::optional<Version> version;
};
Expected<NegotiateMessage> decode_negotiate(ByteView message);
Bytes encode_negotiate(const NegotiateMessage& msg);

// MS-NLMP 2.2.1.2.
struct ChallengeMessage {
  std::uint32_t negotiate_flags = 0;
  std::u16string target_name;  // OEM bytes are widened when negotiate_unicode is clear
  std::array<std::uint8_t, 8> server_challenge{};
  AvPairList target_info;  // present when negotiate_target_info is set
  std::optional<Version> version;
};
Expected<ChallengeMessage> decode_challenge(ByteView message);
Bytes encode_challenge(const ChallengeMessage& msg);

// MS-NLMP 2.2.1.3. The decoder keeps the raw bytes so that the MIC can be
// recomputed over them with the MIC field zeroed (3.1.5.1.2).
struct AuthenticateMessage {
  static constexpr std::size_t kMicOffset = 72;
  static constexpr std::size_t kMicSize = 16;

  Bytes lm_challenge_response;
  Bytes nt_challenge_response;
  std::u16string domain_name;
  std::u16string user_name;
  std::u16string workstation;
  Bytes encrypted_random_session_key;
  std::uint32_t negotiate_flags = 0;
  std::optional<Version> version;
  // Whether bytes [72, 88) are a MIC field rather than payload; on encode,
  // whether to write it. A server trusts MsvAvFlags, not this (2.2.1.3).
  bool has_mic_field = false;
  std::array<std::uint8_t, 16> mic{};
  Bytes raw;  // filled by the decoder
};
Expected<AuthenticateMessage> decode_authenticate(ByteView message);
Bytes encode_authenticate(const AuthenticateMessage& msg);

// MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE: the NtChallengeResponse after its
// 16-byte NTProofStr. 28 fixed bytes, then AV pairs.
struct NtlmV2ClientChallenge {
  static constexpr std::size_t kHeaderSize = 28;
  std::uint8_t resp_type = 1;
  std::uint8_t hi_resp_type = 1;
  std::uint64_t time_stamp = 0;  // FILETIME
  std::array<std::uint8_t, 8> challenge_from_client{};
  AvPairList av_pairs;
};
Expected<NtlmV2ClientChallenge> decode_ntlmv2_client_challenge(ByteView blob);

}  // namespace smbx::auth
