#include "wire/create_context.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace smbx::wire {
namespace {

// MS-SMB2 2.2.13.2: Next(4) NameOffset(2) NameLength(2) Reserved(2) DataOffset(2) DataLength(4).
constexpr std::size_t kContextHeaderSize = 16;

Error chain_error(WireError code, std::size_t index, const std::string& what) {
  return wire_error(code, "create context #" + std::to_string(index) + ": " + what);
}

ByteView tag_bytes(std::string_view tag) {
  return ByteView{reinterpret_cast<const std::uint8_t*>(tag.data()), tag.size()};
}

bool name_is(ByteView name, std::string_view tag) {
  return name.size() == tag.size() && std::equal(name.begin(), name.end(), tag_bytes(tag).begin());
}
bool name_is(ByteView name, const Guid& guid) {
  return name.size() == guid.size() && std::equal(name.begin(), name.end(), guid.begin());
}

// Pads with zeros until the bytes written since `origin` are a multiple of 8.
void pad8_from(Writer& w, std::size_t origin) {
  while ((w.size() - origin) % 8 != 0) w.u8(0);
}

Expected<void> expect_data_length(const CreateContextView& e, std::size_t expected, std::string_view what) {
  if (e.data.size() != expected)
    return Unexpected{wire_error(WireError::bad_length, std::string{what} + " DataLength " +
                                                            std::to_string(e.data.size()) + ", expected " +
                                                            std::to_string(expected))};
  return {};
}

Expected<CreateContext> decode_lease(const CreateContextView& e) {
  if (e.data.size() != Lease::kV1Size && e.data.size() != Lease::kV2Size)
    return wire_error(WireError::bad_length,
                      "RqLs DataLength " + std::to_string(e.data.size()) + ", expected 32 (v1) or 52 (v2)");
  Reader r{e.data};
  Lease lease;
  lease.version = e.data.size() == Lease::kV1Size ? Lease::Version::v1 : Lease::Version::v2;
  lease.lease_key = SMBX_TRY(r.array<16>());
  lease.lease_state = SMBX_TRY(r.u32());
  lease.flags = SMBX_TRY(r.u32());
  lease.lease_duration = SMBX_TRY(r.u64());
  if (lease.version == Lease::Version::v2) {
    lease.parent_lease_key = SMBX_TRY(r.array<16>());
    lease.epoch = SMBX_TRY(r.u16());
  }
  return CreateContext{lease};
}

Expected<CreateContext> decode_request_context(const CreateContextView& e) {
  Reader r{e.data};
  if (name_is(e.name, context_name::durable_handle_request)) {
    SMBX_TRY_VOID(expect_data_length(e, 16, "DHnQ request"));
    return CreateContext{DurableHandleRequest{}};
  }
  if (name_is(e.name, context_name::durable_handle_reconnect)) {
    SMBX_TRY_VOID(expect_data_length(e, 16, "DHnC"));
    return CreateContext{DurableHandleReconnect{SMBX_TRY(read_file_id(r))}};
  }
  if (name_is(e.name, context_name::durable_handle_request_v2)) {
    SMBX_TRY_VOID(expect_data_length(e, 32, "DH2Q request"));
    DurableHandleRequestV2 c;
    c.timeout = SMBX_TRY(r.u32());
    c.flags = SMBX_TRY(r.u32());
    SMBX_TRY_VOID(r.skip(8));  // Reserved
    c.create_guid = SMBX_TRY(r.array<16>());
    return CreateContext{c};
  }
  if (name_is(e.name, context_name::durable_handle_reconnect_v2)) {
    SMBX_TRY_VOID(expect_data_length(e, 36, "DH2C"));
    DurableHandleReconnectV2 c;
    c.file_id = SMBX_TRY(read_file_id(r));
    c.create_guid = SMBX_TRY(r.array<16>());
    c.flags = SMBX_TRY(r.u32());
    return CreateContext{c};
  }
  if (name_is(e.name, context_name::request_lease)) return decode_lease(e);
  if (name_is(e.name, context_name::query_maximal_access)) {
    if (e.data.empty()) return CreateContext{QueryMaximalAccessRequest{}};
    SMBX_TRY_VOID(expect_data_length(e, 8, "MxAc request"));
    return CreateContext{QueryMaximalAccessRequest{SMBX_TRY(r.u64())}};
  }
  if (name_is(e.name, context_name::query_on_disk_id)) {
    SMBX_TRY_VOID(expect_data_length(e, 0, "QFid request"));
    return CreateContext{QueryOnDiskIdRequest{}};
  }
  if (name_is(e.name, context_name::app_instance_id)) {
    SMBX_TRY_VOID(expect_data_length(e, 20, "AppInstanceId"));
    SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), 20, "AppInstanceId"));
    SMBX_TRY_VOID(r.skip(2));  // Reserved
    return CreateContext{AppInstanceId{SMBX_TRY(r.array<16>())}};
  }
  if (name_is(e.name, context_name::app_instance_version)) {
    SMBX_TRY_VOID(expect_data_length(e, 24, "AppInstanceVersion"));
    SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), 24, "AppInstanceVersion"));
    SMBX_TRY_VOID(r.skip(6));  // Reserved, Padding
    AppInstanceVersion c;
    c.app_instance_version_high = SMBX_TRY(r.u64());
    c.app_instance_version_low = SMBX_TRY(r.u64());
    return CreateContext{c};
  }
  if (name_is(e.name, context_name::allocation_size)) {
    SMBX_TRY_VOID(expect_data_length(e, 8, "AlSi"));
    return CreateContext{AllocationSize{SMBX_TRY(r.u64())}};
  }
  if (name_is(e.name, context_name::timewarp_token)) {
    SMBX_TRY_VOID(expect_data_length(e, 8, "TWrp"));
    return CreateContext{TimewarpToken{SMBX_TRY(r.u64())}};
  }
  return CreateContext{RawCreateContext{Bytes(e.name.begin(), e.name.end()), e.data}};
}

