// SMB2 READ and WRITE requests and responses (MS-SMB2 2.2.19-2.2.22).
#pragma once

#include <cstdint>

#include "smbx/expected.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace smbx::wire {

// MS-SMB2 2.2.19 / 2.2.21 Channel.
namespace io_channel {
inline constexpr std::uint32_t none = 0x00000000;
inline constexpr std::uint32_t rdma_v1 = 0x00000001;
inline constexpr std::uint32_t rdma_v1_invalidate = 0x00000002;
inline constexpr std::uint32_t rdma_transform = 0x00000003;  // 3.1.1
}  // namespace io_channel

// MS-SMB2 2.2.19 Flags (request) and 2.2.20 Flags (response).
namespace read_flags {
inline constexpr std::uint8_t read_unbuffered = 0x01;     // 3.0.2+
inline constexpr std::uint8_t request_compressed = 0x02;  // 3.1.1
inline constexpr std::uint32_t response_rdma_transform = 0x00000001;
}  // namespace read_flags

// MS-SMB2 2.2.21 Flags.
namespace write_flags {
inline constexpr std::uint32_t write_through = 0x00000001;     // 2.1+
inline constexpr std::uint32_t write_unbuffered = 0x00000002;  // 3.0.2+
}  // namespace write_flags

// The hdr offset where READ response data and WRITE request data start: right
// after the fixed part (64 + 16, 64 + 48), as Windows and Samba put them.
inline constexpr std::size_t kReadResponseDataOffset = 0x50;
inline constexpr std::size_t kWriteRequestDataOffset = 0x70;

// MS-SMB2 2.2.19, StructureSize 49.
struct ReadRequest {
  std::uint8_t padding = 0;  // requested hdr offset of the data in the response (0x50), or 0
  std::uint8_t flags = 0;
  std::uint32_t length = 0;
  std::uint64_t offset = 0;
  FileId file_id;
  std::uint32_t minimum_count = 0;
  std::uint32_t channel = io_channel::none;
  std::uint32_t remaining_bytes = 0;
  ByteView read_channel_info;  // SMB Direct buffer descriptors ([MS-SMBD] 2.2.3.1)
};

// MS-SMB2 2.2.20, StructureSize 17. Over RDMA the data went by RDMA write:
// DataLength is 0 and data_remaining holds the bytes transferred.
struct ReadResponse {
  std::uint8_t data_offset = 0;  // as received; the encoder always puts data at kReadResponseDataOffset
  ByteView data;
  std::uint32_t data_remaining = 0;
  std::uint32_t flags = 0;
};

// MS-SMB2 2.2.21, StructureSize 49. Over RDMA, data is empty and
// write_channel_info holds the buffer descriptors the server reads from.
struct WriteRequest {
  std::uint64_t offset = 0;
  FileId file_id;
  std::uint32_t channel = io_channel::none;
  std::uint32_t remaining_bytes = 0;
  ByteView write_channel_info;
  std::uint32_t flags = 0;
  ByteView data;
};

// MS-SMB2 2.2.22, StructureSize 17, sent as 16 bytes with no Buffer byte
// (Windows and Samba both do; decoders must not expect the 17th byte).
// WriteChannelInfoOffset/Length are reserved in a response; they are kept as
// received, not followed.
struct WriteResponse {
  std::uint32_t count = 0;
  std::uint32_t remaining = 0;
  std::uint16_t write_channel_info_offset = 0;
  std::uint16_t write_channel_info_length = 0;
};

Expected<ReadRequest> decode_read_request(ByteView message);
Expected<ReadResponse> decode_read_response(ByteView message);
Expected<WriteRequest> decode_write_request(ByteView message);
Expected<WriteResponse> decode_write_response(ByteView message);

// The encoders place buffers right after the fixed part. WRITE: DataOffset is
// 0x70 (Samba refuses anything else), or 0 when there is no data and the
// channel is RDMA (ksmbd refuses a non-zero one then); write_channel_info
// follows the data, so with both present 0x70 + data.size() must stay below
// 64 KiB (WriteChannelInfoOffset is 16 bits; RDMA requests carry no data).
// An empty Buffer is sent as the one byte the odd StructureSize counts,
// except in the WRITE response (see above).
void encode(Writer& w, const ReadRequest& m);
void encode(Writer& w, const ReadResponse& m);
void encode(Writer& w, const WriteRequest& m);
void encode(Writer& w, const WriteResponse& m);

// For zero-copy large I/O: write only the fixed part of a WRITE request (48
// bytes) with DataOffset 0x70 and Length = data_length; m.data is not looked
// at. The caller then appends, or scatters after these bytes on the socket,
// exactly data_length bytes of data, and signs or encrypts the whole message.
// Precondition: data_length > 0 and m.write_channel_info is empty (channel
// info would have to follow the data; use encode() for that).
void encode_write_request_prefix(Writer& w, const WriteRequest& m, std::uint32_t data_length);

// Same for a READ response (server side): the 16-byte fixed part with
// DataOffset 0x50 and DataLength = data_length; m.data is not looked at and
// the caller supplies exactly data_length bytes after it. data_length > 0.
void encode_read_response_prefix(Writer& w, const ReadResponse& m, std::uint32_t data_length);

}  // namespace smbx::wire
