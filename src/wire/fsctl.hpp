// Payloads of the FSCTLs smbx sends or serves: the IOCTL input and output
// buffers (MS-SMB2 2.2.31.x / 2.2.32.x, MS-FSCC 2.3). Each decoder takes the
// payload alone (IoctlRequest::input, IoctlResponse::output) and refuses one
// shorter than its structure; bytes after the structure are ignored, as the
// servers that define these FSCTLs ignore them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// --- FSCTL_VALIDATE_NEGOTIATE_INFO (smb2-security.md §8) ---

// MS-SMB2 2.2.31.4: must repeat the client's NEGOTIATE request.
struct ValidateNegotiateInfoRequest {
  std::uint32_t capabilities = 0;
  Guid guid{};  // ClientGuid
  std::uint16_t security_mode = 0;
  std::vector<Dialect> dialects{};
  bool operator==(const ValidateNegotiateInfoRequest&) const = default;
};
// MS-SMB2 2.2.32.6, 24 bytes: must repeat the server's NEGOTIATE response.
struct ValidateNegotiateInfoResponse {
  std::uint32_t capabilities = 0;
  Guid guid{};  // ServerGuid
  std::uint16_t security_mode = 0;
  Dialect dialect = Dialect::smb302;
  bool operator==(const ValidateNegotiateInfoResponse&) const = default;
};

Expected<ValidateNegotiateInfoRequest> decode_validate_negotiate_info_request(ByteView payload);
Expected<ValidateNegotiateInfoResponse> decode_validate_negotiate_info_response(ByteView payload);
void encode(Writer& w, const ValidateNegotiateInfoRequest& p);
void encode(Writer& w, const ValidateNegotiateInfoResponse& p);

// --- FSCTL_QUERY_NETWORK_INTERFACE_INFO output (MS-SMB2 2.2.32.5) ---

namespace interface_capability {
inline constexpr std::uint32_t rss_capable = 0x1;
inline constexpr std::uint32_t rdma_capable = 0x2;
}  // namespace interface_capability

// MS-SMB2 2.2.32.5.1 SockAddr_Storage Family.
namespace address_family {
inline constexpr std::uint16_t inet = 0x0002;   // InterNetwork
inline constexpr std::uint16_t inet6 = 0x0017;  // InterNetworkV6
}  // namespace address_family

// One NETWORK_INTERFACE_INFO entry (152 bytes), the address unpacked from its
// 128-byte SockAddr_Storage (MS-SMB2 2.2.32.5.1.1 / 2.2.32.5.1.2).
struct NetworkInterfaceInfo {
  std::uint32_t if_index = 0;
  std::uint32_t capability = 0;  // interface_capability bits
  std::uint64_t link_speed = 0;  // bits per second
  std::uint16_t family = address_family::inet;
  std::uint16_t port = 0;                // host order (big-endian on the wire)
  std::array<std::uint8_t, 16> address{};  // network order; IPv4 uses the first 4 bytes
  std::uint32_t flow_info = 0;           // IPv6 only
  std::uint32_t scope_id = 0;            // IPv6 only
  bool operator==(const NetworkInterfaceInfo&) const = default;
};
inline constexpr std::size_t kNetworkInterfaceInfoSize = 152;

// Follows the Next chain; each Next must step past the 152-byte entry and leave
// room for the following one. Families other than IPv4/IPv6 are refused.
Expected<std::vector<NetworkInterfaceInfo>> decode_network_interface_info(ByteView payload);
void encode_network_interface_info(Writer& w, std::span<const NetworkInterfaceInfo> interfaces);

// --- Server-side copy (offload-copy.md §3) ---

using ResumeKey = std::array<std::uint8_t, 24>;

// SRV_REQUEST_RESUME_KEY (MS-SMB2 2.2.32.3). ContextLength and Context are
// unused: the decoder ignores them, the encoder writes ContextLength 0 and 4
// zero bytes of Context, 32 bytes in all, as Windows does (3.3.5.15.5, note <69>).
struct SrvRequestResumeKey {
  ResumeKey resume_key{};
  bool operator==(const SrvRequestResumeKey&) const = default;
};

// SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1), 24 bytes.
struct SrvCopychunk {
  std::uint64_t source_offset = 0;
  std::uint64_t target_offset = 0;
  std::uint32_t length = 0;
  bool operator==(const SrvCopychunk&) const = default;
};
// SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1): 32 bytes + 24 per chunk.
struct SrvCopychunkCopy {
  ResumeKey source_key{};
  std::vector<SrvCopychunk> chunks{};
  bool operator==(const SrvCopychunkCopy&) const = default;
};
// SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1), 12 bytes. With
// STATUS_INVALID_PARAMETER the three fields are the server's limits instead.
struct SrvCopychunkResponse {
  std::uint32_t chunks_written = 0;
  std::uint32_t chunk_bytes_written = 0;
  std::uint32_t total_bytes_written = 0;
  bool operator==(const SrvCopychunkResponse&) const = default;
};

Expected<SrvRequestResumeKey> decode_srv_request_resume_key(ByteView payload);
// Refuses a ChunkCount whose chunks do not fit the payload, before allocating.
Expected<SrvCopychunkCopy> decode_srv_copychunk_copy(ByteView payload);
Expected<SrvCopychunkResponse> decode_srv_copychunk_response(ByteView payload);
void encode(Writer& w, const SrvRequestResumeKey& p);
void encode(Writer& w, const SrvCopychunkCopy& p);
void encode(Writer& w, const SrvCopychunkResponse& p);

// --- ODX offload read/write (offload-copy.md §2) ---

namespace offload_token_type {
// MS-FSCC 2.1.11: the well-known token meaning "all zeros".
inline constexpr std::uint32_t zero_data = 0xFFFF0001;
}  // namespace offload_token_type

// STORAGE_OFFLOAD_TOKEN (MS-FSCC 2.1.11), 512 bytes, opaque to the client.
// TokenType and TokenIdLength are big-endian. Every byte is kept so that a
// token passes from OFFLOAD_READ to OFFLOAD_WRITE unchanged.
struct StorageOffloadToken {
  static constexpr std::size_t kSize = 512;
  std::uint32_t token_type = 0;
  std::array<std::uint8_t, 2> reserved{};
  std::uint16_t token_id_length = 0;
  std::array<std::uint8_t, 504> token_id{};
  bool operator==(const StorageOffloadToken&) const = default;
};
// A client-built zero-data token. TokenIdLength is 504: the spec does not say
// what Windows sends (offload-copy.md §2.5, unresolved), so servers must not
// rely on it.
StorageOffloadToken zero_data_token();

// MS-FSCC 2.3.42 defines only this flag (the ntifs.h reference uses other
// values, offload-copy.md §2.2): treat any non-zero Flags as "stop offloading here".
namespace offload_read_flags {
inline constexpr std::uint32_t all_zero_beyond_current_range = 0x1;
}  // namespace offload_read_flags

// FSCTL_OFFLOAD_READ_INPUT (MS-FSCC 2.3.41), Size 32.
struct OffloadReadInput {
  std::uint32_t flags = 0;
  std::uint32_t token_time_to_live = 0;  // ms; 0 = provider default
  std::uint64_t file_offset = 0;
  std::uint64_t copy_length = 0;
  bool operator==(const OffloadReadInput&) const = default;
};
// FSCTL_OFFLOAD_READ_OUTPUT (MS-FSCC 2.3.42), Size 528.
struct OffloadReadOutput {
  std::uint32_t flags = 0;
  std::uint64_t transfer_length = 0;
  StorageOffloadToken token{};
  bool operator==(const OffloadReadOutput&) const = default;
};
// FSCTL_OFFLOAD_WRITE_INPUT (MS-FSCC 2.3.43), Size 544: 32 bytes of fields, then the
// token. (offload-copy.md says 552, but its own field table and ntifs.h add up to 544.)
struct OffloadWriteInput {
  std::uint32_t flags = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t copy_length = 0;
  std::uint64_t transfer_offset = 0;  // into the token's data
  StorageOffloadToken token{};
  bool operator==(const OffloadWriteInput&) const = default;
};
// FSCTL_OFFLOAD_WRITE_OUTPUT (MS-FSCC 2.3.44), Size 16.
struct OffloadWriteOutput {
  std::uint32_t flags = 0;
  std::uint64_t length_written = 0;
  bool operator==(const OffloadWriteOutput&) const = default;
};

