// SMB2 CREATE contexts: the chain codec and the typed contexts that smbx
// understands (MS-SMB2 2.2.13.2 request, 2.2.14.2 response).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// Context names: four ASCII bytes, or sixteen raw GUID bytes (MS-SMB2 2.2.13.2).
namespace context_name {
inline constexpr std::string_view ea_buffer = "ExtA";
inline constexpr std::string_view sd_buffer = "SecD";
inline constexpr std::string_view durable_handle_request = "DHnQ";
inline constexpr std::string_view durable_handle_reconnect = "DHnC";
inline constexpr std::string_view allocation_size = "AlSi";
inline constexpr std::string_view query_maximal_access = "MxAc";
inline constexpr std::string_view timewarp_token = "TWrp";
inline constexpr std::string_view query_on_disk_id = "QFid";
inline constexpr std::string_view request_lease = "RqLs";
inline constexpr std::string_view durable_handle_request_v2 = "DH2Q";
inline constexpr std::string_view durable_handle_reconnect_v2 = "DH2C";
// MS-SMB2 2.2.13.2.13 / 2.2.13.2.15 / 2.2.13.2.14: wire bytes, exactly as sent.
inline constexpr Guid app_instance_id = {0x45, 0xBC, 0xA6, 0x6A, 0xEF, 0xA7, 0xF7, 0x4A,
                                         0x90, 0x08, 0xFA, 0x46, 0x2E, 0x14, 0x4D, 0x74};
inline constexpr Guid app_instance_version = {0xB9, 0x82, 0xD0, 0xB7, 0x3B, 0x56, 0x07, 0x4F,
                                              0xA0, 0x7B, 0x52, 0x4A, 0x81, 0x16, 0xA0, 0x10};
inline constexpr Guid svhdx_open_device_context = {0x9C, 0xCB, 0xCF, 0x9E, 0x04, 0xC1, 0xE6, 0x43,
                                                   0x98, 0x0E, 0x15, 0x8D, 0xA1, 0xF6, 0xEC, 0x83};
}  // namespace context_name

// MS-SMB2 2.2.13.2.8 LeaseState.
namespace lease_state {
inline constexpr std::uint32_t none = 0x00;
inline constexpr std::uint32_t read_caching = 0x01;
inline constexpr std::uint32_t handle_caching = 0x02;
inline constexpr std::uint32_t write_caching = 0x04;
}  // namespace lease_state

// MS-SMB2 2.2.13.2.10 / 2.2.14.2.10 lease Flags.
namespace lease_flags {
inline constexpr std::uint32_t break_in_progress = 0x02;
inline constexpr std::uint32_t parent_lease_key_set = 0x04;
}  // namespace lease_flags

// MS-SMB2 2.2.13.2.11 / 2.2.13.2.12 / 2.2.14.2.12 durable v2 Flags.
namespace durable_flags {
inline constexpr std::uint32_t persistent = 0x02;
}  // namespace durable_flags

// DHnQ request (MS-SMB2 2.2.13.2.3): 16 reserved bytes.
struct DurableHandleRequest {
  bool operator==(const DurableHandleRequest&) const = default;
};
// DHnQ response (MS-SMB2 2.2.14.2.3): 8 reserved bytes.
struct DurableHandleResponse {
  bool operator==(const DurableHandleResponse&) const = default;
};
// DHnC (MS-SMB2 2.2.13.2.4): the FileId of the open being reclaimed.
struct DurableHandleReconnect {
  FileId file_id{};
  bool operator==(const DurableHandleReconnect&) const = default;
};
// DH2Q request (MS-SMB2 2.2.13.2.11), 32 bytes.
struct DurableHandleRequestV2 {
  std::uint32_t timeout = 0;  // milliseconds; 0 = server default
  std::uint32_t flags = 0;    // durable_flags::persistent
  Guid create_guid{};
  bool operator==(const DurableHandleRequestV2&) const = default;
};
// DH2Q response (MS-SMB2 2.2.14.2.12), 8 bytes.
struct DurableHandleResponseV2 {
  std::uint32_t timeout = 0;
  std::uint32_t flags = 0;
  bool operator==(const DurableHandleResponseV2&) const = default;
};
// DH2C (MS-SMB2 2.2.13.2.12), 36 bytes.
struct DurableHandleReconnectV2 {
  FileId file_id{};
  Guid create_guid{};
  std::uint32_t flags = 0;
  bool operator==(const DurableHandleReconnectV2&) const = default;
};

// RqLs in both directions: v1 (MS-SMB2 2.2.13.2.8 / 2.2.14.2.10, 32 bytes) and
// v2 (2.2.13.2.10 / 2.2.14.2.11, 52 bytes). DataLength tells them apart.
struct Lease {
  enum class Version : std::uint8_t { v1 = 1, v2 = 2 };
  static constexpr std::size_t kV1Size = 32;
  static constexpr std::size_t kV2Size = 52;

