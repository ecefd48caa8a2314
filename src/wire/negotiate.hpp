// SMB2 NEGOTIATE request and response with the 3.1.1 negotiate contexts
// (MS-SMB2 2.2.3, 2.2.3.1.x, 2.2.4).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.3 SecurityMode (16 bits here, 8 bits in SESSION_SETUP; same bits).
namespace negotiate_signing {
inline constexpr std::uint16_t enabled = 0x0001;
inline constexpr std::uint16_t required = 0x0002;
}  // namespace negotiate_signing

// MS-SMB2 2.2.3 / 2.2.4 Capabilities (SMB2_GLOBAL_CAP_*).
namespace global_caps {
inline constexpr std::uint32_t dfs = 0x00000001;
inline constexpr std::uint32_t leasing = 0x00000002;
inline constexpr std::uint32_t large_mtu = 0x00000004;
inline constexpr std::uint32_t multi_channel = 0x00000008;
inline constexpr std::uint32_t persistent_handles = 0x00000010;
inline constexpr std::uint32_t directory_leasing = 0x00000020;
inline constexpr std::uint32_t encryption = 0x00000040;     // 3.0/3.0.2; 3.1.1 uses the ENCRYPTION context
inline constexpr std::uint32_t notifications = 0x00000080;  // 3.1.1 only
}  // namespace global_caps

// MS-SMB2 2.2.3.1 ContextType values.
namespace negotiate_context_type {
inline constexpr std::uint16_t preauth_integrity = 0x0001;
inline constexpr std::uint16_t encryption = 0x0002;
inline constexpr std::uint16_t compression = 0x0003;
inline constexpr std::uint16_t netname = 0x0005;
inline constexpr std::uint16_t transport = 0x0006;
inline constexpr std::uint16_t rdma_transform = 0x0007;
inline constexpr std::uint16_t signing = 0x0008;
inline constexpr std::uint16_t posix_extensions = 0x0100;  // Samba/SNIA, not in MS-SMB2: kept raw
}  // namespace negotiate_context_type

// MS-SMB2 2.2.3.1.1 HashAlgorithms.
namespace preauth_hash {
inline constexpr std::uint16_t sha512 = 0x0001;
}

// MS-SMB2 2.2.3.1.2 Ciphers (0 in a response: no common cipher).
namespace encryption_cipher {
inline constexpr std::uint16_t none = 0x0000;
inline constexpr std::uint16_t aes128_ccm = 0x0001;
inline constexpr std::uint16_t aes128_gcm = 0x0002;
inline constexpr std::uint16_t aes256_ccm = 0x0003;
inline constexpr std::uint16_t aes256_gcm = 0x0004;
}  // namespace encryption_cipher

// MS-SMB2 2.2.3.1.3 CompressionAlgorithms and Flags.
namespace compression_algorithm {
inline constexpr std::uint16_t none = 0x0000;
inline constexpr std::uint16_t lznt1 = 0x0001;
inline constexpr std::uint16_t lz77 = 0x0002;
inline constexpr std::uint16_t lz77_huffman = 0x0003;
inline constexpr std::uint16_t pattern_v1 = 0x0004;
inline constexpr std::uint16_t lz4 = 0x0005;
}  // namespace compression_algorithm
inline constexpr std::uint32_t kCompressionCapabilitiesFlagChained = 0x00000001;

// MS-SMB2 2.2.3.1.5 Flags.
inline constexpr std::uint32_t kAcceptTransportLevelSecurity = 0x00000001;

// MS-SMB2 2.2.3.1.6 RDMATransformIds.
namespace rdma_transform_id {
inline constexpr std::uint16_t none = 0x0000;
inline constexpr std::uint16_t encryption = 0x0001;
inline constexpr std::uint16_t signing = 0x0002;
}  // namespace rdma_transform_id

// MS-SMB2 2.2.3.1.7 SigningAlgorithms.
namespace signing_algorithm {
inline constexpr std::uint16_t hmac_sha256 = 0x0000;
inline constexpr std::uint16_t aes_cmac = 0x0001;
inline constexpr std::uint16_t aes_gmac = 0x0002;
}  // namespace signing_algorithm