Expected<CreateContext> decode_response_context(const CreateContextView& e) {
  Reader r{e.data};
  if (name_is(e.name, context_name::durable_handle_request)) {
    SMBX_TRY_VOID(expect_data_length(e, 8, "DHnQ response"));
    return CreateContext{DurableHandleResponse{}};
  }
  if (name_is(e.name, context_name::durable_handle_request_v2)) {
    SMBX_TRY_VOID(expect_data_length(e, 8, "DH2Q response"));
    DurableHandleResponseV2 c;
    c.timeout = SMBX_TRY(r.u32());
    c.flags = SMBX_TRY(r.u32());
    return CreateContext{c};
  }
  if (name_is(e.name, context_name::request_lease)) return decode_lease(e);
  if (name_is(e.name, context_name::query_maximal_access)) {
    SMBX_TRY_VOID(expect_data_length(e, 8, "MxAc response"));
    QueryMaximalAccessResponse c;
    c.query_status = SMBX_TRY(r.u32());
    c.maximal_access = SMBX_TRY(r.u32());
    return CreateContext{c};
  }
  if (name_is(e.name, context_name::query_on_disk_id)) {
    SMBX_TRY_VOID(expect_data_length(e, 32, "QFid response"));
    QueryOnDiskIdResponse c;
    c.disk_file_id = SMBX_TRY(r.u64());
    c.volume_id = SMBX_TRY(r.u64());
    c.reserved = SMBX_TRY(r.array<16>());
    return CreateContext{c};
  }
  return CreateContext{RawCreateContext{Bytes(e.name.begin(), e.name.end()), e.data}};
}

struct NameOf {
  ByteView operator()(const DurableHandleRequest&) const { return tag_bytes(context_name::durable_handle_request); }
  ByteView operator()(const DurableHandleResponse&) const { return tag_bytes(context_name::durable_handle_request); }
  ByteView operator()(const DurableHandleReconnect&) const { return tag_bytes(context_name::durable_handle_reconnect); }
  ByteView operator()(const DurableHandleRequestV2&) const { return tag_bytes(context_name::durable_handle_request_v2); }
  ByteView operator()(const DurableHandleResponseV2&) const { return tag_bytes(context_name::durable_handle_request_v2); }
  ByteView operator()(const DurableHandleReconnectV2&) const {
    return tag_bytes(context_name::durable_handle_reconnect_v2);
  }
  ByteView operator()(const Lease&) const { return tag_bytes(context_name::request_lease); }
  ByteView operator()(const QueryMaximalAccessRequest&) const { return tag_bytes(context_name::query_maximal_access); }
  ByteView operator()(const QueryMaximalAccessResponse&) const { return tag_bytes(context_name::query_maximal_access); }
  ByteView operator()(const QueryOnDiskIdRequest&) const { return tag_bytes(context_name::query_on_disk_id); }
  ByteView operator()(const QueryOnDiskIdResponse&) const { return tag_bytes(context_name::query_on_disk_id); }
  ByteView operator()(const AppInstanceId&) const { return ByteView{context_name::app_instance_id}; }
  ByteView operator()(const AppInstanceVersion&) const { return ByteView{context_name::app_instance_version}; }
  ByteView operator()(const AllocationSize&) const { return tag_bytes(context_name::allocation_size); }
  ByteView operator()(const TimewarpToken&) const { return tag_bytes(context_name::timewarp_token); }
  ByteView operator()(const RawCreateContext& c) const { return ByteView{c.name}; }
};

