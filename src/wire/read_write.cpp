#include "wire/read_write.hpp"

#include <cassert>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kReadRequestStructureSize = 49;
constexpr std::uint16_t kReadResponseStructureSize = 17;
constexpr std::uint16_t kWriteRequestStructureSize = 49;
constexpr std::uint16_t kWriteResponseStructureSize = 17;
constexpr std::size_t kReadRequestBufferStart = kHeaderSize + 48;  // 0x70

Expected<ReadRequest> decode_read_request_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kReadRequestStructureSize, "READ request"));
  ReadRequest m;
  m.padding = SMBX_TRY(r.u8());
  m.flags = SMBX_TRY(r.u8());
  m.length = SMBX_TRY(r.u32());
  m.offset = SMBX_TRY(r.u64());
  m.file_id = SMBX_TRY(read_file_id(r));
  m.minimum_count = SMBX_TRY(r.u32());
  m.channel = SMBX_TRY(r.u32());
  m.remaining_bytes = SMBX_TRY(r.u32());
  const auto info_offset = SMBX_TRY(r.u16());
  const auto info_length = SMBX_TRY(r.u16());
  m.read_channel_info = SMBX_TRY(body_buffer(r, "ReadChannelInfoOffset", info_offset, "ReadChannelInfoLength",
                                             info_length, kReadRequestBufferStart));
  return m;
}

Expected<ReadResponse> decode_read_response_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kReadResponseStructureSize, "READ response"));
  ReadResponse m;
  m.data_offset = SMBX_TRY(r.u8());
  SMBX_TRY_VOID(r.skip(1));  // Reserved
  const auto data_length = SMBX_TRY(r.u32());
  m.data_remaining = SMBX_TRY(r.u32());
  m.flags = SMBX_TRY(r.u32());
  m.data = SMBX_TRY(
      body_buffer(r, "DataOffset", m.data_offset, "DataLength", data_length, kReadResponseDataOffset));
  return m;
}

Expected<WriteRequest> decode_write_request_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kWriteRequestStructureSize, "WRITE request"));
  WriteRequest m;
  const auto data_offset = SMBX_TRY(r.u16());
  const auto length = SMBX_TRY(r.u32());
  m.offset = SMBX_TRY(r.u64());
  m.file_id = SMBX_TRY(read_file_id(r));
  m.channel = SMBX_TRY(r.u32());
  m.remaining_bytes = SMBX_TRY(r.u32());
  const auto info_offset = SMBX_TRY(r.u16());
  const auto info_length = SMBX_TRY(r.u16());
  m.flags = SMBX_TRY(r.u32());
  m.data = SMBX_TRY(body_buffer(r, "DataOffset", data_offset, "Length", length, kWriteRequestDataOffset));
  m.write_channel_info =
      SMBX_TRY(body_buffer(r, "WriteChannelInfoOffset", info_offset, "WriteChannelInfoLength", info_length,
                           kWriteRequestDataOffset));
  return m;
}

Expected<WriteResponse> decode_write_response_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kWriteResponseStructureSize, "WRITE response"));
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  WriteResponse m;
  m.count = SMBX_TRY(r.u32());
  m.remaining = SMBX_TRY(r.u32());
  m.write_channel_info_offset = SMBX_TRY(r.u16());
  m.write_channel_info_length = SMBX_TRY(r.u16());
  return m;
}

// The WRITE request's 48-byte fixed part. Returns where
// WriteChannelInfoOffset sits so encode() can fill it in.
std::size_t write_request_fixed_part(Writer& w, const WriteRequest& m, std::uint32_t data_length,
                                     std::uint16_t data_offset) {
  w.u16(kWriteRequestStructureSize);
  w.u16(data_offset);
  w.u32(data_length);
  w.u64(m.offset);
  write_file_id(w, m.file_id);
  w.u32(m.channel);
  w.u32(m.remaining_bytes);
  const auto info_offset_at = w.reserve(2);
  w.u16(static_cast<std::uint16_t>(m.write_channel_info.size()));
  w.u32(m.flags);
  return info_offset_at;
}

void read_response_fixed_part(Writer& w, const ReadResponse& m, std::uint32_t data_length) {
  w.u16(kReadResponseStructureSize);
  w.u8(static_cast<std::uint8_t>(kReadResponseDataOffset));
  w.u8(0);  // Reserved
  w.u32(data_length);
  w.u32(m.data_remaining);
  w.u32(m.flags);
}

}  // namespace

Expected<ReadRequest> decode_read_request(ByteView message) {
  return with_action(decode_read_request_body(message), "decode READ request");
}
Expected<ReadResponse> decode_read_response(ByteView message) {
  return with_action(decode_read_response_body(message), "decode READ response");
}
Expected<WriteRequest> decode_write_request(ByteView message) {
  return with_action(decode_write_request_body(message), "decode WRITE request");
}
Expected<WriteResponse> decode_write_response(ByteView message) {
  return with_action(decode_write_response_body(message), "decode WRITE response");
}

void encode(Writer& w, const ReadRequest& m) {
  w.u16(kReadRequestStructureSize);
  w.u8(m.padding);
  w.u8(m.flags);
  w.u32(m.length);
  w.u64(m.offset);
  write_file_id(w, m.file_id);
  w.u32(m.minimum_count);
  w.u32(m.channel);
  w.u32(m.remaining_bytes);
  if (m.read_channel_info.empty()) {
    w.u16(0);
    w.u16(0);
    w.u8(0);  // MS-SMB2 2.2.19: the Buffer holds at least one byte
    return;
  }
  w.u16(static_cast<std::uint16_t>(w.offset() + 4));
  w.u16(static_cast<std::uint16_t>(m.read_channel_info.size()));
  w.bytes(m.read_channel_info);
}

void encode(Writer& w, const ReadResponse& m) {
  read_response_fixed_part(w, m, static_cast<std::uint32_t>(m.data.size()));
  if (m.data.empty())
    w.u8(0);  // StructureSize 17 counts one Buffer byte
  else
    w.bytes(m.data);
}

void encode(Writer& w, const WriteRequest& m) {
  const bool rdma_without_data = m.data.empty() && m.channel != io_channel::none;
  const auto data_offset =
      rdma_without_data ? std::uint16_t{0} : static_cast<std::uint16_t>(kWriteRequestDataOffset);
  const auto info_offset_at =
      write_request_fixed_part(w, m, static_cast<std::uint32_t>(m.data.size()), data_offset);
  w.bytes(m.data);
  if (!m.write_channel_info.empty()) {
    w.patch_u16(info_offset_at, static_cast<std::uint16_t>(w.offset()));
    w.bytes(m.write_channel_info);
  }
  if (m.data.empty() && m.write_channel_info.empty()) w.u8(0);  // StructureSize 49 counts one Buffer byte
}

void encode(Writer& w, const WriteResponse& m) {
  w.u16(kWriteResponseStructureSize);
  w.u16(0);  // Reserved
  w.u32(m.count);
  w.u32(m.remaining);
  w.u16(m.write_channel_info_offset);
  w.u16(m.write_channel_info_length);
}

void encode_write_request_prefix(Writer& w, const WriteRequest& m, std::uint32_t data_length) {
  assert(data_length > 0 && m.write_channel_info.empty());
  write_request_fixed_part(w, m, data_length, static_cast<std::uint16_t>(kWriteRequestDataOffset));
}

void encode_read_response_prefix(Writer& w, const ReadResponse& m, std::uint32_t data_length) {
  assert(data_length > 0);
  read_response_fixed_part(w, m, data_length);
}

}  // namespace smbx::wire
