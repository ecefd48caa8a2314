#include "wire/fsctl.hpp"

#include <algorithm>
#include <string>

#include "wire/body_buffer.hpp"

namespace smbx::wire {
namespace {

// Fails unless the payload holds at least `size` bytes of structure `what`.
Expected<void> expect_payload(ByteView payload, std::size_t size, std::string_view what) {
  if (payload.size() < size)
    return Unexpected{wire_error(WireError::truncated, std::string{what} + " needs " + std::to_string(size) +
                                                           " bytes, the payload has " +
                                                           std::to_string(payload.size()))};
  return {};
}

// MS-FSCC 2.3.41-2.3.44: each ODX structure starts with its own Size.
Expected<void> expect_size_field(Reader& r, std::uint32_t expected, std::string_view what) {
  const auto size = SMBX_TRY(r.u32());
  if (size != expected)
    return Unexpected{wire_error(WireError::bad_structure_size, std::string{what} + " Size " + std::to_string(size) +
                                                                    ", expected " + std::to_string(expected))};
  return {};
}

std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void write_be16(Writer& w, std::uint16_t v) {
  w.u8(static_cast<std::uint8_t>(v >> 8));
  w.u8(static_cast<std::uint8_t>(v));
}
void write_be32(Writer& w, std::uint32_t v) {
  write_be16(w, static_cast<std::uint16_t>(v >> 16));
  write_be16(w, static_cast<std::uint16_t>(v));
}

Expected<StorageOffloadToken> read_token(Reader& r) {
  const auto bytes = SMBX_TRY(r.take(StorageOffloadToken::kSize));
  StorageOffloadToken t;
  t.token_type = load_be32(bytes.data());
  t.reserved = to_array<2>(bytes.subspan(4, 2));
  t.token_id_length = load_be16(bytes.data() + 6);
  t.token_id = to_array<504>(bytes.subspan(8));
  return t;
}

// MS-SMB2 2.2.32.5.1: Family, then 126 bytes laid out per family.
constexpr std::size_t kSockAddrStorageSize = 128;

Expected<NetworkInterfaceInfo> read_interface(ByteView entry) {
  Reader r{entry};
  NetworkInterfaceInfo info;
  SMBX_TRY_VOID(r.skip(4));  // Next, read by the caller
  info.if_index = SMBX_TRY(r.u32());
  info.capability = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  info.link_speed = SMBX_TRY(r.u64());
  Reader sa{SMBX_TRY(r.take(kSockAddrStorageSize))};
  info.family = SMBX_TRY(sa.u16());
  const auto port = SMBX_TRY(sa.take(2));
  info.port = load_be16(port.data());
  if (info.family == address_family::inet) {
    const auto v4 = SMBX_TRY(sa.take(4));  // SOCKADDR_IN (2.2.32.5.1.1)
    std::copy(v4.begin(), v4.end(), info.address.begin());
  } else if (info.family == address_family::inet6) {
    info.flow_info = SMBX_TRY(sa.u32());  // SOCKADDR_IN6 (2.2.32.5.1.2)
    info.address = SMBX_TRY(sa.array<16>());
    info.scope_id = SMBX_TRY(sa.u32());
  } else {
    return wire_error(WireError::bad_value, "SockAddr_Storage Family 0x" + to_hex(entry.subspan(24, 2)) +
                                                " is neither InterNetwork (0x0002) nor InterNetworkV6 (0x0017)");
  }
  return info;
}

Expected<ValidateNegotiateInfoRequest> decode_vni_request(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 24, "VALIDATE_NEGOTIATE_INFO request"));
  Reader r{payload};
  ValidateNegotiateInfoRequest p;
  p.capabilities = SMBX_TRY(r.u32());
  p.guid = SMBX_TRY(r.array<16>());
  p.security_mode = SMBX_TRY(r.u16());
  const auto count = SMBX_TRY(r.u16());
  if (std::size_t{count} * 2 > r.remaining())
    return wire_error(WireError::truncated, "DialectCount " + std::to_string(count) + " needs " +
                                                std::to_string(count * 2) + " bytes, " +
                                                std::to_string(r.remaining()) + " left");
  p.dialects.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) p.dialects.push_back(static_cast<Dialect>(SMBX_TRY(r.u16())));
  return p;
}

Expected<ValidateNegotiateInfoResponse> decode_vni_response(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 24, "VALIDATE_NEGOTIATE_INFO response"));
  Reader r{payload};
  ValidateNegotiateInfoResponse p;
  p.capabilities = SMBX_TRY(r.u32());
  p.guid = SMBX_TRY(r.array<16>());
  p.security_mode = SMBX_TRY(r.u16());
  p.dialect = static_cast<Dialect>(SMBX_TRY(r.u16()));
  return p;
}

