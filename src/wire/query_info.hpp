// SMB2 QUERY_INFO request and response (MS-SMB2 2.2.37, 2.2.38). The output
// buffer holds the requested MS-FSCC class (see wire/fscc.hpp) or a security
// descriptor or quota list.
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.37 InfoType (also SET_INFO's, 2.2.39)
namespace info_type {
inline constexpr std::uint8_t file = 0x01;
inline constexpr std::uint8_t filesystem = 0x02;
inline constexpr std::uint8_t security = 0x03;
inline constexpr std::uint8_t quota = 0x04;
}  // namespace info_type

// MS-SMB2 2.2.37 AdditionalInformation for InfoType security
namespace security_information {
inline constexpr std::uint32_t owner = 0x00000001;
inline constexpr std::uint32_t group = 0x00000002;
inline constexpr std::uint32_t dacl = 0x00000004;
inline constexpr std::uint32_t sacl = 0x00000008;
inline constexpr std::uint32_t label = 0x00000010;
inline constexpr std::uint32_t attribute = 0x00000020;
inline constexpr std::uint32_t scope = 0x00000040;
inline constexpr std::uint32_t backup = 0x00010000;
}  // namespace security_information

// MS-SMB2 2.2.37 Flags (EA and quota queries)
namespace query_info_flags {
inline constexpr std::uint32_t restart_scan = 0x00000001;
inline constexpr std::uint32_t return_single_entry = 0x00000002;
inline constexpr std::uint32_t index_specified = 0x00000004;
}  // namespace query_info_flags

struct QueryInfoRequest {
  std::uint8_t info_type = 0;
  std::uint8_t file_info_class = 0;  // fscc::file_info_class / fs_info_class; 0 for security
  std::uint32_t output_buffer_length = 0;
  ByteView input_buffer;  // EA name list or quota SID list; usually empty
  std::uint32_t additional_information = 0;
  std::uint32_t flags = 0;
  FileId file_id;
};

struct QueryInfoResponse {
  ByteView output_buffer;
};

Expected<QueryInfoRequest> decode_query_info_request(ByteView message);
Expected<QueryInfoResponse> decode_query_info_response(ByteView message);
// An empty input buffer is sent as InputBufferOffset 0 and one padding byte, as Samba does.
void encode(Writer& w, const QueryInfoRequest& m);
void encode(Writer& w, const QueryInfoResponse& m);

}  // namespace smbx::wire
