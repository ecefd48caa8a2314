#include "wire/simple.hpp"

#include <string>

#include "wire/body_buffer.hpp"
#include "wire/file_times.hpp"
#include "wire/header.hpp"

namespace smbx::wire {
namespace {

constexpr std::uint16_t kEmptyStructureSize = 4;  // StructureSize + Reserved
constexpr std::uint16_t kFileIdRequestStructureSize = 24;
constexpr std::uint16_t kCloseResponseStructureSize = 60;

// The StructureSize-4 bodies: StructureSize and 2 reserved bytes.
template <typename T>
Expected<T> decode_empty(ByteView message, std::string_view what) {
  Reader r{message, kHeaderSize};
  auto check = [&]() -> Expected<T> {
    SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kEmptyStructureSize, what));
    SMBX_TRY_VOID(r.skip(2));  // Reserved
    return T{};
  };
  return with_action(check(), "decode " + std::string{what});
}

void encode_empty(Writer& w) {
  w.u16(kEmptyStructureSize);
  w.u16(0);  // Reserved
}

Expected<FlushRequest> decode_flush_request_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kFileIdRequestStructureSize, "FLUSH request"));
  SMBX_TRY_VOID(r.skip(6));  // Reserved1, Reserved2
  return FlushRequest{SMBX_TRY(read_file_id(r))};
}

Expected<CloseRequest> decode_close_request_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kFileIdRequestStructureSize, "CLOSE request"));
  CloseRequest m;
  m.flags = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  m.file_id = SMBX_TRY(read_file_id(r));
  return m;
}

Expected<CloseResponse> decode_close_response_body(ByteView message) {
  Reader r{message, kHeaderSize};
  SMBX_TRY_VOID(expect_structure_size(SMBX_TRY(r.u16()), kCloseResponseStructureSize, "CLOSE response"));
  CloseResponse m;
  m.flags = SMBX_TRY(r.u16());
  SMBX_TRY_VOID(r.skip(4));  // Reserved
  SMBX_TRY_VOID(read_times_sizes_attributes(r, m));
  return m;
}

}  // namespace

Expected<LogoffRequest> decode_logoff_request(ByteView message) {
  return decode_empty<LogoffRequest>(message, "LOGOFF request");
}
Expected<LogoffResponse> decode_logoff_response(ByteView message) {
  return decode_empty<LogoffResponse>(message, "LOGOFF response");
}
Expected<TreeDisconnectRequest> decode_tree_disconnect_request(ByteView message) {
  return decode_empty<TreeDisconnectRequest>(message, "TREE_DISCONNECT request");
}
Expected<TreeDisconnectResponse> decode_tree_disconnect_response(ByteView message) {
  return decode_empty<TreeDisconnectResponse>(message, "TREE_DISCONNECT response");
}
Expected<EchoRequest> decode_echo_request(ByteView message) {
  return decode_empty<EchoRequest>(message, "ECHO request");
}
Expected<EchoResponse> decode_echo_response(ByteView message) {
  return decode_empty<EchoResponse>(message, "ECHO response");
}
Expected<CancelRequest> decode_cancel_request(ByteView message) {
  return decode_empty<CancelRequest>(message, "CANCEL request");
}
Expected<FlushResponse> decode_flush_response(ByteView message) {
  return decode_empty<FlushResponse>(message, "FLUSH response");
}
Expected<FlushRequest> decode_flush_request(ByteView message) {
  return with_action(decode_flush_request_body(message), "decode FLUSH request");
}
Expected<CloseRequest> decode_close_request(ByteView message) {
  return with_action(decode_close_request_body(message), "decode CLOSE request");
}
Expected<CloseResponse> decode_close_response(ByteView message) {
  return with_action(decode_close_response_body(message), "decode CLOSE response");
}

void encode(Writer& w, const LogoffRequest&) { encode_empty(w); }
void encode(Writer& w, const LogoffResponse&) { encode_empty(w); }
void encode(Writer& w, const TreeDisconnectRequest&) { encode_empty(w); }
void encode(Writer& w, const TreeDisconnectResponse&) { encode_empty(w); }
void encode(Writer& w, const EchoRequest&) { encode_empty(w); }
void encode(Writer& w, const EchoResponse&) { encode_empty(w); }
void encode(Writer& w, const CancelRequest&) { encode_empty(w); }
void encode(Writer& w, const FlushResponse&) { encode_empty(w); }

void encode(Writer& w, const FlushRequest& m) {
  w.u16(kFileIdRequestStructureSize);
  w.zeros(6);  // Reserved1, Reserved2
  write_file_id(w, m.file_id);
}

void encode(Writer& w, const CloseRequest& m) {
  w.u16(kFileIdRequestStructureSize);
  w.u16(m.flags);
  w.u32(0);  // Reserved
  write_file_id(w, m.file_id);
}

void encode(Writer& w, const CloseResponse& m) {
  w.u16(kCloseResponseStructureSize);
  w.u16(m.flags);
  w.u32(0);  // Reserved
  write_times_sizes_attributes(w, m);
}

}  // namespace smbx::wire