// The negotiate contexts. Bytes a context's DataLength covers beyond what its
// counts describe are ignored on decode (Linux pads its compression context
// that way) and not re-sent on encode.

// MS-SMB2 2.2.3.1.1
struct PreauthIntegrityCapabilities {
  std::vector<std::uint16_t> hash_algorithms;
  ByteView salt;
};
// MS-SMB2 2.2.3.1.2
struct EncryptionCapabilities {
  std::vector<std::uint16_t> ciphers;  // most preferred first
};
// MS-SMB2 2.2.3.1.3
struct CompressionCapabilities {
  std::uint32_t flags = 0;
  std::vector<std::uint16_t> compression_algorithms;
};
// MS-SMB2 2.2.3.1.4: the server name the client dialled, request only.
struct NetnameContext {
  std::u16string net_name;
};
// MS-SMB2 2.2.3.1.5
struct TransportCapabilities {
  std::uint32_t flags = 0;
};
// MS-SMB2 2.2.3.1.6
struct RdmaTransformCapabilities {
  std::vector<std::uint16_t> rdma_transform_ids;
};
// MS-SMB2 2.2.3.1.7
struct SigningCapabilities {
  std::vector<std::uint16_t> signing_algorithms;  // most preferred first
};
// Any context type this codec does not interpret (POSIX 0x100, future ones).
struct RawNegotiateContext {
  std::uint16_t context_type = 0;
  ByteView data;
};

using NegotiateContext = std::variant<PreauthIntegrityCapabilities, EncryptionCapabilities,
                                      CompressionCapabilities, NetnameContext, TransportCapabilities,
                                      RdmaTransformCapabilities, SigningCapabilities, RawNegotiateContext>;

std::uint16_t context_type(const NegotiateContext& context) noexcept;

// The first context of type T, or nullptr.
template <typename T>
const T* find_context(const std::vector<NegotiateContext>& contexts) noexcept {
  for (const auto& c : contexts)
    if (const T* found = std::get_if<T>(&c)) return found;
  return nullptr;
}

// MS-SMB2 2.2.3, StructureSize 36.
struct NegotiateRequest {
  std::uint16_t security_mode = 0;
  std::uint32_t capabilities = 0;
  Guid client_guid{};
  // ClientStartTime: on the wire only when 0x0311 is not among the dialects
  // (then the 8 bytes are NegotiateContextOffset/Count instead).
  std::uint64_t client_start_time = 0;
  std::vector<std::uint16_t> dialects;
  std::vector<NegotiateContext> negotiate_contexts;  // only when 0x0311 is offered

  bool offers(Dialect d) const noexcept;
};

// MS-SMB2 2.2.4, StructureSize 65.
struct NegotiateResponse {
  std::uint16_t security_mode = 0;
  std::uint16_t dialect_revision = 0;
  Guid server_guid{};
  std::uint32_t capabilities = 0;
  std::uint32_t max_transact_size = 0;
  std::uint32_t max_read_size = 0;
  std::uint32_t max_write_size = 0;
  std::uint64_t system_time = 0;                     // FILETIME
  std::uint64_t server_start_time = 0;               // FILETIME, may be 0
  ByteView security_buffer;                          // SPNEGO NegTokenInit2, may be empty
  std::vector<NegotiateContext> negotiate_contexts;  // only when dialect_revision is 0x0311
};

Expected<NegotiateRequest> decode_negotiate_request(ByteView message);
Expected<NegotiateResponse> decode_negotiate_response(ByteView message);

// Encoders append the body after a header already written at w.base(). The
// context list starts 8-aligned from the header; NegotiateContextOffset/Count
// are computed. Contexts are written only when 0x0311 is offered (request) or
// chosen (response); otherwise ClientStartTime / Reserved fields go out.
void encode(Writer& w, const NegotiateRequest& m);
void encode(Writer& w, const NegotiateResponse& m);

}  // namespace smbx::wire