Expected<std::vector<NetworkInterfaceInfo>> decode_interfaces(ByteView payload) {
  std::vector<NetworkInterfaceInfo> out;
  std::size_t pos = 0;
  // An empty list is an empty payload; each step advances by at least one entry.
  while (pos < payload.size()) {
    const auto remaining = payload.size() - pos;
    if (remaining < kNetworkInterfaceInfoSize)
      return wire_error(WireError::truncated, "NETWORK_INTERFACE_INFO #" + std::to_string(out.size()) +
                                                  " needs 152 bytes, " + std::to_string(remaining) + " left");
    const auto entry = payload.subspan(pos, kNetworkInterfaceInfoSize);
    const auto next = load_le32(entry.data());
    auto info = read_interface(entry);
    if (!info) {
      Error e = std::move(info).error();
      e.detail = "NETWORK_INTERFACE_INFO #" + std::to_string(out.size()) + ": " + e.detail;
      return e;
    }
    out.push_back(*info);
    if (next == 0) break;
    if (next < kNetworkInterfaceInfoSize)
      return wire_error(WireError::bad_offset, "NETWORK_INTERFACE_INFO #" + std::to_string(out.size() - 1) +
                                                   ": Next " + std::to_string(next) + " points inside the entry");
    if (next > remaining - kNetworkInterfaceInfoSize)
      return wire_error(WireError::truncated, "NETWORK_INTERFACE_INFO #" + std::to_string(out.size() - 1) +
                                                  ": Next " + std::to_string(next) + " leaves no room for an entry in the " +
                                                  std::to_string(remaining) + " bytes left");
    pos += next;
  }
  return out;
}

Expected<SrvRequestResumeKey> decode_resume_key(ByteView payload) {
  // ResumeKey + ContextLength; Context itself is unused (MS-SMB2 2.2.32.3).
  SMBX_TRY_VOID(expect_payload(payload, 28, "SRV_REQUEST_RESUME_KEY"));
  Reader r{payload};
  return SrvRequestResumeKey{SMBX_TRY(r.array<24>())};
}

Expected<SrvCopychunkCopy> decode_copychunk_copy(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 32, "SRV_COPYCHUNK_COPY"));
  Reader r{payload};
  SrvCopychunkCopy p;
  p.source_key = SMBX_TRY(r.array<24>());
  const auto count = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  if (std::uint64_t{count} * 24 > r.remaining())
    return wire_error(WireError::truncated, "ChunkCount " + std::to_string(count) + " needs " +
                                                std::to_string(std::uint64_t{count} * 24) + " bytes, " +
                                                std::to_string(r.remaining()) + " left");
  p.chunks.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    SrvCopychunk c;
    c.source_offset = SMBX_TRY(r.u64());
    c.target_offset = SMBX_TRY(r.u64());
    c.length = SMBX_TRY(r.u32());
    SMBX_TRY_VOID(r.skip(4));  // Reserved
    p.chunks.push_back(c);
  }
  return p;
}

Expected<SrvCopychunkResponse> decode_copychunk_response(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 12, "SRV_COPYCHUNK_RESPONSE"));
  Reader r{payload};
  SrvCopychunkResponse p;
  p.chunks_written = SMBX_TRY(r.u32());
  p.chunk_bytes_written = SMBX_TRY(r.u32());
  p.total_bytes_written = SMBX_TRY(r.u32());
  return p;
}

Expected<OffloadReadInput> decode_read_input(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 32, "FSCTL_OFFLOAD_READ_INPUT"));
  Reader r{payload};
  SMBX_TRY_VOID(expect_size_field(r, 32, "FSCTL_OFFLOAD_READ_INPUT"));
  OffloadReadInput p;
  p.flags = SMBX_TRY(r.u32());
  p.token_time_to_live = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  p.file_offset = SMBX_TRY(r.u64());
  p.copy_length = SMBX_TRY(r.u64());
  return p;
}

Expected<OffloadReadOutput> decode_read_output(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 528, "FSCTL_OFFLOAD_READ_OUTPUT"));
  Reader r{payload};
  SMBX_TRY_VOID(expect_size_field(r, 528, "FSCTL_OFFLOAD_READ_OUTPUT"));
  OffloadReadOutput p;
  p.flags = SMBX_TRY(r.u32());
  p.transfer_length = SMBX_TRY(r.u64());
  p.token = SMBX_TRY(read_token(r));
  return p;
}

Expected<OffloadWriteInput> decode_write_input(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 544, "FSCTL_OFFLOAD_WRITE_INPUT"));
  Reader r{payload};
  SMBX_TRY_VOID(expect_size_field(r, 544, "FSCTL_OFFLOAD_WRITE_INPUT"));
  OffloadWriteInput p;
  p.flags = SMBX_TRY(r.u32());
  p.file_offset = SMBX_TRY(r.u64());
  p.copy_length = SMBX_TRY(r.u64());
  p.transfer_offset = SMBX_TRY(r.u64());
  p.token = SMBX_TRY(read_token(r));
  return p;
}

