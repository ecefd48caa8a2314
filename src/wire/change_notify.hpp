// SMB2 CHANGE_NOTIFY request and response (MS-SMB2 2.2.35, 2.2.36) and the
// FILE_NOTIFY_INFORMATION chain the response carries (MS-FSCC 2.7.1).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"
#include "wire/writer.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.35 Flags
namespace change_notify_flags {
inline constexpr std::uint16_t watch_tree = 0x0001;
}

// MS-SMB2 2.2.35 CompletionFilter
namespace completion_filter {
inline constexpr std::uint32_t file_name = 0x00000001;
inline constexpr std::uint32_t dir_name = 0x00000002;
inline constexpr std::uint32_t attributes = 0x00000004;
inline constexpr std::uint32_t size = 0x00000008;
inline constexpr std::uint32_t last_write = 0x00000010;
inline constexpr std::uint32_t last_access = 0x00000020;
inline constexpr std::uint32_t creation = 0x00000040;
inline constexpr std::uint32_t ea = 0x00000080;
inline constexpr std::uint32_t security = 0x00000100;
inline constexpr std::uint32_t stream_name = 0x00000200;
inline constexpr std::uint32_t stream_size = 0x00000400;
inline constexpr std::uint32_t stream_write = 0x00000800;
}  // namespace completion_filter

// MS-FSCC 2.7.1 Action
namespace notify_action {
inline constexpr std::uint32_t added = 0x00000001;
inline constexpr std::uint32_t removed = 0x00000002;
inline constexpr std::uint32_t modified = 0x00000003;
inline constexpr std::uint32_t renamed_old_name = 0x00000004;
inline constexpr std::uint32_t renamed_new_name = 0x00000005;
inline constexpr std::uint32_t added_stream = 0x00000006;
inline constexpr std::uint32_t removed_stream = 0x00000007;
inline constexpr std::uint32_t modified_stream = 0x00000008;
}  // namespace notify_action

struct ChangeNotifyRequest {
  std::uint16_t flags = 0;
  std::uint32_t output_buffer_length = 0;
  FileId file_id;  // a directory
  std::uint32_t completion_filter = 0;
};

struct ChangeNotifyResponse {
  ByteView output_buffer;  // a FILE_NOTIFY_INFORMATION chain
};

Expected<ChangeNotifyRequest> decode_change_notify_request(ByteView message);
Expected<ChangeNotifyResponse> decode_change_notify_response(ByteView message);
void encode(Writer& w, const ChangeNotifyRequest& m);
void encode(Writer& w, const ChangeNotifyResponse& m);

// MS-FSCC 2.7.1
struct FileNotifyInformation {
  std::uint32_t action = 0;
  std::u16string file_name;  // relative to the watched directory
  bool operator==(const FileNotifyInformation&) const = default;
};

// An empty buffer is an empty list (a server that lost track of the changes
// answers STATUS_NOTIFY_ENUM_DIR with no data).
Expected<std::vector<FileNotifyInformation>> decode_file_notify_information(ByteView buffer);
// Entries 4-aligned, as MS-FSCC 2.7.1 requires of NextEntryOffset.
void encode_file_notify_information(Writer& w, std::span<const FileNotifyInformation> changes);

}  // namespace smbx::wire