struct WriteData {
  Writer& w;
  void operator()(const DurableHandleRequest&) const { w.zeros(16); }
  void operator()(const DurableHandleResponse&) const { w.zeros(8); }
  void operator()(const DurableHandleReconnect& c) const { write_file_id(w, c.file_id); }
  void operator()(const DurableHandleRequestV2& c) const {
    w.u32(c.timeout);
    w.u32(c.flags);
    w.zeros(8);
    w.bytes(c.create_guid);
  }
  void operator()(const DurableHandleResponseV2& c) const {
    w.u32(c.timeout);
    w.u32(c.flags);
  }
  void operator()(const DurableHandleReconnectV2& c) const {
    write_file_id(w, c.file_id);
    w.bytes(c.create_guid);
    w.u32(c.flags);
  }
  void operator()(const Lease& c) const {
    w.bytes(c.lease_key);
    w.u32(c.lease_state);
    w.u32(c.flags);
    w.u64(c.lease_duration);
    if (c.version == Lease::Version::v2) {
      w.bytes(c.parent_lease_key);
      w.u16(c.epoch);
      w.u16(0);
    }
  }
  void operator()(const QueryMaximalAccessRequest& c) const {
    if (c.timestamp) w.u64(*c.timestamp);
  }
  void operator()(const QueryMaximalAccessResponse& c) const {
    w.u32(c.query_status);
    w.u32(c.maximal_access);
  }
  void operator()(const QueryOnDiskIdRequest&) const {}
  void operator()(const QueryOnDiskIdResponse& c) const {
    w.u64(c.disk_file_id);
    w.u64(c.volume_id);
    w.bytes(c.reserved);
  }
  void operator()(const AppInstanceId& c) const {
    w.u16(20);  // StructureSize
    w.u16(0);
    w.bytes(c.app_instance_id);
  }
  void operator()(const AppInstanceVersion& c) const {
    w.u16(24);  // StructureSize
    w.u16(0);
    w.u32(0);   // Padding
    w.u64(c.app_instance_version_high);
    w.u64(c.app_instance_version_low);
  }
  void operator()(const AllocationSize& c) const { w.u64(c.allocation_size); }
  void operator()(const TimewarpToken& c) const { w.u64(c.timestamp); }
  void operator()(const RawCreateContext& c) const { w.bytes(c.data); }
};

// Writes one element starting at w.size(); returns nothing, the caller links Next.
void encode_one(Writer& w, const CreateContext& context) {
  const auto start = w.size();
  const ByteView name = std::visit(NameOf{}, context);
  assert(!name.empty() && name.size() <= 0xFFFF);
  w.u32(0);  // Next, linked by the caller
  w.u16(static_cast<std::uint16_t>(kContextHeaderSize));
  w.u16(static_cast<std::uint16_t>(name.size()));
  w.u16(0);  // Reserved
  const auto data_offset_at = w.reserve(2);
  const auto data_length_at = w.reserve(4);
  w.bytes(name);
  const auto name_end = w.size();
  pad8_from(w, start);
  const auto data_start = w.size();
  std::visit(WriteData{w}, context);
  const auto data_length = w.size() - data_start;
  if (data_length == 0) {
    // MS-SMB2 2.2.13.2: DataOffset SHOULD be 0 when there is no data; drop the pad too.
    w.bytes().resize(name_end);
    return;
  }
  assert(data_start - start <= 0xFFFF && data_length <= 0xFFFF'FFFF);
  w.patch_u16(data_offset_at, static_cast<std::uint16_t>(data_start - start));
  w.patch_u32(data_length_at, static_cast<std::uint32_t>(data_length));
}

}  // namespace

bool RawCreateContext::operator==(const RawCreateContext& o) const {
  return name == o.name && std::equal(data.begin(), data.end(), o.data.begin(), o.data.end());
}

