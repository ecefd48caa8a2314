// SMB2 SET_INFO request and response (MS-SMB2 2.2.39, 2.2.40). The buffer holds
// an MS-FSCC class (rename, disposition, end of file, basic... see wire/fscc.hpp)
// or a security descriptor or quota list.
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/query_info.hpp"  // info_type, security_information
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

struct SetInfoRequest {
  std::uint8_t info_type = 0;
  std::uint8_t file_info_class = 0;
  ByteView buffer;
  std::uint32_t additional_information = 0;
  FileId file_id;
};

// MS-SMB2 2.2.40: StructureSize 2 and nothing else.
struct SetInfoResponse {};

Expected<SetInfoRequest> decode_set_info_request(ByteView message);
Expected<SetInfoResponse> decode_set_info_response(ByteView message);
void encode(Writer& w, const SetInfoRequest& m);
void encode(Writer& w, const SetInfoResponse& m);

}  // namespace smbx::wire
