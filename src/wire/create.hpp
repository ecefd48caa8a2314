// SMB2 CREATE request and response (MS-SMB2 2.2.13, 2.2.14).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/create_context.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.13 RequestedOplockLevel / 2.2.14 OplockLevel.
namespace oplock {
inline constexpr std::uint8_t none = 0x00;
inline constexpr std::uint8_t level_ii = 0x01;
inline constexpr std::uint8_t exclusive = 0x08;
inline constexpr std::uint8_t batch = 0x09;
inline constexpr std::uint8_t lease = 0xFF;  // the RqLs context carries the lease
}  // namespace oplock

// MS-SMB2 2.2.13 ImpersonationLevel.
namespace impersonation {
inline constexpr std::uint32_t anonymous = 0;
inline constexpr std::uint32_t identification = 1;
inline constexpr std::uint32_t impersonation = 2;
inline constexpr std::uint32_t delegate = 3;
}  // namespace impersonation

// MS-SMB2 2.2.13.1 access mask (MS-DTYP 2.4.3). Directories reuse the low bits.
namespace access {
inline constexpr std::uint32_t read_data = 0x00000001;
inline constexpr std::uint32_t list_directory = 0x00000001;
inline constexpr std::uint32_t write_data = 0x00000002;
inline constexpr std::uint32_t add_file = 0x00000002;
inline constexpr std::uint32_t append_data = 0x00000004;
inline constexpr std::uint32_t add_subdirectory = 0x00000004;
inline constexpr std::uint32_t read_ea = 0x00000008;
inline constexpr std::uint32_t write_ea = 0x00000010;
inline constexpr std::uint32_t execute = 0x00000020;
inline constexpr std::uint32_t traverse = 0x00000020;
inline constexpr std::uint32_t delete_child = 0x00000040;
inline constexpr std::uint32_t read_attributes = 0x00000080;
inline constexpr std::uint32_t write_attributes = 0x00000100;
inline constexpr std::uint32_t delete_ = 0x00010000;  // DELETE
inline constexpr std::uint32_t read_control = 0x00020000;
inline constexpr std::uint32_t write_dac = 0x00040000;
inline constexpr std::uint32_t write_owner = 0x00080000;
inline constexpr std::uint32_t synchronize = 0x00100000;
inline constexpr std::uint32_t access_system_security = 0x01000000;
inline constexpr std::uint32_t maximum_allowed = 0x02000000;
inline constexpr std::uint32_t generic_all = 0x10000000;
inline constexpr std::uint32_t generic_execute = 0x20000000;
inline constexpr std::uint32_t generic_write = 0x40000000;
inline constexpr std::uint32_t generic_read = 0x80000000;
}  // namespace access

// MS-SMB2 2.2.13 ShareAccess.
namespace share_access {
inline constexpr std::uint32_t read = 0x1;
inline constexpr std::uint32_t write = 0x2;
inline constexpr std::uint32_t delete_ = 0x4;
inline constexpr std::uint32_t all = read | write | delete_;
}  // namespace share_access

// MS-SMB2 2.2.13 CreateDisposition.
namespace disposition {
inline constexpr std::uint32_t supersede = 0;
inline constexpr std::uint32_t open = 1;
inline constexpr std::uint32_t create = 2;
inline constexpr std::uint32_t open_if = 3;
inline constexpr std::uint32_t overwrite = 4;
inline constexpr std::uint32_t overwrite_if = 5;
}  // namespace disposition