Expected<std::vector<CreateContextView>> split_create_contexts(ByteView chain) {
  std::vector<CreateContextView> out;
  if (chain.empty()) return out;
  std::size_t pos = 0;
  // Each step advances by Next >= 16 or stops, so the loop ends within chain.size() / 16 steps.
  for (;;) {
    const std::size_t index = out.size();
    const std::size_t remaining = chain.size() - pos;
    if (remaining < kContextHeaderSize)
      return chain_error(WireError::truncated, index,
                         "header needs 16 bytes, " + std::to_string(remaining) + " left in the chain");
    Reader r{chain.subspan(pos)};
    const auto next = SMBX_TRY(r.u32());
    const auto name_offset = SMBX_TRY(r.u16());
    const auto name_length = SMBX_TRY(r.u16());
    SMBX_TRY_VOID(r.skip(2));  // Reserved
    const auto data_offset = SMBX_TRY(r.u16());
    const auto data_length = SMBX_TRY(r.u32());

    // MS-SMB2 2.2.13.2: Next is the 8-aligned offset of the following context
    // from the start of this one; it must lie past this one's header.
    if (next != 0) {
      if (next < kContextHeaderSize)
        return chain_error(WireError::bad_offset, index,
                           "Next " + std::to_string(next) + " points back into the context's own header");
      if (next % 8 != 0)
        return chain_error(WireError::bad_offset, index, "Next " + std::to_string(next) + " is not 8-aligned");
      if (next > remaining - kContextHeaderSize)  // the next context needs its 16-byte header
        return chain_error(WireError::truncated, index,
                           "Next " + std::to_string(next) + " runs past the chain (" + std::to_string(remaining) +
                               " bytes left)");
    }
    const std::size_t extent = next != 0 ? next : remaining;
    const Reader element{chain.subspan(pos, extent)};

    if (name_length == 0) return chain_error(WireError::bad_length, index, "NameLength 0");
    if (name_offset < kContextHeaderSize)
      return chain_error(WireError::bad_offset, index,
                         "NameOffset " + std::to_string(name_offset) + " lies inside the context header");
    auto name = element.window(name_offset, name_length);
    if (!name)
      return chain_error(WireError::truncated, index,
                         "NameOffset " + std::to_string(name_offset) + " + NameLength " + std::to_string(name_length) +
                             " runs past the " + std::to_string(extent) + "-byte context");
    CreateContextView view{*name, {}};
    if (data_length != 0) {
      if (data_offset % 8 != 0)
        return chain_error(WireError::bad_offset, index,
                           "DataOffset " + std::to_string(data_offset) + " is not 8-aligned");
      if (data_offset < std::size_t{name_offset} + name_length)
        return chain_error(WireError::bad_offset, index,
                           "DataOffset " + std::to_string(data_offset) + " overlaps the header or the name");
      auto data = element.window(data_offset, data_length);
      if (!data)
        return chain_error(WireError::truncated, index,
                           "DataOffset " + std::to_string(data_offset) + " + DataLength " +
                               std::to_string(data_length) + " runs past the " + std::to_string(extent) +
                               "-byte context");
      view.data = *data;
    }
    out.push_back(view);
    if (next == 0) break;
    pos += next;
  }
  return out;
}

Expected<CreateContext> decode_create_context(const CreateContextView& element, ContextDirection dir) {
  auto typed = dir == ContextDirection::request ? decode_request_context(element) : decode_response_context(element);
  if (!typed) {
    Error e = std::move(typed).error();
    e.detail = "create context " + describe_create_context_name(element.name) + ": " + e.detail;
    return e;
  }
  return typed;
}

Expected<std::vector<CreateContext>> decode_create_contexts(ByteView chain, ContextDirection dir) {
  const auto elements = SMBX_TRY(split_create_contexts(chain));
  std::vector<CreateContext> out;
  out.reserve(elements.size());
  for (const auto& e : elements) out.push_back(SMBX_TRY(decode_create_context(e, dir)));
  return out;
}

std::size_t encode_create_contexts(Writer& w, const std::vector<CreateContext>& contexts) {
  const auto chain_start = w.size();
  std::size_t previous = 0;
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    if (i != 0) {
      pad8_from(w, chain_start);
      w.patch_u32(previous, static_cast<std::uint32_t>(w.size() - previous));
    }
    previous = w.size();
    encode_one(w, contexts[i]);
  }
  return w.size() - chain_start;
}

Bytes create_context_name(const CreateContext& context) {
  const ByteView name = std::visit(NameOf{}, context);
  return Bytes(name.begin(), name.end());
}

std::string describe_create_context_name(ByteView name) {
  const bool printable =
      !name.empty() && std::all_of(name.begin(), name.end(), [](std::uint8_t c) { return c >= 0x20 && c < 0x7F; });
  if (printable) return "\"" + std::string(name.begin(), name.end()) + "\"";
  return "{" + to_hex(name) + "}";
}

const RawCreateContext* find_raw_context(const std::vector<CreateContext>& contexts, std::string_view tag) {
  for (const auto& c : contexts)
    if (const auto* raw = std::get_if<RawCreateContext>(&c); raw && name_is(ByteView{raw->name}, tag)) return raw;
  return nullptr;
}

}  // namespace smbx::wire