  Version version = Version::v2;
  Guid lease_key{};
  std::uint32_t lease_state = 0;
  std::uint32_t flags = 0;  // LeaseFlags in v1
  std::uint64_t lease_duration = 0;
  Guid parent_lease_key{};  // v2 only
  std::uint16_t epoch = 0;  // v2 only
  bool operator==(const Lease&) const = default;
};

// MxAc request (MS-SMB2 2.2.13.2.5): an optional Timestamp.
struct QueryMaximalAccessRequest {
  std::optional<std::uint64_t> timestamp{};
  bool operator==(const QueryMaximalAccessRequest&) const = default;
};
// MxAc response (MS-SMB2 2.2.14.2.5).
struct QueryMaximalAccessResponse {
  std::uint32_t query_status = 0;  // NTSTATUS
  std::uint32_t maximal_access = 0;
  bool operator==(const QueryMaximalAccessResponse&) const = default;
};
// QFid request (MS-SMB2 2.2.13.2.9): no data.
struct QueryOnDiskIdRequest {
  bool operator==(const QueryOnDiskIdRequest&) const = default;
};
// QFid response (MS-SMB2 2.2.14.2.9), 32 bytes.
struct QueryOnDiskIdResponse {
  std::uint64_t disk_file_id = 0;
  std::uint64_t volume_id = 0;
  std::array<std::uint8_t, 16> reserved{};  // kept: some servers put more id bits here
  bool operator==(const QueryOnDiskIdResponse&) const = default;
};
// SMB2_CREATE_APP_INSTANCE_ID (MS-SMB2 2.2.13.2.13), 20 bytes.
struct AppInstanceId {
  Guid app_instance_id{};
  bool operator==(const AppInstanceId&) const = default;
};
// SMB2_CREATE_APP_INSTANCE_VERSION (MS-SMB2 2.2.13.2.15), 24 bytes.
struct AppInstanceVersion {
  std::uint64_t app_instance_version_high = 0;
  std::uint64_t app_instance_version_low = 0;
  bool operator==(const AppInstanceVersion&) const = default;
};
// AlSi (MS-SMB2 2.2.13.2.6).
struct AllocationSize {
  std::uint64_t allocation_size = 0;
  bool operator==(const AllocationSize&) const = default;
};
// TWrp (MS-SMB2 2.2.13.2.7): FILETIME of the snapshot to open.
struct TimewarpToken {
  std::uint64_t timestamp = 0;
  bool operator==(const TimewarpToken&) const = default;
};
// Any other context (ExtA, SecD, SVHDX, vendor tags), or a known tag in the
// direction where it has no meaning. `data` views the decoded input or, when
// encoding, caller-owned memory.
struct RawCreateContext {
  Bytes name{};
  ByteView data{};
  bool operator==(const RawCreateContext& o) const;
};

using CreateContext =
    std::variant<DurableHandleRequest, DurableHandleResponse, DurableHandleReconnect, DurableHandleRequestV2,
                 DurableHandleResponseV2, DurableHandleReconnectV2, Lease, QueryMaximalAccessRequest,
                 QueryMaximalAccessResponse, QueryOnDiskIdRequest, QueryOnDiskIdResponse, AppInstanceId,
                 AppInstanceVersion, AllocationSize, TimewarpToken, RawCreateContext>;

// The same tag means different things in a request and in a response (DHnQ,
// DH2Q, MxAc, QFid), so a decoder must be told which one it reads.
enum class ContextDirection : std::uint8_t { request, response };

// One element of a chain, untyped: views into the chain.
struct CreateContextView {
  ByteView name{};
  ByteView data{};
};

// Splits a create context chain (the CreateContextsOffset/Length window) into
// its elements. Refuses a Next that does not advance past the element's own
// header, is not 8-aligned or runs past the chain, and any NameOffset or
// DataOffset whose bytes fall outside the element.
Expected<std::vector<CreateContextView>> split_create_contexts(ByteView chain);

// Types one element. A known tag with a data length its layout does not allow
// is refused (bad_length); an unknown tag becomes a RawCreateContext.
Expected<CreateContext> decode_create_context(const CreateContextView& element, ContextDirection dir);

Expected<std::vector<CreateContext>> decode_create_contexts(ByteView chain, ContextDirection dir);

// Appends the chain: each element 8-aligned relative to the first one's start
// (callers start the chain at an 8-aligned offset, MS-SMB2 2.2.13), the last
// element unpadded. Returns the number of bytes written.
std::size_t encode_create_contexts(Writer& w, const std::vector<CreateContext>& contexts);

// The wire name of a context ("DH2Q", or the 16 GUID bytes).
Bytes create_context_name(const CreateContext& context);
// Printable name for logs: the tag, or the GUID bytes in hex.
std::string describe_create_context_name(ByteView name);

template <class T>
const T* find_context(const std::vector<CreateContext>& contexts) {
  for (const auto& c : contexts)
    if (const auto* found = std::get_if<T>(&c)) return found;
  return nullptr;
}

// Finds a RawCreateContext by its ASCII tag, e.g. find_raw_context(v, "ExtA").
const RawCreateContext* find_raw_context(const std::vector<CreateContext>& contexts, std::string_view tag);

}  // namespace smbx::wire
