// SMB2 TREE_CONNECT request and response (MS-SMB2 2.2.9, 2.2.9.1, 2.2.9.2, 2.2.10).
// TREE_DISCONNECT has no fields and lives in simple.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.9 Flags (3.1.1; Reserved before).
namespace tree_connect_flags {
inline constexpr std::uint16_t cluster_reconnect = 0x0001;
inline constexpr std::uint16_t redirect_to_owner = 0x0002;
inline constexpr std::uint16_t extension_present = 0x0004;
}  // namespace tree_connect_flags

// MS-SMB2 2.2.9.2 ContextType.
inline constexpr std::uint16_t kRemotedIdentityTreeConnectContext = 0x0001;

// MS-SMB2 2.2.10 ShareType.
namespace share_type {
inline constexpr std::uint8_t disk = 0x01;
inline constexpr std::uint8_t pipe = 0x02;
inline constexpr std::uint8_t print = 0x03;
}  // namespace share_type

// MS-SMB2 2.2.10 ShareFlags. The caching policy is the 2-bit field under
// caching_mask, not a set of independent bits.
namespace share_flags {
inline constexpr std::uint32_t dfs = 0x00000001;
inline constexpr std::uint32_t dfs_root = 0x00000002;
inline constexpr std::uint32_t caching_mask = 0x00000030;
inline constexpr std::uint32_t manual_caching = 0x00000000;
inline constexpr std::uint32_t auto_caching = 0x00000010;
inline constexpr std::uint32_t vdo_caching = 0x00000020;
inline constexpr std::uint32_t no_caching = 0x00000030;
inline constexpr std::uint32_t restrict_exclusive_opens = 0x00000100;
inline constexpr std::uint32_t force_shared_delete = 0x00000200;
inline constexpr std::uint32_t allow_namespace_caching = 0x00000400;
inline constexpr std::uint32_t access_based_directory_enum = 0x00000800;
inline constexpr std::uint32_t force_levelii_oplock = 0x00001000;
inline constexpr std::uint32_t enable_hash_v1 = 0x00002000;
inline constexpr std::uint32_t enable_hash_v2 = 0x00004000;
inline constexpr std::uint32_t encrypt_data = 0x00008000;
inline constexpr std::uint32_t identity_remoting = 0x00040000;
inline constexpr std::uint32_t compress_data = 0x00100000;
inline constexpr std::uint32_t isolated_transport = 0x00200000;
}  // namespace share_flags

// MS-SMB2 2.2.10 Capabilities (SMB2_SHARE_CAP_*).
namespace share_caps {
inline constexpr std::uint32_t dfs = 0x00000008;
inline constexpr std::uint32_t continuous_availability = 0x00000010;
inline constexpr std::uint32_t scaleout = 0x00000020;
inline constexpr std::uint32_t cluster = 0x00000040;
inline constexpr std::uint32_t asymmetric = 0x00000080;
inline constexpr std::uint32_t redirect_to_owner = 0x00000100;
}  // namespace share_caps

// MS-SMB2 2.2.9.2, kept raw: smbx neither sends nor interprets the remoted
// identity context (2.2.9.2.1).
struct TreeConnectContext {
  std::uint16_t context_type = 0;
  ByteView data;
};

// MS-SMB2 2.2.9, StructureSize 9. With tree_connect_flags::extension_present
// the Buffer starts with the 2.2.9.1 extension: TreeConnectContextOffset,
// TreeConnectContextCount, 10 reserved bytes, then PathName, which PathOffset
// points at. TreeConnectContextOffset is read and written as an offset from
// the start of the SMB2 header, like every other body offset; 2.2.9.1 says
// "from the start of the SMB2 TREE_CONNECT request" and no capture settles it.
// Each context starts 8-aligned from the header, as negotiate contexts do.
struct TreeConnectRequest {
  std::uint16_t flags = 0;
  std::u16string path;                       // \\server\share
  std::vector<TreeConnectContext> contexts;  // only with extension_present
};

// MS-SMB2 2.2.10, StructureSize 16.
struct TreeConnectResponse {
  std::uint8_t share_type = 0;
  std::uint32_t share_flags = 0;
  std::uint32_t capabilities = 0;
  std::uint32_t maximal_access = 0;  // ACCESS_MASK
};

Expected<TreeConnectRequest> decode_tree_connect_request(ByteView message);
Expected<TreeConnectResponse> decode_tree_connect_response(ByteView message);

// The extension is written when m.flags has extension_present, else not (and
// contexts are then dropped).
void encode(Writer& w, const TreeConnectRequest& m);
void encode(Writer& w, const TreeConnectResponse& m);

}  // namespace smbx::wire