// Each refuses a Size field other than the structure's (bad_structure_size).
Expected<OffloadReadInput> decode_offload_read_input(ByteView payload);
Expected<OffloadReadOutput> decode_offload_read_output(ByteView payload);
Expected<OffloadWriteInput> decode_offload_write_input(ByteView payload);
Expected<OffloadWriteOutput> decode_offload_write_output(ByteView payload);
void encode(Writer& w, const StorageOffloadToken& p);
void encode(Writer& w, const OffloadReadInput& p);
void encode(Writer& w, const OffloadReadOutput& p);
void encode(Writer& w, const OffloadWriteInput& p);
void encode(Writer& w, const OffloadWriteOutput& p);

// --- Block clone (offload-copy.md §4) ---

// SMB2_DUPLICATE_EXTENTS_DATA (MS-FSCC 2.3.7.2), 40 bytes.
struct DuplicateExtentsData {
  FileId source_file_id{};
  std::uint64_t source_file_offset = 0;
  std::uint64_t target_file_offset = 0;
  std::uint64_t byte_count = 0;
  bool operator==(const DuplicateExtentsData&) const = default;
};
// SMB2_DUPLICATE_EXTENTS_DATA_EX (MS-FSCC 2.3.9.2): 56 bytes on the wire,
// StructureSize 0x30 (the size of the local structure).
namespace duplicate_extents_flags {
inline constexpr std::uint32_t source_atomic = 0x1;
}  // namespace duplicate_extents_flags
struct DuplicateExtentsDataEx {
  FileId source_file_id{};
  std::uint64_t source_file_offset = 0;
  std::uint64_t target_file_offset = 0;
  std::uint64_t byte_count = 0;
  std::uint32_t flags = 0;
  bool operator==(const DuplicateExtentsDataEx&) const = default;
};

Expected<DuplicateExtentsData> decode_duplicate_extents_data(ByteView payload);
Expected<DuplicateExtentsDataEx> decode_duplicate_extents_data_ex(ByteView payload);
void encode(Writer& w, const DuplicateExtentsData& p);
void encode(Writer& w, const DuplicateExtentsDataEx& p);

// --- FSCTL_LMR_REQUEST_RESILIENCY input (MS-SMB2 2.2.31.3), 8 bytes ---
struct NetworkResiliencyRequest {
  std::uint32_t timeout = 0;  // ms
  bool operator==(const NetworkResiliencyRequest&) const = default;
};
Expected<NetworkResiliencyRequest> decode_network_resiliency_request(ByteView payload);
void encode(Writer& w, const NetworkResiliencyRequest& p);

// FSCTL_PIPE_TRANSCEIVE carries a DCE/RPC PDU as its input and output, with
// no framing of its own: IoctlRequest::input is the PDU (src/rpc decodes it).

// The payload of any of the above as bytes, for IoctlRequest::input and
// IoctlResponse::output (which view caller-owned memory).
template <class T>
  requires requires(Writer& w, const T& p) { encode(w, p); }
Bytes fsctl_payload(const T& payload) {
  Bytes out{};
  Writer w{out};
  encode(w, payload);
  return out;
}
inline Bytes fsctl_payload(std::span<const NetworkInterfaceInfo> interfaces) {
  Bytes out{};
  Writer w{out};
  encode_network_interface_info(w, interfaces);
  return out;
}

}  // namespace smbx::wire
