// SMB2 IOCTL request and response (MS-SMB2 2.2.31, 2.2.32). The FSCTL
// payloads they carry are in wire/fsctl.hpp.
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// CtlCode values (MS-SMB2 2.2.31 table; MS-FSCC 2.3).
namespace fsctl {
inline constexpr std::uint32_t dfs_get_referrals = 0x00060194;
inline constexpr std::uint32_t dfs_get_referrals_ex = 0x000601B0;
inline constexpr std::uint32_t pipe_peek = 0x0011400C;
inline constexpr std::uint32_t pipe_wait = 0x00110018;
inline constexpr std::uint32_t pipe_transceive = 0x0011C017;
inline constexpr std::uint32_t srv_request_resume_key = 0x00140078;
inline constexpr std::uint32_t srv_copychunk = 0x001440F2;
inline constexpr std::uint32_t srv_copychunk_write = 0x001480F2;
inline constexpr std::uint32_t srv_enumerate_snapshots = 0x00144064;
inline constexpr std::uint32_t srv_read_hash = 0x001441BB;
inline constexpr std::uint32_t lmr_request_resiliency = 0x001401D4;
inline constexpr std::uint32_t query_network_interface_info = 0x001401FC;
inline constexpr std::uint32_t validate_negotiate_info = 0x00140204;
inline constexpr std::uint32_t offload_read = 0x00094264;
inline constexpr std::uint32_t offload_write = 0x00098268;
inline constexpr std::uint32_t duplicate_extents_to_file = 0x00098344;
inline constexpr std::uint32_t duplicate_extents_to_file_ex = 0x000983E8;
inline constexpr std::uint32_t set_reparse_point = 0x000900A4;
inline constexpr std::uint32_t get_reparse_point = 0x000900A8;
inline constexpr std::uint32_t set_sparse = 0x000900C4;
inline constexpr std::uint32_t set_zero_data = 0x000980C8;
inline constexpr std::uint32_t query_allocated_ranges = 0x000940CF;
}  // namespace fsctl

// MS-SMB2 2.2.31 Flags.
namespace ioctl_flags {
inline constexpr std::uint32_t is_ioctl = 0x00000000;
inline constexpr std::uint32_t is_fsctl = 0x00000001;
}  // namespace ioctl_flags

// MS-SMB2 2.2.31, StructureSize 57. FSCTLs that need no open
// (VALIDATE_NEGOTIATE_INFO, QUERY_NETWORK_INTERFACE_INFO) send an all-0xFF FileId.
struct IoctlRequest {
  std::uint32_t ctl_code = 0;
  FileId file_id{};
  ByteView input{};
  std::uint32_t max_input_response = 0;
  ByteView output{};  // almost always empty
  std::uint32_t max_output_response = 0;
  std::uint32_t flags = ioctl_flags::is_fsctl;
  bool operator==(const IoctlRequest& o) const;
};

// MS-SMB2 2.2.32, StructureSize 49. Also sent with some failure statuses
// (copychunk limits with STATUS_INVALID_PARAMETER, STATUS_BUFFER_OVERFLOW).
struct IoctlResponse {
  std::uint32_t ctl_code = 0;
  FileId file_id{};
  ByteView input{};
  ByteView output{};
  std::uint32_t flags = 0;
  bool operator==(const IoctlResponse& o) const;
};

inline constexpr std::uint16_t kIoctlRequestStructureSize = 57;
inline constexpr std::uint16_t kIoctlResponseStructureSize = 49;

// `message` is the whole SMB2 message from its header (offsets count from there).
Expected<IoctlRequest> decode_ioctl_request(ByteView message);
Expected<IoctlResponse> decode_ioctl_response(ByteView message);

// Append the body; the header is already at w.base() (w.offset() == 64).
void encode(Writer& w, const IoctlRequest& m);
void encode(Writer& w, const IoctlResponse& m);

}  // namespace smbx::wire