Expected<OffloadWriteOutput> decode_write_output(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 16, "FSCTL_OFFLOAD_WRITE_OUTPUT"));
  Reader r{payload};
  SMBX_TRY_VOID(expect_size_field(r, 16, "FSCTL_OFFLOAD_WRITE_OUTPUT"));
  OffloadWriteOutput p;
  p.flags = SMBX_TRY(r.u32());
  p.length_written = SMBX_TRY(r.u64());
  return p;
}

Expected<DuplicateExtentsData> decode_duplicate(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 40, "SMB2_DUPLICATE_EXTENTS_DATA"));
  Reader r{payload};
  DuplicateExtentsData p;
  p.source_file_id = SMBX_TRY(read_file_id(r));
  p.source_file_offset = SMBX_TRY(r.u64());
  p.target_file_offset = SMBX_TRY(r.u64());
  p.byte_count = SMBX_TRY(r.u64());
  return p;
}

Expected<DuplicateExtentsDataEx> decode_duplicate_ex(ByteView payload) {
  SMBX_TRY_VOID(expect_payload(payload, 56, "SMB2_DUPLICATE_EXTENTS_DATA_EX"));
  Reader r{payload};
  const auto structure_size = SMBX_TRY(r.u64());
  if (structure_size != 0x30)
    return wire_error(WireError::bad_structure_size, "SMB2_DUPLICATE_EXTENTS_DATA_EX StructureSize " +
                                                         std::to_string(structure_size) + ", expected 48");
  DuplicateExtentsDataEx p;
  p.source_file_id = SMBX_TRY(read_file_id(r));
  p.source_file_offset = SMBX_TRY(r.u64());
  p.target_file_offset = SMBX_TRY(r.u64());
  p.byte_count = SMBX_TRY(r.u64());
  p.flags = SMBX_TRY(r.u32());
  return p;
}

}  // namespace

Expected<ValidateNegotiateInfoRequest> decode_validate_negotiate_info_request(ByteView payload) {
  return with_action(decode_vni_request(payload), "decode VALIDATE_NEGOTIATE_INFO request");
}
Expected<ValidateNegotiateInfoResponse> decode_validate_negotiate_info_response(ByteView payload) {
  return with_action(decode_vni_response(payload), "decode VALIDATE_NEGOTIATE_INFO response");
}

void encode(Writer& w, const ValidateNegotiateInfoRequest& p) {
  w.u32(p.capabilities);
  w.bytes(p.guid);
  w.u16(p.security_mode);
  w.u16(static_cast<std::uint16_t>(p.dialects.size()));
  for (const auto d : p.dialects) w.u16(static_cast<std::uint16_t>(d));
}

void encode(Writer& w, const ValidateNegotiateInfoResponse& p) {
  w.u32(p.capabilities);
  w.bytes(p.guid);
  w.u16(p.security_mode);
  w.u16(static_cast<std::uint16_t>(p.dialect));
}

Expected<std::vector<NetworkInterfaceInfo>> decode_network_interface_info(ByteView payload) {
  return with_action(decode_interfaces(payload), "decode FSCTL_QUERY_NETWORK_INTERFACE_INFO output");
}

void encode_network_interface_info(Writer& w, std::span<const NetworkInterfaceInfo> interfaces) {
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    const auto& info = interfaces[i];
    const bool last = i + 1 == interfaces.size();
    w.u32(last ? 0 : static_cast<std::uint32_t>(kNetworkInterfaceInfoSize));  // 152 is 8-aligned
    w.u32(info.if_index);
    w.u32(info.capability);
    w.u32(0);  // Reserved
    w.u64(info.link_speed);
    const auto storage_start = w.size();
    w.u16(info.family);
    write_be16(w, info.port);
    if (info.family == address_family::inet6) {
      w.u32(info.flow_info);
      w.bytes(info.address);
      w.u32(info.scope_id);
    } else {
      w.bytes(ByteView{info.address}.first(4));
    }
    w.zeros(kSockAddrStorageSize - (w.size() - storage_start));
  }
}

Expected<SrvRequestResumeKey> decode_srv_request_resume_key(ByteView payload) {
  return with_action(decode_resume_key(payload), "decode SRV_REQUEST_RESUME_KEY");
}
Expected<SrvCopychunkCopy> decode_srv_copychunk_copy(ByteView payload) {
  return with_action(decode_copychunk_copy(payload), "decode SRV_COPYCHUNK_COPY");
}
Expected<SrvCopychunkResponse> decode_srv_copychunk_response(ByteView payload) {
  return with_action(decode_copychunk_response(payload), "decode SRV_COPYCHUNK_RESPONSE");
}