// MS-SMB2 2.2.13 CreateOptions.
namespace create_options {
inline constexpr std::uint32_t directory_file = 0x00000001;
inline constexpr std::uint32_t write_through = 0x00000002;
inline constexpr std::uint32_t sequential_only = 0x00000004;
inline constexpr std::uint32_t no_intermediate_buffering = 0x00000008;
inline constexpr std::uint32_t synchronous_io_alert = 0x00000010;
inline constexpr std::uint32_t synchronous_io_nonalert = 0x00000020;
inline constexpr std::uint32_t non_directory_file = 0x00000040;
inline constexpr std::uint32_t complete_if_oplocked = 0x00000100;
inline constexpr std::uint32_t no_ea_knowledge = 0x00000200;
inline constexpr std::uint32_t open_remote_instance = 0x00000400;
inline constexpr std::uint32_t random_access = 0x00000800;
inline constexpr std::uint32_t delete_on_close = 0x00001000;
inline constexpr std::uint32_t open_by_file_id = 0x00002000;
inline constexpr std::uint32_t open_for_backup_intent = 0x00004000;
inline constexpr std::uint32_t no_compression = 0x00008000;
inline constexpr std::uint32_t open_requiring_oplock = 0x00010000;
inline constexpr std::uint32_t disallow_exclusive = 0x00020000;
inline constexpr std::uint32_t reserve_opfilter = 0x00100000;
inline constexpr std::uint32_t open_reparse_point = 0x00200000;
inline constexpr std::uint32_t open_no_recall = 0x00400000;
inline constexpr std::uint32_t open_for_free_space_query = 0x00800000;
}  // namespace create_options

// MS-SMB2 2.2.14 CreateAction.
namespace create_action {
inline constexpr std::uint32_t superseded = 0;
inline constexpr std::uint32_t opened = 1;
inline constexpr std::uint32_t created = 2;
inline constexpr std::uint32_t overwritten = 3;
}  // namespace create_action

// MS-SMB2 2.2.14 Flags (3.x).
namespace create_flags {
inline constexpr std::uint8_t reparsepoint = 0x01;
}  // namespace create_flags

// MS-FSCC 2.6 file attributes, the values CREATE carries.
namespace file_attributes {
inline constexpr std::uint32_t readonly = 0x00000001;
inline constexpr std::uint32_t hidden = 0x00000002;
inline constexpr std::uint32_t system = 0x00000004;
inline constexpr std::uint32_t directory = 0x00000010;
inline constexpr std::uint32_t archive = 0x00000020;
inline constexpr std::uint32_t normal = 0x00000080;
inline constexpr std::uint32_t temporary = 0x00000100;
inline constexpr std::uint32_t sparse_file = 0x00000200;
inline constexpr std::uint32_t reparse_point = 0x00000400;
inline constexpr std::uint32_t compressed = 0x00000800;
inline constexpr std::uint32_t offline = 0x00001000;
inline constexpr std::uint32_t not_content_indexed = 0x00002000;
inline constexpr std::uint32_t encrypted = 0x00004000;
}  // namespace file_attributes

// MS-SMB2 2.2.13, StructureSize 57.
struct CreateRequest {
  std::uint8_t security_flags = 0;
  std::uint8_t requested_oplock_level = oplock::none;
  std::uint32_t impersonation_level = impersonation::impersonation;
  std::uint64_t smb_create_flags = 0;
  std::uint32_t desired_access = 0;
  std::uint32_t file_attributes = 0;
  std::uint32_t share_access = 0;
  std::uint32_t create_disposition = disposition::open;
  std::uint32_t create_options = 0;
  std::u16string name{};  // relative to the share root, no leading '\'
  std::vector<CreateContext> contexts{};
  bool operator==(const CreateRequest&) const = default;
};

// MS-SMB2 2.2.14, StructureSize 89.
struct CreateResponse {
  std::uint8_t oplock_level = oplock::none;
  std::uint8_t flags = 0;
  std::uint32_t create_action = 0;
  std::uint64_t creation_time = 0;
  std::uint64_t last_access_time = 0;
  std::uint64_t last_write_time = 0;
  std::uint64_t change_time = 0;
  std::uint64_t allocation_size = 0;
  std::uint64_t end_of_file = 0;
  std::uint32_t file_attributes = 0;
  FileId file_id{};
  std::vector<CreateContext> contexts{};
  bool operator==(const CreateResponse&) const = default;
};

inline constexpr std::uint16_t kCreateRequestStructureSize = 57;
inline constexpr std::uint16_t kCreateResponseStructureSize = 89;

// `message` is the whole SMB2 message from its header (offsets count from there).
Expected<CreateRequest> decode_create_request(ByteView message);
Expected<CreateResponse> decode_create_response(ByteView message);

// Append the body; the header is already at w.base() (w.offset() == 64).
void encode(Writer& w, const CreateRequest& m);
void encode(Writer& w, const CreateResponse& m);

}  // namespace smbx::wire
