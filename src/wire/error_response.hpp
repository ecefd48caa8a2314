// SMB2 ERROR response (MS-SMB2 2.2.2), its 3.1.1 error contexts (2.2.2.1) and
// the ErrorData formats of 2.2.2.2 that clients act on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.2.1 ErrorId.
inline constexpr std::uint32_t kErrorIdDefault = 0x00000000;
inline constexpr std::uint32_t kErrorIdShareRedirect = 0x72645253;

// MS-SMB2 2.2.2.1: one SMB2 ERROR Context.
struct ErrorContext {
  std::uint32_t error_id = kErrorIdDefault;
  ByteView data;  // ErrorContextData
};

// MS-SMB2 2.2.2, StructureSize 9. Also the body of interim STATUS_PENDING
// responses (3.3.4.2).
struct ErrorResponse {
  std::uint8_t error_context_count = 0;  // as received; the encoder writes contexts.size()
  ByteView error_data;                   // all ByteCount bytes
  // 3.1.1 with ErrorContextCount > 0: error_data parsed as contexts, each
  // starting 8-aligned from the start of the ERROR response.
  std::vector<ErrorContext> contexts;
};

Expected<ErrorResponse> decode_error_response(ByteView message);

// With contexts, ErrorData is built from them (8-aligned, ErrorContextCount =
// contexts.size()) and error_data is not looked at; otherwise ErrorData is
// error_data with ErrorContextCount 0. With ByteCount 0 the one ErrorData
// byte the StructureSize counts is written: the body is 9 bytes.
void encode(Writer& w, const ErrorResponse& m);

// The ErrorData that the status-specific formats of 2.2.2.2 live in: the data
// of the first SMB2_ERROR_ID_DEFAULT context when there are contexts (3.1.1),
// else the whole ErrorData. Empty if there is no default context.
ByteView default_error_data(const ErrorResponse& m);

// MS-SMB2 2.2.2.2: with STATUS_BUFFER_TOO_SMALL the ErrorData is the 4-byte
// buffer length the request needed.
Expected<std::uint32_t> buffer_too_small_required_length(const ErrorResponse& m);

// MS-SMB2 2.2.2.2.1 constants.
inline constexpr std::uint32_t kSymlinkErrorTag = 0x4C4D5953;  // "SYML"
inline constexpr std::uint32_t kIoReparseTagSymlink = 0xA000000C;
inline constexpr std::uint32_t kSymlinkFlagRelative = 0x00000001;

// MS-SMB2 2.2.2.2.1 Symbolic Link Error Response (status STOPPED_ON_SYMLINK).
struct SymlinkErrorResponse {
  std::uint16_t reparse_data_length = 0;  // as received; the encoder computes it
  // Bytes of the requested path, counted from its end, that lie past the link
  // and must be appended to the resolved target.
  std::uint16_t unparsed_path_length = 0;
  std::u16string substitute_name;
  std::u16string print_name;
  std::uint32_t flags = 0;  // kSymlinkFlagRelative: the target is relative to the link's directory
};

// `error_data` is default_error_data() of the ERROR response. Checks the tags
// and that SymLinkLength and both names lie inside the data; name offsets
// count from the start of PathBuffer.
Expected<SymlinkErrorResponse> decode_symlink_error(ByteView error_data);

// Appends the structure (PathBuffer: substitute name, then print name).
void encode(Writer& w, const SymlinkErrorResponse& m);

}  // namespace smbx::wire
