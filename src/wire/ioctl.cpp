#include "wire/ioctl.hpp"

#include <algorithm>
#include <cassert>
#include <string>

#include "wire/body_buffer.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::size_t kRequestFixedSize = kIoctlRequestStructureSize - 1;    // 56
constexpr std::size_t kResponseFixedSize = kIoctlResponseStructureSize - 1;  // 48

bool same_bytes(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

Expected<IoctlRequest> decode_request(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kIoctlRequestStructureSize, "IOCTL request"));
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  IoctlRequest m;
  m.ctl_code = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  const auto input_offset = SMBX_TRY(r.u32());
  const auto input_count = SMBX_TRY(r.u32());
  m.max_input_response = SMBX_TRY(r.u32());
  const auto output_offset = SMBX_TRY(r.u32());
  const auto output_count = SMBX_TRY(r.u32());
  m.max_output_response = SMBX_TRY(r.u32());
  m.flags = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved2
  constexpr std::size_t buffer_start = kHeaderSize + kRequestFixedSize;
  m.input = SMBX_TRY(body_buffer(r, "InputOffset", input_offset, "InputCount", input_count, buffer_start));
  m.output = SMBX_TRY(body_buffer(r, "OutputOffset", output_offset, "OutputCount", output_count, buffer_start));
  return m;
}

Expected<IoctlResponse> decode_response(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kIoctlResponseStructureSize, "IOCTL response"));
  SMBX_TRY_VOID(r.skip(2));  // Reserved
  IoctlResponse m;
  m.ctl_code = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  const auto input_offset = SMBX_TRY(r.u32());
  const auto input_count = SMBX_TRY(r.u32());
  const auto output_offset = SMBX_TRY(r.u32());
  const auto output_count = SMBX_TRY(r.u32());
  m.flags = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved2
  constexpr std::size_t buffer_start = kHeaderSize + kResponseFixedSize;
  m.input = SMBX_TRY(body_buffer(r, "InputOffset", input_offset, "InputCount", input_count, buffer_start));
  m.output = SMBX_TRY(body_buffer(r, "OutputOffset", output_offset, "OutputCount", output_count, buffer_start));
  return m;
}

}  // namespace

bool IoctlRequest::operator==(const IoctlRequest& o) const {
  return ctl_code == o.ctl_code && file_id == o.file_id && same_bytes(input, o.input) &&
         max_input_response == o.max_input_response && same_bytes(output, o.output) &&
         max_output_response == o.max_output_response && flags == o.flags;
}

bool IoctlResponse::operator==(const IoctlResponse& o) const {
  return ctl_code == o.ctl_code && file_id == o.file_id && same_bytes(input, o.input) &&
         same_bytes(output, o.output) && flags == o.flags;
}

Expected<IoctlRequest> decode_ioctl_request(ByteView message) {
  return with_action(decode_request(message), "decode IOCTL request");
}

Expected<IoctlResponse> decode_ioctl_response(ByteView message) {
  return with_action(decode_response(message), "decode IOCTL response");
}

void encode(Writer& w, const IoctlRequest& m) {
  const auto buffer_start = w.offset() + kRequestFixedSize;
  // Samba puts OutputOffset at the buffer start when there is no output
  // (captures); otherwise the output follows the input, 8-aligned.
  const auto output_offset = m.output.empty() ? buffer_start : align8(buffer_start + m.input.size());
  assert(output_offset + m.output.size() <= 0xFFFF'FFFF);
  w.u16(kIoctlRequestStructureSize);
  w.u16(0);  // Reserved
  w.u32(m.ctl_code);
  write_file_id(w, m.file_id);
  w.u32(static_cast<std::uint32_t>(buffer_start));
  w.u32(static_cast<std::uint32_t>(m.input.size()));
  w.u32(m.max_input_response);
  w.u32(static_cast<std::uint32_t>(output_offset));
  w.u32(static_cast<std::uint32_t>(m.output.size()));
  w.u32(m.max_output_response);
  w.u32(m.flags);
  w.u32(0);  // Reserved2
  w.bytes(m.input);
  if (!m.output.empty()) {
    w.align(8);
    w.bytes(m.output);
  }
  if (m.input.empty() && m.output.empty()) w.u8(0);  // MS-SMB2 2.2.31: at least one Buffer byte
}

void encode(Writer& w, const IoctlResponse& m) {
  const auto buffer_start = w.offset() + kResponseFixedSize;
  // MS-SMB2 3.3.5.15.6.2: OutputOffset = InputOffset + InputCount, rounded up to 8.
  const auto output_offset = align8(buffer_start + m.input.size());
  assert(output_offset + m.output.size() <= 0xFFFF'FFFF);
  w.u16(kIoctlResponseStructureSize);
  w.u16(0);  // Reserved
  w.u32(m.ctl_code);
  write_file_id(w, m.file_id);
  w.u32(static_cast<std::uint32_t>(buffer_start));
  w.u32(static_cast<std::uint32_t>(m.input.size()));
  w.u32(static_cast<std::uint32_t>(output_offset));
  w.u32(static_cast<std::uint32_t>(m.output.size()));
  w.u32(m.flags);
  w.u32(0);  // Reserved2
  w.bytes(m.input);
  if (!m.output.empty()) {
    w.align(8);
    w.bytes(m.output);
  }
}

}  // namespace smbx::wire
