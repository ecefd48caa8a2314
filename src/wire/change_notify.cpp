#include "wire/change_notify.hpp"

#include "wire/fscc_chain.hpp"
#include "wire/header.hpp"
#include "wire/output_buffer.hpp"

namespace smbx::wire {

namespace {
constexpr std::uint16_t kRequestStructureSize = 32;
}

// MS-SMB2 2.2.35
Expected<ChangeNotifyRequest> decode_change_notify_request(ByteView message) {
  Reader r = SMBX_TRY(output_buffer::open_body(message, kRequestStructureSize, "CHANGE_NOTIFY request"));
  ChangeNotifyRequest m;
  m.flags = SMBX_TRY(r.u16());
  m.output_buffer_length = SMBX_TRY(r.u32());
  m.file_id = SMBX_TRY(read_file_id(r));
  m.completion_filter = SMBX_TRY(r.u32());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  return m;
}

Expected<ChangeNotifyResponse> decode_change_notify_response(ByteView message) {
  return ChangeNotifyResponse{SMBX_TRY(output_buffer::decode_response(message, "CHANGE_NOTIFY response"))};
}

void encode(Writer& w, const ChangeNotifyRequest& m) {
  w.u16(kRequestStructureSize);
  w.u16(m.flags);
  w.u32(m.output_buffer_length);
  write_file_id(w, m.file_id);
  w.u32(m.completion_filter);
  w.u32(0);  // Reserved
}

void encode(Writer& w, const ChangeNotifyResponse& m) { output_buffer::encode_response(w, m.output_buffer); }

Expected<std::vector<FileNotifyInformation>> decode_file_notify_information(ByteView buffer) {
  std::vector<FileNotifyInformation> out;
  if (buffer.empty()) return out;
  SMBX_TRY_VOID(fscc::walk_entries(buffer, "FILE_NOTIFY_INFORMATION", [&](ByteView entry) -> Expected<void> {
    Reader r{entry, 4};
    FileNotifyInformation change;
    change.action = SMBX_TRY(r.u32());
    const std::uint32_t name_length = SMBX_TRY(r.u32());
    change.file_name = SMBX_TRY(fscc::read_utf16(r, name_length, "FileNameLength"));
    out.push_back(std::move(change));
    return {};
  }));
  return out;
}

void encode_file_notify_information(Writer& w, std::span<const FileNotifyInformation> changes) {
  fscc::write_entries(w, changes, 4, [](Writer& out, const FileNotifyInformation& change) {
    out.u32(change.action);
    out.u32(static_cast<std::uint32_t>(utf16_byte_length(change.file_name)));
    write_utf16le(out, change.file_name);
  });
}

}  // namespace smbx::wire
