// SMB2 QUERY_DIRECTORY request and response (MS-SMB2 2.2.33, 2.2.34). The
// response buffer holds entries of the requested MS-FSCC class: decode it with
// fscc::decode_directory_entries.
#pragma once

#include <cstdint>
#include <string>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.33 Flags
namespace query_directory_flags {
inline constexpr std::uint8_t restart_scans = 0x01;
inline constexpr std::uint8_t return_single_entry = 0x02;
inline constexpr std::uint8_t index_specified = 0x04;
inline constexpr std::uint8_t reopen = 0x10;
}  // namespace query_directory_flags

struct QueryDirectoryRequest {
  std::uint8_t file_information_class = 0;  // fscc::file_info_class::file_*_directory_information
  std::uint8_t flags = 0;
  std::uint32_t file_index = 0;
  FileId file_id;
  std::u16string file_name;  // the search pattern, e.g. u"*"
  std::uint32_t output_buffer_length = 0;
};

struct QueryDirectoryResponse {
  ByteView output_buffer;
};

Expected<QueryDirectoryRequest> decode_query_directory_request(ByteView message);
Expected<QueryDirectoryResponse> decode_query_directory_response(ByteView message);
void encode(Writer& w, const QueryDirectoryRequest& m);
void encode(Writer& w, const QueryDirectoryResponse& m);

}  // namespace smbx::wire