void encode(Writer& w, const SrvRequestResumeKey& p) {
  w.bytes(p.resume_key);
  w.u32(0);    // ContextLength
  w.zeros(4);  // Context
}

void encode(Writer& w, const SrvCopychunkCopy& p) {
  w.bytes(p.source_key);
  w.u32(static_cast<std::uint32_t>(p.chunks.size()));
  w.u32(0);  // Reserved
  for (const auto& c : p.chunks) {
    w.u64(c.source_offset);
    w.u64(c.target_offset);
    w.u32(c.length);
    w.u32(0);  // Reserved
  }
}

void encode(Writer& w, const SrvCopychunkResponse& p) {
  w.u32(p.chunks_written);
  w.u32(p.chunk_bytes_written);
  w.u32(p.total_bytes_written);
}

StorageOffloadToken zero_data_token() {
  StorageOffloadToken t;
  t.token_type = offload_token_type::zero_data;
  t.token_id_length = static_cast<std::uint16_t>(t.token_id.size());
  return t;
}

Expected<OffloadReadInput> decode_offload_read_input(ByteView payload) {
  return with_action(decode_read_input(payload), "decode FSCTL_OFFLOAD_READ input");
}
Expected<OffloadReadOutput> decode_offload_read_output(ByteView payload) {
  return with_action(decode_read_output(payload), "decode FSCTL_OFFLOAD_READ output");
}
Expected<OffloadWriteInput> decode_offload_write_input(ByteView payload) {
  return with_action(decode_write_input(payload), "decode FSCTL_OFFLOAD_WRITE input");
}
Expected<OffloadWriteOutput> decode_offload_write_output(ByteView payload) {
  return with_action(decode_write_output(payload), "decode FSCTL_OFFLOAD_WRITE output");
}

void encode(Writer& w, const StorageOffloadToken& p) {
  write_be32(w, p.token_type);
  w.bytes(p.reserved);
  write_be16(w, p.token_id_length);
  w.bytes(p.token_id);
}

void encode(Writer& w, const OffloadReadInput& p) {
  w.u32(32);  // Size
  w.u32(p.flags);
  w.u32(p.token_time_to_live);
  w.u32(0);  // Reserved
  w.u64(p.file_offset);
  w.u64(p.copy_length);
}

void encode(Writer& w, const OffloadReadOutput& p) {
  w.u32(528);  // Size
  w.u32(p.flags);
  w.u64(p.transfer_length);
  encode(w, p.token);
}

void encode(Writer& w, const OffloadWriteInput& p) {
  w.u32(544);  // Size
  w.u32(p.flags);
  w.u64(p.file_offset);
  w.u64(p.copy_length);
  w.u64(p.transfer_offset);
  encode(w, p.token);
}

void encode(Writer& w, const OffloadWriteOutput& p) {
  w.u32(16);  // Size
  w.u32(p.flags);
  w.u64(p.length_written);
}

Expected<DuplicateExtentsData> decode_duplicate_extents_data(ByteView payload) {
  return with_action(decode_duplicate(payload), "decode SMB2_DUPLICATE_EXTENTS_DATA");
}
Expected<DuplicateExtentsDataEx> decode_duplicate_extents_data_ex(ByteView payload) {
  return with_action(decode_duplicate_ex(payload), "decode SMB2_DUPLICATE_EXTENTS_DATA_EX");
}

void encode(Writer& w, const DuplicateExtentsData& p) {
  write_file_id(w, p.source_file_id);
  w.u64(p.source_file_offset);
  w.u64(p.target_file_offset);
  w.u64(p.byte_count);
}

void encode(Writer& w, const DuplicateExtentsDataEx& p) {
  w.u64(0x30);  // StructureSize: the local structure's size (MS-FSCC 2.3.9.2)
  write_file_id(w, p.source_file_id);
  w.u64(p.source_file_offset);
  w.u64(p.target_file_offset);
  w.u64(p.byte_count);
  w.u32(p.flags);
  w.u32(0);  // Reserved
}

Expected<NetworkResiliencyRequest> decode_network_resiliency_request(ByteView payload) {
  if (auto ok = expect_payload(payload, 8, "NETWORK_RESILIENCY_REQUEST"); !ok)
    return with_action(Expected<NetworkResiliencyRequest>{ok.error()}, "decode NETWORK_RESILIENCY_REQUEST");
  return NetworkResiliencyRequest{load_le32(payload.data())};
}

void encode(Writer& w, const NetworkResiliencyRequest& p) {
  w.u32(p.timeout);
  w.u32(0);  // Reserved
}

}  // namespace smbx::wire
