// The SMB2 messages with no variable part: LOGOFF, TREE_DISCONNECT, ECHO,
// CANCEL (StructureSize 4, nothing but Reserved), FLUSH and CLOSE
// (MS-SMB2 2.2.7, 2.2.8, 2.2.11, 2.2.12, 2.2.15-2.2.18, 2.2.28-2.2.30).
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

struct LogoffRequest {};           // MS-SMB2 2.2.7
struct LogoffResponse {};          // MS-SMB2 2.2.8
struct TreeDisconnectRequest {};   // MS-SMB2 2.2.11
struct TreeDisconnectResponse {};  // MS-SMB2 2.2.12
struct EchoRequest {};             // MS-SMB2 2.2.28
struct EchoResponse {};            // MS-SMB2 2.2.29
// MS-SMB2 2.2.30: the header names the request to cancel (MessageId or
// AsyncId); the server sends no response.
struct CancelRequest {};

// MS-SMB2 2.2.17, StructureSize 24.
struct FlushRequest {
  FileId file_id;
};
// MS-SMB2 2.2.18, StructureSize 4.
struct FlushResponse {};

// MS-SMB2 2.2.15 Flags (request and response).
namespace close_flags {
inline constexpr std::uint16_t postquery_attrib = 0x0001;
}

// MS-SMB2 2.2.15, StructureSize 24.
struct CloseRequest {
  std::uint16_t flags = 0;
  FileId file_id;
};

// MS-SMB2 2.2.16, StructureSize 60. The attributes are valid only when the
// request asked for close_flags::postquery_attrib; otherwise they are zero.
struct CloseResponse {
  std::uint16_t flags = 0;
  std::uint64_t creation_time = 0;  // FILETIME
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t allocation_size = 0;
  std::uint64_t end_of_file = 0;
  std::uint32_t file_attributes = 0;
};

Expected<LogoffRequest> decode_logoff_request(ByteView message);
Expected<LogoffResponse> decode_logoff_response(ByteView message);
Expected<TreeDisconnectRequest> decode_tree_disconnect_request(ByteView message);
Expected<TreeDisconnectResponse> decode_tree_disconnect_response(ByteView message);
Expected<EchoRequest> decode_echo_request(ByteView message);
Expected<EchoResponse> decode_echo_response(ByteView message);
Expected<CancelRequest> decode_cancel_request(ByteView message);
Expected<FlushRequest> decode_flush_request(ByteView message);
Expected<FlushResponse> decode_flush_response(ByteView message);
Expected<CloseRequest> decode_close_request(ByteView message);
Expected<CloseResponse> decode_close_response(ByteView message);

void encode(Writer& w, const LogoffRequest& m);
void encode(Writer& w, const LogoffResponse& m);
void encode(Writer& w, const TreeDisconnectRequest& m);
void encode(Writer& w, const TreeDisconnectResponse& m);
void encode(Writer& w, const EchoRequest& m);
void encode(Writer& w, const EchoResponse& m);
void encode(Writer& w, const CancelRequest& m);
void encode(Writer& w, const FlushRequest& m);
void encode(Writer& w, const FlushResponse& m);
void encode(Writer& w, const CloseRequest& m);
void encode(Writer& w, const CloseResponse& m);

}  // namespace smbx::wire
